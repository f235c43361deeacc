"""The API blueprint: flask-smorest's, with each argument schema built once per route."""

import flask_smorest
from marshmallow import Schema

from service.core.request_body import RequestParser


class Blueprint(flask_smorest.Blueprint):
    # JSON bodies are read through service.core.request_body (limits, surrogates, error shapes).
    ARGUMENTS_PARSER = RequestParser()

    def arguments(self, schema, *args, **kwargs):
        # Given a schema *class*, webargs builds a new instance on every request (a deep copy of
        # every field, about 0.3 ms). One instance per route serves all requests: loading keeps
        # no state on the schema.
        if isinstance(schema, type) and issubclass(schema, Schema):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
