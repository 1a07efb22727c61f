"""Versioned migrations of the ledger's database: every table the project owns, in order.

`runner.migrate(database)` brings a database to the latest version and
`runner.schema_status(database)` says where it stands; `versions/` holds the steps themselves.
"""
