"""Demo data for `lingjun serve --demo`: staff bound to fake-WeChat logins, and trainees.

Idempotent: running it again leaves one copy of everything.
"""

from service.core.db import collection, utcnow
from service.staff import repository as staff_repo
from service.users import repository as users_repo

# person -> (staff role, region, display name); log in with code "<person>" or "<person>.<n>".
DEMO_STAFF = {
    "demo-admin": ("admin", None, "人才交流中心 管理员"),
    "demo-staff-bj": ("province_staff", "110000", "北京市中小企业局 工作人员"),
    "demo-staff-gd": ("province_staff", "440000", "广东省中小企业局 工作人员"),
    "demo-supervisor": ("supervisor", None, "班主任 王老师"),
}
DEMO_TRAINEES = ["demo-trainee-1", "demo-trainee-2", "demo-trainee-3"]


def _demo_user(person):
    return users_repo.upsert_by_openid(openid=f"oFAKE-{person}", unionid=f"uFAKE-{person}")


def seed():
    """Create the demo staff and trainees; return a human-readable summary."""
    lines = ["Demo logins (POST /api/v1/auth/wx-login {\"code\": \"<person>.<anything>\"}):"]
    for person, (role, region_code, name) in DEMO_STAFF.items():
        user = _demo_user(person)
        collection(users_repo.USERS).update_one({"_id": user["_id"]}, {"$set": {"name": name}})
        if not collection(staff_repo.STAFF).find_one({"user_id": user["_id"], "role": role}):
            staff_repo.insert({"name": name, "role": role, "region_code": region_code, "class_ids": [],
                               "active": True, "user_id": user["_id"], "bound_at": utcnow(),
                               "created_at": utcnow(), "created_by": None})
        lines.append(f"  {person:<18} {role}{' ' + region_code if region_code else ''}")
    for person in DEMO_TRAINEES:
        _demo_user(person)
        lines.append(f"  {person:<18} trainee")
    return "\n".join(lines)
