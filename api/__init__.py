"""The HTTP face: the FastAPI app factory, thin routers, the SSE adapter, the CLI."""
