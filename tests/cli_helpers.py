"""Running the `lingjun` command in a child process, as a person would."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

# Variables of the developer's shell that would change what the command does.
CLEARED = ("MONGODB_URI", "MONGODB_DB", "APP_ENV", "SECRET_KEY", "DATA_KEY", "WECHAT_APPID", "WECHAT_SECRET",
           "WECHAT_API_BASE", "EMBEDDED_DATA_DIR")


def command_env(**settings):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update({k: str(v) for k, v in settings.items()})
    return env


def lingjun(*args, cwd, timeout=120, **settings):
    """Run `lingjun <args>`; returns the CompletedProcess (text stdout/stderr)."""
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=cwd, env=command_env(**settings),
                          capture_output=True, text=True, timeout=timeout)


def start_lingjun(*args, cwd, log_path, **settings):
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "service.cli", *args], cwd=cwd,
                                env=command_env(**settings), stdout=log, stderr=subprocess.STDOUT)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(process, port, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{open(log_path).read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"serve did not become ready:\n{open(log_path).read()}")


def assert_one_line_refusal(result, code=1):
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lingjun: "), result.stderr
    return lines[0]
