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
