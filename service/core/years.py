"""Programme years in URLs (`/years/{year}/...`, `/regions/{code}/years/{year}/...`).

The range is the programme's, `PROGRAMME_YEAR_MIN`..`PROGRAMME_YEAR_MAX` (schemas/base.py: the
same bounds as a programme's `year` and the `?year=` filters). The `year` URL converter takes ASCII
digits only (werkzeug's `int` converter also takes `٢٠٢٦`, which Python's int() reads as 2026) and
answers a year outside the range as a 422 field error naming `year`, as `?year=` does, instead of
the 404 of a path that matches nothing; it is answered before the login check.
"""

from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import BaseConverter

from schemas.base import PROGRAMME_YEAR_MAX, PROGRAMME_YEAR_MESSAGE, PROGRAMME_YEAR_MIN


class YearOutOfRange(UnprocessableEntity):
    """Raised while routing: service.core.errors reads `data["messages"]` as the field map."""

    def __init__(self):
        super().__init__()
        self.data = {"messages": {"path": {"year": [PROGRAMME_YEAR_MESSAGE]}}}


class YearConverter(BaseConverter):
    regex = "[0-9]+"

    def to_python(self, value):
        year = int(value) if len(value) <= 6 else None  # 20 digits: out of range, not parsed
        if year is None or not PROGRAMME_YEAR_MIN <= year <= PROGRAMME_YEAR_MAX:
            raise YearOutOfRange()
        return year

    def to_url(self, value):
        return str(int(value))


def year_parameter_schema(converter):
    """The OpenAPI schema of a `year` path parameter (flask-smorest's register_converter)."""
    return {"type": "integer", "minimum": PROGRAMME_YEAR_MIN, "maximum": PROGRAMME_YEAR_MAX}
