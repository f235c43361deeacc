"""Who may read a trainee's attachment: the owner, organizers, the province staff who
review a registration that includes it, and for a leave proof the staff who approve that
leave and the class's supervisors."""

from service.core.errors import NotFound
from service.core.db import collection


def ensure_can_read_attachment(identity, info):
    if identity.is_admin or info["metadata"]["owner_id"] == identity.user_id:
        return
    if identity.region_codes and collection("registrations").count_documents(
            {"attachment_ids": info["_id"], "region_code": {"$in": list(identity.region_codes)}}, limit=1):
        return
    leave = collection("leave_requests").find_one({"proof_attachment_id": info["_id"]},
                                                  {"region_code": 1, "class_id": 1})
    if leave and (identity.covers_region(leave["region_code"]) or identity.supervises(leave["class_id"])):
        return
    # 404, not 403: do not confirm that someone else's file exists.
    raise NotFound("ATTACHMENT_NOT_FOUND", "文件不存在")
