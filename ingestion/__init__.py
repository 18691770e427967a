"""Everything between an uploaded PDF and a ready course, and the Celery app that runs it."""
