"""The tutoring domain: settings, providers, retrieval, the turn engine, grading and progress."""
