"""Command deciders, grouped by aggregate: plain functions of a Reader and the command."""
