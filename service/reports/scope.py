"""Who may read which report, as the region filter a report applies.

Organizers read everything; a class's supervisors read the whole class; province staff read
a class only for their own regions' trainees, and never the free-text comments, which in a
region's handful of trainees could point to the writer.
"""

from service.core.auth import PROVINCE_STAFF
from service.core.errors import Forbidden


class ClassScope:
    def __init__(self, region_codes=None, comments=True):
        self.region_codes = region_codes  # None: every region
        self.comments = comments

    def match(self):
        return {} if self.region_codes is None else {"region_code": {"$in": sorted(self.region_codes)}}


def class_scope(identity, class_doc):
    if identity.is_admin or identity.supervises(class_doc["_id"]):
        return ClassScope()
    if PROVINCE_STAFF in identity.roles:
        mine = set(identity.region_codes) & set(class_doc.get("quotas") or {})
        if mine:
            return ClassScope(region_codes=mine, comments=False)
    raise Forbidden("OUT_OF_SCOPE", "只能查看本地区或本人负责班级的报表")
