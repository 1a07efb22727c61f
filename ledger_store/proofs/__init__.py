"""Pure verification: chain hashing and walk, RFC 9162 Merkle proofs, checkpoint and export formats.

Imports only the standard library, `cryptography` and `orjson` (a test holds it to that).
"""
