"""`lingjun` console command: serve, worker, init-db, users create, openapi.

Every refusal is one line on stderr without a traceback: configuration refusals (all of them at
once) and an embedded data directory held by a live service exit with 2, anything else that stops
a command with 1. Times are printed in Beijing time.
"""

import json
import logging
import os
import signal
import socket
import threading
import time

import click
import pymongo.errors

from service import config as config_module
from service.core import embedded
from service.core.timeutil import BEIJING

log = logging.getLogger("lingjun")

DEMO_DB_SUFFIX = "_demo"
JOBS_STOP_SECONDS = 1.0  # the background jobs finish the message in hand, the rest stay queued
GRACEFUL_SECONDS = 1  # gunicorn: in-flight requests may finish this long after a stop signal


def _refuse(message, code=1):
    click.echo(f"lingjun: {message}", err=True)
    raise click.exceptions.Exit(code)


class _BeforeLogging(logging.StreamHandler):
    """What a command logs before the app sets up logging (the embedded database's notes: a
    cleared address, waiting for a service's database) as whole `lingjun: …` lines on stderr,
    like its refusals; silent once the app's own handler (Beijing-time stamps) is there."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("lingjun: %(message)s"))
        self.setLevel(logging.WARNING)

    def emit(self, record):
        if not any(getattr(h, "_lingjun", False) for h in logging.getLogger().handlers):
            super().emit(record)


class _Refusing(click.Group):
    """Turns the errors a person can fix into one line each, never a traceback."""

    def invoke(self, ctx):
        from service.core.errors import AppError

        root = logging.getLogger()
        if not any(isinstance(h, _BeforeLogging) for h in root.handlers):
            root.addHandler(_BeforeLogging())
        try:
            return super().invoke(ctx)
        except config_module.ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"lingjun: {exc.heading}: {problem}", err=True)
            raise click.exceptions.Exit(2) from None
        except embedded.EmbeddedError as exc:
            _refuse(str(exc), exc.exit_code)
        except pymongo.errors.ServerSelectionTimeoutError:
            if not os.environ.get("MONGODB_URI"):  # the embedded server, found or started here
                _refuse("the embedded database stopped answering (its service stopped meanwhile?): "
                        "run the command again, or set EMBEDDED_DATA_DIR to another directory")
            _refuse("cannot reach the database at MONGODB_URI: start MongoDB, check the address, "
                    "or unset MONGODB_URI to use the embedded database")
        except pymongo.errors.PyMongoError as exc:
            _refuse(f"the database refused: {type(exc).__name__}: {str(exc).splitlines()[0][:200]} "
                    "(check MONGODB_URI and its credentials)")
        except AppError as exc:
            details = f" {exc.errors}" if exc.errors else ""
            _refuse(f"{exc.code}: {exc.message}{details}")


def _running_service(settings):
    """The address of the live service holding the embedded data directory, or None."""
    if settings["MONGODB_URI"]:
        return None
    return embedded.running(settings["EMBEDDED_DATA_DIR"])


def _joined_settings(address):
    """What a process beside a running service takes from it: its database server, its database
    (the demo's, `<MONGODB_DB>_demo`, beside `serve --demo`) and the demo's fake WeChat, so the
    demo's logins and tokens work the same. A variable set in the environment wins
    (`MONGODB_DB=lingjun lingjun users create …` writes to the lasting database beside a demo)."""
    overrides = {"MONGODB_URI": address["uri"]}
    if address.get("database") and not os.environ.get("MONGODB_DB"):
        overrides["MONGODB_DB"] = address["database"]
    if address.get("wechat_api_base") and not os.environ.get("WECHAT_API_BASE"):
        from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET

        overrides.update(WECHAT_API_BASE=address["wechat_api_base"], WECHAT_APPID=FAKE_APPID,
                         WECHAT_SECRET=FAKE_SECRET)
    return overrides


def _make_app(overrides=None):
    from service.app import create_app

    address = _running_service(config_module.load())
    return create_app({**(_joined_settings(address) if address else {}), **(overrides or {})})


def _warn_if_demo_database(name):
    """Beside `serve --demo` a command writes to the demo's database, which the next demo start drops."""
    if name.endswith(DEMO_DB_SUFFIX):
        click.echo(f"lingjun: note: “{name}” is the demo database: the next `lingjun serve --demo` drops it and "
                   f"builds it afresh, and what this command wrote with it. For a lasting account run it with "
                   f"MONGODB_DB={name[:-len(DEMO_DB_SUFFIX)]} (or with the demo stopped)", err=True)


def beijing(moment):
    """A stored UTC time as the API shows it: Beijing time with its offset."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M 北京时间 (UTC+08:00)")


@click.group(cls=_Refusing)
def main():
    """SME leader training mini-program backend (中小企业经营管理领军人才培训)."""


def _check_port(host, port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            _refuse(f"{host}:{port} is already in use (another `lingjun serve`?): stop it or pass --port")


def _preview_settings(demo):
    """The settings serve will run with, checked before anything starts (all problems at once)."""
    overrides = {}
    if demo:
        from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET

        overrides["DEMO"] = True
        if not os.environ.get("WECHAT_API_BASE"):
            overrides.update(WECHAT_API_BASE="http://127.0.0.1/", WECHAT_APPID=FAKE_APPID, WECHAT_SECRET=FAKE_SECRET)
    return config_module.load(overrides)


def _start_demo(settings, uri):
    """Fake WeChat, and a fresh demo database (`<MONGODB_DB>_demo`, dropped first): the demo is
    always built relative to its start; the service's own database is never touched."""
    from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat

    overrides, fake = {"MONGODB_DB": settings["MONGODB_DB"] + DEMO_DB_SUFFIX}, None
    if not os.environ.get("WECHAT_API_BASE"):
        fake = FakeWeChat().start()
        overrides.update(WECHAT_API_BASE=fake.api_base, WECHAT_APPID=FAKE_APPID, WECHAT_SECRET=FAKE_SECRET)
        click.echo(f"Fake WeChat running at {fake.api_base} (login codes: see README)")
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=settings["MONGODB_SERVER_SELECTION_TIMEOUT_MS"])
    try:
        client.drop_database(overrides["MONGODB_DB"])
    finally:
        client.close()
    return overrides, fake


