"""The staff console's pages (/console/...): server-rendered shells that call the JSON API.

Each page is a template plus an Alpine.js component in static/console.js; every read and write goes
through /api/v1 with the console session cookie, so the API's rules are the only rules. This
module only decides which pages a role sees in the menu; the API still refuses what a role may
not do.
"""

from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR

# endpoint name -> (menu title, roles that see it in the menu)
MENU = [
    ("programmes", "培训年度", (ADMIN,)),
    ("classes", "培训班", (ADMIN,)),
    ("registry", "企业名录导入", (ADMIN,)),
    ("admissions", "录取", (ADMIN,)),
    ("certificates", "结业证书", (ADMIN,)),
    ("reports", "统计报表", (ADMIN,)),
    ("staff", "工作人员", (ADMIN,)),
    ("review", "报名审核", (PROVINCE_STAFF,)),
    ("leave", "请假审批", (PROVINCE_STAFF,)),
    ("kpis", "地区考核指标", (PROVINCE_STAFF,)),
    ("today", "今日课程", (SUPERVISOR,)),
    ("classreport", "班级报表", (SUPERVISOR, PROVINCE_STAFF)),
]

ROLE_NAMES = {ADMIN: "组织方", PROVINCE_STAFF: "地区工作人员", SUPERVISOR: "班主任"}


def menu_for(identity):
    return [(name, title) for name, title, roles in MENU if identity.has_any(roles)]


def allowed(identity, page):
    return any(name == page and identity.has_any(roles) for name, _, roles in MENU)

NAMES = {name for name, _, _ in MENU}
