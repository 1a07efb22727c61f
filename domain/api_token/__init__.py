"""The ApiToken aggregate: a bearer token of the HTTP API, granted and revoked (no secret)."""
