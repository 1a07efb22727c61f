"""The migration steps, one module each: `m<NNNN>_<what>.py` with a docstring and `up(ctx)`."""
