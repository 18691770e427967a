"""Typed SQLAlchemy models of the seed schema, the async engine and sessions, and embedded PostgreSQL."""