def _gunicorn(app, *, host, port, workers, threads):
    from gunicorn.app.base import BaseApplication

    from service import gunicorn_conf

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", GRACEFUL_SECONDS)
            # gthread workers wait this long on an idle keep-alive connection; shorter than the
            # default 2 s so that stopping does not wait on a browser's open connection.
            self.cfg.set("keepalive", 1)
            self.cfg.set("post_worker_init", gunicorn_conf.post_worker_init)
            self.cfg.set("pre_fork", gunicorn_conf.pre_fork)
            self.cfg.set("logger_class", gunicorn_conf.logger_class)
            for name in ("limit_request_line", "limit_request_field_size", "limit_request_fields"):
                self.cfg.set(name, getattr(gunicorn_conf, name))
            for name, value in gunicorn_conf.control_settings().items():
                if name in self.cfg.settings:  # gunicorn >= 25.1 has a control socket
                    self.cfg.set(name, value)

        def load(self):
            return app

    return _Server()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed a fresh demo year (own database) and run the fake WeChat in-process.")
@click.option("--no-worker", is_flag=True, help="Do not run the background jobs (outbox, closing sessions) here.")
def serve(host, port, workers, threads, demo, no_worker):
    """Start the service under gunicorn (embedded database when MONGODB_URI is unset)."""
    settings = _preview_settings(demo)
    _check_port(host, port)
    # Links (certificate QR, projector page) use this address unless PUBLIC_BASE_URL is set.
    overrides = {} if settings["PUBLIC_BASE_URL"] else {"PUBLIC_BASE_URL": f"http://{host}:{port}"}
    joined = _running_service(settings)
    if joined is not None:
        service = f"pid {joined.get('owner_pid')}" + (f", {joined['url']}" if joined.get("url") else "")
        if demo:
            _refuse(f"a service ({service}) already runs on the embedded database in "
                    f"{os.path.abspath(settings['EMBEDDED_DATA_DIR'])} and `serve --demo` would rebuild the "
                    f"demo database under it: stop that service first, or run `lingjun serve --port {port}` "
                    "without --demo to join it, or set EMBEDDED_DATA_DIR to another directory")
        overrides.update(_joined_settings(joined))
        fake_wechat = f", fake WeChat at {overrides['WECHAT_API_BASE']}" if joined.get("wechat_api_base") else ""
        click.echo(f"Joining the running service ({service}): its embedded database, database "
                   f"“{overrides.get('MONGODB_DB', settings['MONGODB_DB'])}”{fake_wechat}; stopping this "
                   "process leaves them running, stopping that service stops them")
    elif not settings["MONGODB_URI"]:
        # Started here, before gunicorn forks, so all workers share one database server.
        overrides["MONGODB_URI"] = embedded.ensure_started(settings["EMBEDDED_DATA_DIR"],
                                                           restart_attempts=settings["EMBEDDED_RESTART_ATTEMPTS"])
    fake = None
    if demo:
        demo_overrides, fake = _start_demo(settings, overrides.get("MONGODB_URI") or settings["MONGODB_URI"])
        overrides.update(demo_overrides)
    master = os.getpid()
    try:
        _serve(overrides, settings, host=host, port=port, workers=workers, threads=threads, demo=demo,
               no_worker=no_worker, fake=fake)
    finally:
        # A gunicorn worker leaves through here too (it was forked inside run()): only the master
        # owns the fake WeChat and the database server.
        if os.getpid() == master:
            from service.core.db import mongo

            started = time.monotonic()
            # A dead server has nothing to be told: closing would wait for it (endSessions).
            if embedded.alive() is not False:
                mongo.close_all()  # while their server still answers (see embedded.uri_for)
            stopping_fake = threading.Thread(target=fake.stop) if fake else None
            if stopping_fake:  # its poll loop takes up to 0.5 s to notice: meanwhile the database stops
                stopping_fake.start()
            stopped = ["the fake WeChat"] if fake else []
            database = embedded.stop()  # only a server this process started
            if database == "stopped":
                stopped.append("the embedded database")
            if stopping_fake:
                stopping_fake.join()
            if stopped:
                log.info("stopped %s in %.2f s", " and ".join(stopped), time.monotonic() - started)
            if database == "gone":
                log.warning("the embedded database had already stopped (killed or crashed): nothing to stop")
            if joined is not None:
                log.info("left the database%s of the service pid %s running (it owns them)",
                         " and the fake WeChat" if joined.get("wechat_api_base") else "", joined.get("owner_pid"))


