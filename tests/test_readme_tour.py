"""The README's five-minute tour, run exactly as written against `lingjun serve --demo`."""

import ast
import re
import subprocess
import uuid
from pathlib import Path

import pymongo
import pytest

from tests.cli_helpers import command_env, free_port, start_lingjun, wait_ready

README = Path(__file__).resolve().parent.parent / "README.md"


def tour_block():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Five-minute tour"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the tour is one copy-paste block"
    return blocks[0]


@pytest.fixture
def demo_server(tmp_path, mongodb_uri):
    port, log_path = free_port(), tmp_path / "serve.log"
    database = f"tour_{uuid.uuid4().hex[:8]}"
    process = start_lingjun("serve", "--demo", "--port", str(port), "--workers", "1", "--threads", "4",
                            cwd=tmp_path, log_path=log_path, MONGODB_URI=mongodb_uri, MONGODB_DB=database)
    try:
        wait_ready(process, port, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        client = pymongo.MongoClient(mongodb_uri)
        client.drop_database(database + "_demo")
        client.close()


def _run_tour(url, cwd):
    result = subprocess.run(["sh", "-e"], input=tour_block(), text=True, capture_output=True, cwd=cwd,
                            env=command_env(LINGJUN_URL=url), timeout=120)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_the_readme_tour_runs_as_written_and_again(demo_server, tmp_path):
    before, checked, after, inbox, decision, stars, report, excel = _run_tour(demo_server, tmp_path)
    before, after = ast.literal_eval(before), ast.literal_eval(after)
    assert before["expected"] >= 40 and before["checked_in"] > 0 and before["late"] > 0 and before["on_leave"] == 1
    assert ast.literal_eval(checked)[0] == "checked_in"
    assert after["checked_in"] == before["checked_in"] + 1 and after["missing"] == before["missing"] - 1
    waiting = ast.literal_eval(inbox)
    assert len(waiting) == 2 and all(state == "submitted" for _, _, state in waiting)  # the seeded one and ours
    assert (decision, stars) == ("approved", "5")
    confirmed, held, leave_requests = ast.literal_eval(report)
    assert confirmed >= 40 and held >= 3 and leave_requests >= 2
    status, content_type, size, _ = excel.split()
    assert status == "200" and content_type.endswith("spreadsheetml.sheet") and int(size) > 1000
    assert (tmp_path / "class-report.xlsx").read_bytes()[:2] == b"PK"

    # Pasted again, as README says: the same session, nothing moves twice, no traceback.
    again = _run_tour(demo_server, tmp_path)
    board, checked, board_after, inbox, decision, stars, report, excel = again
    assert ast.literal_eval(board) == ast.literal_eval(board_after) == after
    assert ast.literal_eval(checked)[0] == "already_checked_in"
    waiting = ast.literal_eval(inbox)  # the seeded one and the new one; the first run's was approved
    assert len(waiting) == 2 and all(state == "submitted" for _, _, state in waiting)
    assert (decision, stars) == ("approved", "ALREADY_RATED")
    assert ast.literal_eval(report) == (confirmed, held, leave_requests + 1)
    assert excel.split()[0] == "200"
