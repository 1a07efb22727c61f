"""Personal data in an append-only ledger: sealed per person, found by keyed blind indexes,
erased by destroying one key (`docs/privacy.md`)."""
