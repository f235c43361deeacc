"""Beijing time at the edges: stored UTC, reasoned about in Asia/Shanghai."""

import contextlib
import contextvars
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


# Offset the service clock (`service.core.db.utcnow`) applies in this context only. The demo
# seed replays months of history through the services (registration before its deadline,
# check-in inside its window), so every rule holds on the data it builds; requests, served in
# other threads and contexts, never see an offset.
_clock_offset = contextvars.ContextVar("clock_offset", default=None)


def clock_offset():
    return _clock_offset.get()


@contextlib.contextmanager
def replaying(moment):
    """Within the block, `utcnow()` runs from `moment` (an aware datetime) instead of now."""
    token = _clock_offset.set(moment - dt.datetime.now(UTC))
    try:
        yield
    finally:
        _clock_offset.reset(token)
