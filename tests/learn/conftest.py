"""The chat course of tests/chat (a real PDF, ingested into Chroma) for the student page's browser test."""

from tests.chat.conftest import course  # noqa: F401
