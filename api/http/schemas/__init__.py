"""Request and response schemas of the HTTP API (never the domain's events)."""
