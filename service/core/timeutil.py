"""Beijing time at the edges: stored UTC, reasoned about in Asia/Shanghai."""

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc


def beijing_midnight(day):
    """00:00 Beijing time of `day` (a date or 'YYYY-MM-DD'), as a UTC datetime."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return dt.datetime.combine(day, dt.time(), tzinfo=BEIJING).astimezone(UTC)


def beijing_date(moment):
    """The Beijing calendar date of a UTC (or aware) datetime."""
    return moment.astimezone(BEIJING).date()


def as_utc(moment):
    if moment.tzinfo is None:  # pymongo without tz_aware, or a naive value from a test
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
