"""The UKey aggregate: a UKEY (IC card or IKEY) from issue to void."""