def _serve(overrides, settings, *, host, port, workers, threads, demo, no_worker, fake):
    from service.app import create_app

    app = create_app(overrides)
    base_url = f"http://{host}:{port}"
    if not settings["MONGODB_URI"]:  # for the commands and processes run beside this one
        embedded.announce(settings["EMBEDDED_DATA_DIR"], database=app.config["MONGODB_DB"], demo=demo, url=base_url,
                          **({"wechat_api_base": fake.api_base} if fake else {}))
    if demo:
        from service import demo as demo_data

        with app.app_context():
            started = time.monotonic()
            demo_data.seed()
            click.echo(f"Demo database “{app.config['MONGODB_DB']}” built afresh in "
                       f"{time.monotonic() - started:.1f} s (rebuilt at every `serve --demo`)")
            click.echo(demo_data.summary(base_url))

    stop_jobs = thread = imports = None
    if not no_worker:
        # Runs in the gunicorn master; forked workers do not inherit the thread.
        from service.worker import start_background

        stop_jobs, thread, imports = start_background(app, interval=app.config["WORKER_INTERVAL_SECONDS"])

    click.echo(f"Serving on {base_url}  (API docs: {base_url}/api/v1/docs)")
    master = os.getpid()
    try:
        _gunicorn(app, host=host, port=port, workers=workers, threads=threads).run()
    finally:
        if stop_jobs is not None and os.getpid() == master:
            started = time.monotonic()
            stop_jobs.set()
            if embedded.alive() is False:  # our database died: a round in hand waits for it in vain
                log.info("background jobs left without waiting: their database is down")
            else:
                from service.worker import join_imports

                thread.join(JOBS_STOP_SECONDS)
                join_imports(imports)  # the import in hand fails INTERRUPTED while the database answers
                log.info("background jobs stopped in %.2f s%s", time.monotonic() - started,
                         "" if not thread.is_alive() else " (a message in hand is retried after its lease)")


