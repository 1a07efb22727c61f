"""The event store: recorders, the stored form of events, the chained append, pools, settings."""
