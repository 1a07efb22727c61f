"""The view engine: runner, rebuild, rows, positions, read-your-writes, the worker."""
