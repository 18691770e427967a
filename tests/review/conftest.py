"""The chat course of tests/chat, and an app whose review clock the test moves forward by hand."""

from tests.chat.conftest import course  # noqa: F401
from tests.clocked import clock, clocked_client  # noqa: F401
