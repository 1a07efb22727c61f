"""The Erasure aggregate: a data subject's personal data erased (删除权, PIPL Art. 47)."""
