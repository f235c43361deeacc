"""`lingjun` console command: serve, init-db, users create, openapi."""

import json
import logging
import os

import click

from service import config as config_module
from service.core import embedded

log = logging.getLogger("lingjun")


def _make_app(overrides=None):
    from service.app import create_app

    return create_app(overrides or {})


@click.group()
def main():
    """SME leader training mini-program backend (中小企业经营管理领军人才培训)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed a demo year and run the fake WeChat in-process.")
@click.option("--no-worker", is_flag=True, help="Do not run the background jobs (outbox, closing sessions) here.")
def serve(host, port, workers, threads, demo, no_worker):
    """Start the service under gunicorn (embedded database when MONGODB_URI is unset)."""
    settings = config_module.load()
    # Links (certificate QR, projector page) use this address unless PUBLIC_BASE_URL is set.
    overrides = {} if settings["PUBLIC_BASE_URL"] else {"PUBLIC_BASE_URL": f"http://{host}:{port}"}
    if not settings["MONGODB_URI"]:
        # Started here, before gunicorn forks, so all workers share one database server.
        overrides["MONGODB_URI"] = embedded.ensure_started(settings["EMBEDDED_DATA_DIR"])
    fake = None
    if demo:
        from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat

        if not os.environ.get("WECHAT_API_BASE"):
            fake = FakeWeChat().start()
            overrides.update(WECHAT_API_BASE=fake.api_base, WECHAT_APPID=FAKE_APPID,
                             WECHAT_SECRET=FAKE_SECRET)
            click.echo(f"Fake WeChat running at {fake.api_base} (login codes: see README)")
    app = _make_app(overrides)
    if demo:
        from service.demo import seed

        with app.app_context():
            summary = seed()
        click.echo(summary)

    if not no_worker:
        # Runs in the gunicorn master; forked workers do not inherit the thread.
        from service.worker import start_background

        start_background(app, interval=app.config["WORKER_INTERVAL_SECONDS"])

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
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("post_worker_init", gunicorn_conf.post_worker_init)
            for name in ("limit_request_line", "limit_request_field_size", "limit_request_fields"):
                self.cfg.set(name, getattr(gunicorn_conf, name))

        def load(self):
            return app

    click.echo(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    try:
        _Server().run()
    finally:
        if fake:
            fake.stop()


@main.command("init-db")
def init_db():
    """Create every collection's indexes and drop retired ones (idempotent)."""
    _make_app()
    click.echo("indexes created, retired indexes dropped")


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

    from service.core.errors import AppError
    from service.staff import service as staff_service

    app = _make_app()
    with app.app_context():
        try:
            account, code = staff_service.create(
                name=name, role=role, region_code=region_code,
                class_ids=[ObjectId(c) for c in class_ids])
        except AppError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message} {exc.errors or ''}")
    click.echo(f"staff account {account['_id']} ({role}) created")
    click.echo(f"binding code: {code}  (single use, expires {account['binding']['expires_at']:%Y-%m-%d %H:%M} UTC)")


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs that are due now and exit.")
def worker(once):
    """Background jobs: send outbox messages, close ended sessions (production runs this alone)."""
    from service.worker import run_forever, run_once

    app = _make_app()
    if once:
        click.echo(run_once(app))
        return
    run_forever(app, interval=app.config["WORKER_INTERVAL_SECONDS"])


@main.command()
@click.option("--output", "-o", default="openapi.json", show_default=True)
def openapi(output):
    """Write the OpenAPI document to a file."""
    app = _make_app({"ENSURE_INDEXES_ON_START": False})
    spec = app.extensions["api"].spec.to_dict()
    with open(output, "w", encoding="utf-8") as fh:
        json.dump(spec, fh, ensure_ascii=False, indent=2)
    click.echo(f"wrote {output} ({len(spec['paths'])} paths)")


if __name__ == "__main__":
    main()
