"""The layout rules of STYLE.md, kept by reading the source tree (tests/architecture.py):
one owner per collection (service/core/db.py COLLECTION_OWNERS) and a core that imports no feature."""

import pathlib
import textwrap

import pytest

from service.core.db import COLLECTION_OWNERS
from tests.architecture import Tree

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Uses still waiting for their move to the owner, one entry each with the follow-up that removes it:
# (module, rule, collection or imported module) -> follow-up. Keep it empty when you can.
ALLOWED = {}


@pytest.fixture(scope="module")
def tree():
    return Tree(ROOT)


def test_every_collection_is_used_only_by_its_owner_and_the_core_imports_no_feature(tree):
    found = [v for v in tree.violations(COLLECTION_OWNERS) if (v.module, v.rule, v.subject) not in ALLOWED]
    assert not found, "\n".join(map(str, found))


def test_allow_list_has_no_stale_entries(tree):
    current = {(v.module, v.rule, v.subject) for v in tree.violations(COLLECTION_OWNERS)}
    assert not set(ALLOWED) - current


def test_no_import_circles(tree):
    assert tree.import_cycles() == []


def test_every_owner_is_a_package_of_the_tree(tree):
    for name, owner in COLLECTION_OWNERS.items():
        assert owner in tree.modules, (name, owner)


# ---- the reader itself, on small made-up trees: each rule can fail --------------------------------


def _write(root, files):
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for directory in {p.parent for p in root.rglob("*.py")}:
        (directory / "__init__.py").touch()
    return Tree(root)


OWNERS = {"leave_requests": "service.leave", "registrations": "service.registrations",
          "attachments.files": "service.trainees", "attachments.chunks": "service.trainees"}


def test_reader_finds_foreign_collections_however_they_are_named(tmp_path):
    tree = _write(tmp_path, {
        "service/core/db.py": "def collection(name): ...\n",
        "service/leave/repository.py": """
            from service.core.db import collection, declare_indexes
            LEAVE_REQUESTS = "leave_requests"
            declare_indexes(LEAVE_REQUESTS)
            def mine(): return collection(LEAVE_REQUESTS).find()
        """,
        "service/attendance/service.py": """
            from service.core.db import collection, get_db
            from service.leave import repository as leave_repo
            from service.leave.repository import LEAVE_REQUESTS
            import service.leave.repository
            def a(): return collection("registrations").find_one()
            def b(): return collection(leave_repo.LEAVE_REQUESTS).find()
            def c(): return collection(LEAVE_REQUESTS).find()
            def d(): return get_db()["registrations"].find()
            def e(name): return collection(name)
            def f(): return collection("nobody_owns_me")
            def g(): return collection("regist" + "rations")
            def h(): return [{"$lookup": {"from": "leave_requests"}}, {"$unionWith": "registrations"}]
            def i(): return get_db()
            def j(): return get_db().registrations.find(), get_db().command("ping"), db.leave_requests
        """,
        "service/reports/repository.py": """
            from service.core.db import declare_indexes
            import gridfs
            declare_indexes("registrations")
            def files(db): return gridfs.GridFSBucket(db, bucket_name="attachments")
        """,
    })
    found = {(v.module, v.line, v.rule, v.subject) for v in tree.violations(OWNERS)}
    module = "service.attendance.service"
    assert found == {
        (module, 6, "foreign-collection", "registrations"),
        (module, 7, "foreign-collection", "leave_requests"),
        (module, 8, "foreign-collection", "leave_requests"),
        (module, 9, "foreign-collection", "registrations"),
        (module, 10, "unresolved-collection", "collection()"),
        (module, 11, "unknown-collection", "nobody_owns_me"),
        (module, 12, "foreign-collection", "registrations"),
        (module, 13, "foreign-collection", "leave_requests"),
        (module, 13, "foreign-collection", "registrations"),
        (module, 14, "unresolved-collection", "get_db() handed on"),
        (module, 15, "foreign-collection", "registrations"),
        (module, 15, "foreign-collection", "leave_requests"),
        ("service.reports.repository", 4, "foreign-collection", "registrations"),
        ("service.reports.repository", 5, "foreign-collection", "attachments.files"),
        ("service.reports.repository", 5, "foreign-collection", "attachments.chunks"),
    }


def test_reader_finds_the_core_importing_a_feature_even_inside_a_function(tmp_path):
    tree = _write(tmp_path, {
        "service/core/auth.py": """
            from service.core import errors
            def current():
                from service.auth.service import identity_for_token
                return identity_for_token
        """,
        "service/core/errors.py": "import service.leave\n",
        "service/auth/service.py": "from service.core.auth import current\n",
        "service/leave/__init__.py": "",
    })
    found = {(v.module, v.line, v.subject) for v in tree.violations({}) if v.rule == "core-imports-feature"}
    assert found == {("service.core.auth", 4, "service.auth.service"), ("service.core.errors", 1, "service.leave")}
    assert tree.import_cycles() == [["service.auth.service", "service.core.auth"]]
