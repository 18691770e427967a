"""Mastery per topic and spaced review per question: what a student knows, and what is due again when."""
