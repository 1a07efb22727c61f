"""Audit trail: every event per stream with actor, time, ledger index and hashes."""