@main.command("init-db")
def init_db():
    """Create every collection's indexes, drop retired ones and migrate older data (idempotent)."""
    app = _make_app()
    click.echo(f"indexes created, retired indexes dropped, data migrated (database {app.config['MONGODB_DB']})")


@main.group()
def users():
    """Staff accounts."""


@users.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "province_staff", "supervisor"]))
@click.option("--region", "region_code", default=None, help="GB/T 2260 code (province staff)")
@click.option("--class-id", "class_ids", multiple=True, help="class id (supervisors; repeatable)")
def users_create(name, role, region_code, class_ids):
    """Create a staff account and print its one-time binding code."""
    from bson import ObjectId
    from bson.errors import InvalidId

    from service.staff import service as staff_service

    try:
        class_ids = [ObjectId(c) for c in class_ids]
    except InvalidId as exc:
        _refuse(f"--class-id: {exc}")
    app = _make_app()
    with app.app_context():
        account, code = staff_service.create(name=name, role=role, region_code=region_code, class_ids=class_ids)
    click.echo(f"staff account {account['_id']} ({role}) created in database “{app.config['MONGODB_DB']}”")
    click.echo(f"binding code: {code}  (single use, expires {beijing(account['binding']['expires_at'])})")
    _warn_if_demo_database(app.config["MONGODB_DB"])


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs that are due now and exit.")
def worker(once):
    """Background jobs: send outbox messages, close ended sessions, registry imports (production runs this alone)."""
    from service.worker import (join_imports, run_forever, run_imports_once, run_once, run_read_model_once,
                                start_imports, start_read_model)

    app = _make_app()
    if once:
        click.echo({**run_once(app), "registry_import": run_imports_once(app),
                    "report_read_model": run_read_model_once(app)})
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    imports = start_imports(app, interval=app.config["WORKER_INTERVAL_SECONDS"], stop=stop)
    start_read_model(app, interval=app.config["WORKER_INTERVAL_SECONDS"], stop=stop)
    run_forever(app, interval=app.config["WORKER_INTERVAL_SECONDS"], stop=stop)
    join_imports(imports)


@main.command()
@click.option("--output", "-o", default="openapi.json", show_default=True)
def openapi(output):
    """Write the OpenAPI document to a file (needs no database)."""
    from service.app import create_app

    # Only the routes and schemas matter: no database, and no production checks on settings
    # the document does not contain.
    app = create_app({"ENSURE_INDEXES_ON_START": False, "APP_ENV": "development"})
    spec = app.extensions["api"].spec.to_dict()
    with open(output, "w", encoding="utf-8") as fh:
        json.dump(spec, fh, ensure_ascii=False, indent=2)
    click.echo(f"wrote {output} ({len(spec['paths'])} paths)")


if __name__ == "__main__":
    main()
