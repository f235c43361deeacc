"""Registration states and who may move a registration from where to where."""

DRAFT = "draft"
SUBMITTED = "submitted"
RETURNED = "returned"
RECOMMENDED = "recommended"
REJECTED = "rejected"
ADMITTED = "admitted"
WAITLISTED = "waitlisted"
CONFIRMED = "confirmed"
WITHDRAWN = "withdrawn"
CANCELLED = "cancelled"

# Active: holds the enterprise's one place per programme year.
ACTIVE = (SUBMITTED, RETURNED, RECOMMENDED, ADMITTED, WAITLISTED, CONFIRMED)
# Open: the trainee's one registration per class (drafts included).
OPEN = (DRAFT,) + ACTIVE
# Counted against the region's quota: from the province's recommendation until the end.
COUNTED = (RECOMMENDED, ADMITTED, WAITLISTED, CONFIRMED)
FINAL = (REJECTED, WITHDRAWN, CANCELLED)

LABELS = {DRAFT: "草稿", SUBMITTED: "已提交，待地方审核", RETURNED: "已退回修改", RECOMMENDED: "地方已推荐，待录取",
          REJECTED: "未通过", ADMITTED: "已录取，待确认参训", WAITLISTED: "候补", CONFIRMED: "已确认参训",
          WITHDRAWN: "已撤回", CANCELLED: "已取消"}
# The state in a subscribe message's phrase key: at most 5 Chinese characters, no punctuation
# (WeChat refuses "已录取，待" with 47003); each is in core.subscribe.PHRASES.
PHRASES = {SUBMITTED: "已提交", RETURNED: "已退回", RECOMMENDED: "已推荐", REJECTED: "未通过", ADMITTED: "已录取",
           WAITLISTED: "候补", CONFIRMED: "已确认", WITHDRAWN: "已撤回", CANCELLED: "已取消"}

# action -> (role that decides, states it applies to, resulting state, reason required)
PROVINCE_ACTIONS = {
    "recommend": ((SUBMITTED,), RECOMMENDED, False),
    "return": ((SUBMITTED,), RETURNED, True),
    "reject": ((SUBMITTED,), REJECTED, True),
}
ORGANIZER_ACTIONS = {
    "admit": ((RECOMMENDED, WAITLISTED), ADMITTED, False),
    "waitlist": ((RECOMMENDED,), WAITLISTED, False),
    "reject": ((RECOMMENDED, WAITLISTED), REJECTED, True),
    "cancel": (ACTIVE, CANCELLED, True),
    "approve_withdrawal": ((ADMITTED, CONFIRMED), WITHDRAWN, False),
}
TRAINEE_WITHDRAW_FROM = (DRAFT, SUBMITTED, RETURNED, RECOMMENDED, WAITLISTED)
