"""The Merkle tree over the ledger, its node store, and signed checkpoints."""
