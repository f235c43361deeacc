"""Programme years: organizers create and publish them; everyone reads the published ones."""

from service.core.db import utcnow
from service.core.errors import NotFound, RuleViolation
from service.programmes import repository

# Allowed status changes: from -> to.
TRANSITIONS = {"draft": {"published", "cancelled"}, "published": {"cancelled"}, "cancelled": set()}


def create(*, created_by, **fields):
    """Create a draft programme year."""
    doc = {**fields, "status": "draft", "created_by": created_by, "created_at": utcnow(),
           "updated_at": None}
    if doc["kind"] == "little_giant":
        # A 小巨人 programme always checks the enterprise's title (notice 243, 附件1).
        doc["require_little_giant"] = True
    return repository.insert(doc)


def get_or_raise(*, programme_id, identity=None):
    programme = repository.get(programme_id)
    if programme is None or (identity is not None and not identity.is_admin
                             and programme["status"] != "published"):
        raise NotFound("PROGRAMME_NOT_FOUND", "培训项目不存在")
    return programme


def list_programmes(*, identity, year=None, status=None, page=1, page_size=20):
    query = {}
    if year:
        query["year"] = year
    if not identity.is_admin:
        query["status"] = "published"
    elif status:
        query["status"] = status
    items, total = repository.find(query, skip=(page - 1) * page_size, limit=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def update(*, programme_id, changes):
    """Change a programme's name, kind or eligibility switches (not once cancelled)."""
    current = get_or_raise(programme_id=programme_id)
    if current["status"] == "cancelled":
        raise RuleViolation("PROGRAMME_CANCELLED", "培训项目已取消，不能修改")
    if changes.get("kind", current["kind"]) == "little_giant":
        changes["require_little_giant"] = True
    updated = repository.update(programme_id=programme_id, changes=changes,
                                expected_status=("draft", "published"))
    if updated is None:
        raise RuleViolation("PROGRAMME_CANCELLED", "培训项目已取消，不能修改")
    return updated


def change_status(*, programme_id, status, changed_by, reason=None):
    """Publish or cancel a programme year."""
    current = get_or_raise(programme_id=programme_id)
    allowed_from = [s for s, targets in TRANSITIONS.items() if status in targets]
    if current["status"] not in allowed_from:
        raise RuleViolation("PROGRAMME_STATUS_INVALID",
                            f"培训项目当前状态为“{current['status']}”，不能改为“{status}”")
    # The status in the filter makes a concurrent change lose cleanly instead of both applying.
    updated = repository.update(programme_id=programme_id, expected_status=allowed_from, changes={
        "status": status, "status_reason": reason, "status_changed_by": changed_by})
    if updated is None:
        raise RuleViolation("PROGRAMME_STATUS_INVALID", "培训项目状态已变化，请刷新后重试")
    return updated
