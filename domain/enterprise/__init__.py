"""The Enterprise aggregate: registration, the four filings, review, changes, the free pair."""
