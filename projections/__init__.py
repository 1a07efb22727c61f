"""Read models (views) of the ledger and the runner that keeps them current exactly once."""
