"""HTTP adapter: FastAPI app, git smart HTTP, JSON API, (later) web pages."""
