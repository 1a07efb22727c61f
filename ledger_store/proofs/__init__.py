"""Pure proof checking: everything needed to check the ledger's evidence, and nothing stored.

- :mod:`~ledger_store.proofs.chain`: a ledger entry, its entry and chain hashes, and the one
  chain walk (:func:`~ledger_store.proofs.chain.verify_chain`).
- :mod:`~ledger_store.proofs.merkle_verify`: RFC 9162 hashing and proof verification, the
  verifier's half, copyable on its own (hashlib only).
- :mod:`~ledger_store.proofs.merkle`: RFC 9162 trees, the prover's half: reference functions,
  proofs from stored nodes, the one append accumulator.
- :mod:`~ledger_store.proofs.checkpoint`: signed checkpoints, key ids and public keys.
- :mod:`~ledger_store.proofs.export_format`: the export line of one entry.

Here "verify" means checking evidence (a chain, a proof, a signature). Imports only the
standard library, ``cryptography`` and ``orjson`` (a test holds it to that); storage is
:mod:`ledger_store.transparency`, auditors' tools built on this are :mod:`replay`.
"""
