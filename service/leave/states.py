"""Leave request states and types.

submitted → approved | rejected;  submitted → withdrawn;
approved → cancelled (before it starts);  approved → returned_early (销假).
"""

SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"
WITHDRAWN, CANCELLED, RETURNED_EARLY = "withdrawn", "cancelled", "returned_early"
STATES = (SUBMITTED, APPROVED, REJECTED, WITHDRAWN, CANCELLED, RETURNED_EARLY)
STATE_LABELS = {SUBMITTED: "待审批", APPROVED: "已批准", REJECTED: "未批准", WITHDRAWN: "已撤回",
                CANCELLED: "已取消", RETURNED_EARLY: "已销假"}
TYPE_LABELS = {"sick": "病假", "personal": "事假", "official": "公务", "other": "其他"}
TYPES = tuple(TYPE_LABELS)
