"""The tutor chat: one student message in, a stream of typed events out, everything recorded."""
