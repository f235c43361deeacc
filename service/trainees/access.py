"""Who may read a trainee's attachment: the owner, organizers, the province staff who
review a registration that includes it, and for a leave proof the staff who approve that
leave and the class's supervisors."""

from service.core.errors import NotFound
from service.leave import repository as leave_requests
from service.registrations import repository as registrations


def ensure_can_read_attachment(identity, info):
    if identity.is_admin or info["metadata"]["owner_id"] == identity.user_id:
        return
    if identity.region_codes and registrations.includes_attachment_in_regions(info["_id"], identity.region_codes):
        return
    leave = leave_requests.with_proof(info["_id"])
    if leave and (identity.covers_region(leave["region_code"]) or identity.supervises(leave["class_id"])):
        return
    # 404, not 403: do not confirm that someone else's file exists.
    raise NotFound("ATTACHMENT_NOT_FOUND", "文件不存在")
