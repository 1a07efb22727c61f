"""Enterprise overview: the four filings, the review, keys and card holders of one enterprise."""
