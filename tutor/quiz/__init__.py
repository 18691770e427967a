"""Quizzes: reading a student's answer, attempts kept in PostgreSQL, grading, and learning progress."""
