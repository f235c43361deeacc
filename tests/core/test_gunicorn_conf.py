"""The gunicorn worker hook takes the loaded application's objects out of garbage collection."""

import gc

from service.gunicorn_conf import post_worker_init


def test_worker_init_freezes_what_is_loaded(app):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000  # the app and its libraries, not a handful
    finally:
        gc.unfreeze()  # other tests create and drop apps: let the collector see them again


def test_control_socket_is_off_for_every_instance():
    # gunicorn reads the config module's names that are settings (`-c python:service.gunicorn_conf`).
    from gunicorn.config import Config

    from service import gunicorn_conf

    config = Config()
    for name, value in vars(gunicorn_conf).items():
        if name in config.settings:
            config.set(name, value)
    assert config.control_socket_disable is True
