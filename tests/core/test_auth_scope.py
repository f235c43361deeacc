"""The role and scope helpers every endpoint uses."""

import pytest
from bson import ObjectId

from service.core.auth import Identity, ensure_class, ensure_region
from service.core.errors import Forbidden

CLASS_A, CLASS_B = ObjectId(), ObjectId()


def identity(*roles, regions=(), classes=()):
    return Identity(user_id=ObjectId(), roles=frozenset(("trainee",) + roles),
                    region_codes=frozenset(regions), class_ids=frozenset(classes))


def test_province_staff_only_their_region():
    staff = identity("province_staff", regions=["110000"])
    ensure_region(staff, "110000")
    with pytest.raises(Forbidden):
        ensure_region(staff, "440000")


def test_supervisor_only_their_classes():
    supervisor = identity("supervisor", classes=[CLASS_A])
    ensure_class(supervisor, CLASS_A)
    with pytest.raises(Forbidden):
        ensure_class(supervisor, CLASS_B)


def test_other_roles_have_no_scope():
    with pytest.raises(Forbidden):
        ensure_region(identity(), "110000")
    with pytest.raises(Forbidden):
        ensure_class(identity("province_staff", regions=["110000"]), CLASS_A)
    with pytest.raises(Forbidden):
        ensure_region(identity("supervisor", classes=[CLASS_A]), "110000")


def test_admin_has_every_scope():
    admin = identity("admin")
    ensure_region(admin, "650000")
    ensure_class(admin, CLASS_B)
