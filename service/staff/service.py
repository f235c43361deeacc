"""Staff accounts: created by an admin, bound by the person with a one-time code."""

import datetime as dt
import secrets

from bson import ObjectId
from flask import current_app

from service.auth.service import binding_code_hash
from service.classes import repository as classes_repository
from service.core import regions
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR
from service.core.db import utcnow
from service.core.errors import NotFound, RuleViolation
from service.staff import repository

# No 0/O, 1/I/L: the code is read aloud or typed from a message.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 10


def _new_binding():
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    expires_at = utcnow() + dt.timedelta(hours=current_app.config["BINDING_CODE_TTL_HOURS"])
    return code, binding_code_hash(code), expires_at


def _check_scope(*, role, region_code, class_ids):
    if role == PROVINCE_STAFF and not region_code:
        raise RuleViolation("REGION_REQUIRED", "地区工作人员必须指定所属地区",
                            errors={"region_code": ["请选择地区"]})
    if region_code and not regions.is_valid(region_code):
        raise RuleViolation("REGION_UNKNOWN", "地区代码不存在", errors={"region_code": ["地区代码不存在"]})
    if role != PROVINCE_STAFF and region_code:
        raise RuleViolation("REGION_NOT_APPLICABLE", "只有地区工作人员需要指定地区",
                            errors={"region_code": ["此角色不需要地区"]})
    if role != SUPERVISOR and class_ids:
        raise RuleViolation("CLASSES_NOT_APPLICABLE", "只有班主任需要指定班级",
                            errors={"class_ids": ["此角色不需要班级"]})
    if class_ids:
        _check_classes_exist(class_ids)


def _check_classes_exist(class_ids):
    """Every class named exists (asked of the classes' owner, one query): a dangling id would give
    a supervisor a class nobody can see."""
    ids = [ObjectId(class_id) if ObjectId.is_valid(class_id) else class_id for class_id in class_ids]
    existing = classes_repository.statuses(ids)
    missing = {str(index): ["班级不存在"] for index, class_id in enumerate(ids) if class_id not in existing}
    if missing:
        raise RuleViolation("VALIDATION_ERROR", "填写的内容有误，请检查后重试", errors={"class_ids": missing})


def create(*, name, role, region_code=None, class_ids=(), created_by=None, phone_note=None):
    """Create an unbound staff account; returns (account, one-time binding code)."""
    if role not in (SUPERVISOR, PROVINCE_STAFF, ADMIN):
        # The API's schema refuses it first (an enum in the spec); this guards other callers (CLI).
        raise RuleViolation("VALIDATION_ERROR", "填写的内容有误，请检查后重试", errors={"role": ["角色不存在"]})
    _check_scope(role=role, region_code=region_code, class_ids=class_ids)
    code, code_hash, expires_at = _new_binding()
    account = {
        "name": name,
        "role": role,
        "region_code": region_code,
        "class_ids": list(class_ids),
        "active": True,
        "user_id": None,
        "binding": {"code_hash": code_hash, "expires_at": expires_at},
        "created_by": created_by,
        "created_at": utcnow(),
    }
    repository.insert(account)
    return account, code


def get_or_raise(*, account_id):
    account = repository.get(account_id)
    if account is None:
        raise NotFound("STAFF_NOT_FOUND", "工作人员账号不存在")
    return account


def reissue_binding_code(*, account_id):
    """New one-time code; unbinds the account from any WeChat identity (e.g. a lost phone)."""
    get_or_raise(account_id=account_id)
    code, code_hash, expires_at = _new_binding()
    account = repository.set_binding(account_id=account_id, code_hash=code_hash, expires_at=expires_at)
    return account, code


def update(*, account_id, changes):
    """Change name, scope or active flag of a staff account."""
    account = get_or_raise(account_id=account_id)
    merged = {**account, **changes}
    _check_scope(role=merged["role"], region_code=merged.get("region_code"),
                 class_ids=merged.get("class_ids") or ())
    return repository.update(account_id=account_id, changes=changes)


def list_accounts(*, role=None, region_code=None, page=1, page_size=20):
    items, total = repository.list_accounts(role=role, region_code=region_code,
                                            skip=(page - 1) * page_size, limit=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def binding_expires_at(account):
    return (account.get("binding") or {}).get("expires_at")
