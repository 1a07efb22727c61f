"""The Ledger: commands decided by plain functions, appended with the hash chain."""
