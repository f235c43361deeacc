"""Benchmark: how long `lingjun serve --demo` takes to stop, and that no queued message is lost.

    .venv/bin/python benchmarks/stop.py [--runs 3] [--database-killed]

Each run starts `lingjun serve --demo` on the embedded database in a temporary directory, waits
until it answers /readyz, queues 500 subscribe messages while its background jobs are sending,
sends SIGTERM (odd runs) or SIGINT (Ctrl-C; even runs), and measures until the process has exited.
Then it reopens the database files and counts the messages: sent (the fake WeChat received each
once) + still queued must equal what was queued. Prints one line per run and the median.
With --database-killed the embedded database is killed (SIGKILL, and not started again:
EMBEDDED_RESTART_ATTEMPTS=0) just before the signal: stopping must not wait for it.
"""

import argparse
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import pymongo  # noqa: E402

from service import create_app  # noqa: E402
from service.core import embedded  # noqa: E402
from service.outbox import service as outbox  # noqa: E402
from service.users import repository as users  # noqa: E402

QUEUED = 500


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(number, database_killed=False):
    workdir = tempfile.mkdtemp(prefix="lingjun-stop-")
    data_dir, port = os.path.join(workdir, "db"), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "MONGODB_DB", "APP_ENV")}
    env.update(EMBEDDED_DATA_DIR=data_dir, WORKER_INTERVAL_SECONDS="1",
               EMBEDDED_RESTART_ATTEMPTS="0" if database_killed else "5")
    log = open(os.path.join(workdir, "serve.log"), "wb")
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--demo", "--port", str(port)],
                               cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"serve did not start; see {log.name}")
            time.sleep(0.3)
    address = embedded.read_address(data_dir)
    app = create_app({"MONGODB_URI": address["uri"], "MONGODB_DB": address["database"]})
    with app.app_context():
        user = users.upsert_by_openid(openid=f"oFAKE-stop-bench-{number}")
        for index in range(QUEUED):
            outbox.enqueue(user_id=user["_id"], template="class_notice", values={"character_string1": str(index)})
    time.sleep(1.5)  # the jobs thread is sending
    sig = signal.SIGTERM if number % 2 else signal.SIGINT
    if database_killed:
        os.kill(address["pid"], signal.SIGKILL)
        time.sleep(0.3)  # the service has seen it die
    started = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=60)
    seconds = time.monotonic() - started

    server = embedded.EmbeddedMongo(data_dir).start()
    client = pymongo.MongoClient(server.uri)
    stored = list(client[address["database"]]["outbox"].find({"user_id": user["_id"]}, {"status": 1}))
    client.close()
    server.stop()
    log.close()
    shutil.rmtree(workdir, ignore_errors=True)
    sent = sum(m["status"] == "sent" for m in stored)
    queued = sum(m["status"] == "pending" for m in stored)
    print(f"run {number}: {sig.name:<7} stopped in {seconds:.2f} s (exit {process.returncode}); "
          f"messages: {len(stored)}/{QUEUED} kept, {sent} sent, {queued} still queued", flush=True)
    return seconds, len(stored) == QUEUED


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-killed", action="store_true", help="kill the embedded database before stopping")
    args = parser.parse_args()
    results = [one_run(number, args.database_killed) for number in range(1, args.runs + 1)]
    times = [seconds for seconds, _ in results]
    print(f"stop time: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} runs; "
          f"messages lost: {'none' if all(kept for _, kept in results) else 'SOME'}")


if __name__ == "__main__":
    main()
