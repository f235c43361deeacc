"""What gunicorn answers itself, as the guide and README say (q14 finding 13): more than 100
headers and a header over 16 KiB are 431, a request line over 8190 bytes 414; the application's
own answers stay JSON. gunicorn runs with service/gunicorn_conf.py in front of a tiny WSGI app:
these refusals come before any application code."""

import socket
import subprocess
import sys
import time

import pytest

APP = "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok']\n"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    (folder / "tinyapp.py").write_text(APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = __import__("service.gunicorn_conf", fromlist=["x"]).__file__
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", conf, "--chdir", str(folder),
                                "-b", f"127.0.0.1:{port}", "-w", "1", "tinyapp:app"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _status(port, head):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode("latin-1"))
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_100_headers_pass_and_101_are_431(gunicorn):
    headers = "".join(f"X-H{i}: v\r\n" for i in range(99))  # + Host = 100
    assert _status(gunicorn, f"GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n") == 200
    more = "".join(f"X-H{i}: v\r\n" for i in range(101))
    assert _status(gunicorn, f"GET / HTTP/1.1\r\nHost: x\r\n{more}\r\n") == 431


def test_a_long_header_is_431_and_a_long_url_414(gunicorn):
    assert _status(gunicorn, f"GET / HTTP/1.1\r\nHost: x\r\nX-Long: {'a' * (17 * 1024)}\r\n\r\n") == 431
    assert _status(gunicorn, f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n") == 414
