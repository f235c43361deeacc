"""Who is calling, and the one decorator every endpoint uses to require a role and scope.

Roles: trainee (everyone who logs in), supervisor (scoped to class ids),
province_staff (scoped to region codes), admin (the organizer, all scopes).
"""

import dataclasses
import functools
import hashlib

from bson import ObjectId
from flask import g, request

from service.core.errors import Forbidden, Unauthorized

TRAINEE = "trainee"
SUPERVISOR = "supervisor"
PROVINCE_STAFF = "province_staff"
ADMIN = "admin"
STAFF_ROLES = (SUPERVISOR, PROVINCE_STAFF, ADMIN)
ALL_ROLES = (TRAINEE,) + STAFF_ROLES


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Identity:
    user_id: ObjectId
    roles: frozenset
    region_codes: frozenset = frozenset()
    class_ids: frozenset = frozenset()

    @property
    def is_admin(self):
        return ADMIN in self.roles

    def has_any(self, roles):
        return bool(self.roles & set(roles))

    def covers_region(self, region_code):
        return self.is_admin or (PROVINCE_STAFF in self.roles and region_code in self.region_codes)

    def supervises(self, class_id):
        return self.is_admin or (SUPERVISOR in self.roles and class_id in self.class_ids)


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# Another way in for requests carrying no bearer token: the staff console's session cookie
# (service/console_login registers it in create_app). It must answer an Identity built exactly as
# the bearer path builds one, so every rule below applies to both; None = no such credential.
_fallback_resolvers = []


def register_fallback_resolver(resolver):
    if resolver not in _fallback_resolvers:
        _fallback_resolvers.append(resolver)


# The bearer token's answer comes from the auth feature, which registers its resolver in create_app
# (service/auth/service.py identity_for_token): the core names the interface, the feature implements
# it (Warehouse's habit), so the core imports no feature. resolver(token=..., token_hash=...) returns an
# Identity or raises Unauthorized.
_token_resolver = None


def register_token_resolver(resolver):
    global _token_resolver
    _token_resolver = resolver


def current_identity():
    """The caller's identity, or raise 401. Resolved once per request."""
    if "identity" not in g:
        token = bearer_token()
        if token is None:
            g.identity = _fallback_identity()
        else:
            if _token_resolver is None:
                raise RuntimeError("no bearer-token resolver registered: create_app registers the auth feature's")
            g.identity = _token_resolver(token=token, token_hash=hash_token(token))
    return g.identity


def _fallback_identity():
    for resolver in _fallback_resolvers:
        identity = resolver()
        if identity is not None:
            return identity
    raise Unauthorized("UNAUTHORIZED", "请先登录")


def require(*roles):
    """Require a logged-in caller holding one of `roles` (any role when none given)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            identity = current_identity()
            if roles and not identity.has_any(roles):
                raise Forbidden("ROLE_REQUIRED", "您没有权限进行此操作")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def ensure_region(identity, region_code):
    """Province staff only for their own region; admins everywhere."""
    if not identity.covers_region(region_code):
        raise Forbidden("OUT_OF_SCOPE", "只能处理本地区的数据")


def ensure_class(identity, class_id):
    """Supervisors only for their own classes; admins everywhere."""
    if not identity.supervises(class_id):
        raise Forbidden("OUT_OF_SCOPE", "只能处理您负责的班级")
