"""Who may read what of a class."""

from service.core.auth import PROVINCE_STAFF, SUPERVISOR
from service.core.errors import Forbidden


def caller_region(identity, requested=None):
    """The region whose places left to show: asked for explicitly, else the staff member's own."""
    if requested:
        return requested
    if len(identity.region_codes) == 1:
        return next(iter(identity.region_codes))
    return None


def quota_regions_visible(identity, class_doc):
    """None = every region (admins, the class's supervisors); else the caller's regions with quota."""
    if identity.is_admin or (SUPERVISOR in identity.roles and class_doc["_id"] in identity.class_ids):
        return None
    if PROVINCE_STAFF in identity.roles:
        mine = set(identity.region_codes) & set(class_doc.get("quotas", {}))
        if mine:
            return mine
    raise Forbidden("OUT_OF_SCOPE", "只能查看本地区或本人负责班级的名额")
