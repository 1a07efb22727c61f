"""The window's work queue: a query over the key-status and overview tables."""
