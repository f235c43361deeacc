"""Rates and shares as every report and answer shows them."""


def share(part, whole):
    """part / whole to four decimals (0.8333); None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None
