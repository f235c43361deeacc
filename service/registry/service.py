"""PLACEHOLDER until the registry feature lands: look-ups used by registration."""

from service.core.db import collection


def find_valid_title(*, credit_code, title, on_date):
    """The registry entry whose validity covers `on_date`, or None."""
    day = on_date.isoformat()
    return collection("enterprises").find_one({"credit_code": credit_code, "title": title,
                                               "valid_from": {"$lte": day}, "valid_until": {"$gte": day}})
