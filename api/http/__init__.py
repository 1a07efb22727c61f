"""The HTTP API (FastAPI): routes, schemas, authentication, errors, middleware."""
