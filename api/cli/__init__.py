"""The `eport-ledger` command line: one module per sub-command group."""
