"""Answers a student can trust: quoted from the course (quoting), or generated and checked sentence by sentence."""
