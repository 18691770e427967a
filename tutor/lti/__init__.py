"""LTI 1.3 tool: platforms an admin registers, launches that sign LMS users in, deep linking, and the LTI
Advantage services (grades back to the LMS, the course roster)."""
