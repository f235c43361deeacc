"""The embedded database's process: SecantusDB's own `secantusd-py` command, without its TTL sweeper.

    python -m service.core.embedded_server --host 127.0.0.1 --port P --storage-path DIR ...

(the same options as `secantusd-py`; service.core.embedded starts it).

Why not `secantusd-py` itself: SecantusDB (0.7.0b3) expires documents of collections with a TTL
index by a thread that wakes every 60 s, reads and decodes every document of every such
collection, and holds the storage's lock while it does, so every write waits for it. With 20,000
login tokens (`auth_tokens`) that stalled every insert for 0.22–0.44 s once a minute
(/tmp-free probe: two writers at 50 inserts/s each, p99 4 ms, max 435 ms at the sweep); in the
national check-in peak (benchmarks/checkin_peak.py) those stalls were the check-ins' p99. Its
config file has a `[storage] ttl_sweep_seconds` (0 turns the thread off), but its command line
reads it and never hands it to the server, so this module starts the same command with the
server's sweeper off. Expired documents are deleted instead by the worker's upkeep through each
TTL index (service.core.db.expire_documents: a range of the index, only the expired entries).
Reads never depended on the sweep: every read of those collections checks the expiry itself.
"""

import functools
import sys

from secantus import cli, server

def _without_ttl_sweeper(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        kwargs["ttl_sweep_seconds"] = 0
        init(self, *args, **kwargs)
    return wrapper


def main(argv=None):
    server.SecantusDBServer.__init__ = _without_ttl_sweeper(server.SecantusDBServer.__init__)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
