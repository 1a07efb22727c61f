"""The expiry calendar: keys by the day their certificate expires."""
