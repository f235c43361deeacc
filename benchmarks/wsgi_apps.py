"""WSGI apps the benchmarks run under gunicorn: our service, and a bare Flask baseline.

Both read MONGODB_URI / MONGODB_DB from the environment, so they use the same database server.
"""

import os


def service_app():
    from service.app import create_app

    return create_app({"ENSURE_INDEXES_ON_START": False})


def bare_app():
    """One POST endpoint doing one insert_one with the same client settings as the service."""
    import flask
    import pymongo

    app = flask.Flask("bare")
    state = {}

    def collection():
        # One client per process, created after gunicorn forks (as the service does).
        if state.get("pid") != os.getpid():
            client = pymongo.MongoClient(os.environ["MONGODB_URI"], tz_aware=True, w="majority")
            state.update(pid=os.getpid(), collection=client[os.environ["MONGODB_DB"]]["bare_inserts"])
        return state["collection"]

    @app.post("/bare")
    def bare():
        body = flask.request.get_json()
        doc = {"user": body["user"], "code": body["code"]}
        collection().insert_one(doc)
        return {"result": "ok", "id": str(doc["_id"])}

    return app
