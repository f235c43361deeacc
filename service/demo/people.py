"""Synthetic demo trainees: names, identity numbers, phones and enterprises made up here.

Identity numbers (居民身份证号码) are generated, never copied from anyone: a county code of the
trainee's region that existed in the birth year (python-stdnum's GB/T 2260 history), a birth
date 1960-1990, a sequence number and the GB 11643 check character, so every number passes the
same checks as a trainee's own (service.core.identifiers.parse_id_number). They are synthetic; like any
well-formed number they could coincide with an issued one, so the demo never runs in production.
"""

import datetime as dt
import functools
import random
from importlib import resources

from stdnum.cn import ric, uscc

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN = ["建国", "志强", "海燕", "晓东", "丽华", "国平", "明辉", "春梅", "永刚", "红霞", "振华", "秀英", "立新",
         "文博", "静怡", "德胜", "玉兰", "少峰", "雪梅", "长青", "俊杰", "慧敏", "宏伟", "淑珍", "家豪", "晓燕",
         "卫东", "凤英", "子轩", "婧", "磊", "芳", "勇", "娜", "鹏飞", "颖", "浩然", "晨曦", "昊天", "瑾"]
FEMALE_GIVEN = {"海燕", "丽华", "春梅", "红霞", "秀英", "静怡", "玉兰", "雪梅", "慧敏", "淑珍", "晓燕", "凤英", "婧",
                "芳", "娜", "颖", "晨曦", "瑾"}
CITY = {"110000": "北京", "120000": "天津", "310000": "上海", "320000": "江苏", "330000": "浙江", "370000": "山东",
        "440000": "广东", "510000": "四川", "330200": "宁波", "440300": "深圳", "420000": "湖北"}
TRADES = ["精密机械", "新材料", "智能装备", "电子科技", "生物医药", "汽车零部件", "工业软件", "传感器", "新能源",
          "环保科技", "数控系统", "特种纤维"]
POSITIONS = ["董事长", "总经理", "董事长兼总经理", "执行董事", "创始人、总经理"]
SCHOOLS = [("清华大学", "机械工程"), ("浙江大学", "材料科学与工程"), ("华南理工大学", "自动化"),
           ("四川大学", "化学工程"), ("南京大学", "工商管理"), ("山东大学", "电子信息工程"), ("北京大学", "经济学")]


# 海南 was part of 广东 until 1988, 重庆 of 四川 until 1997; 新疆生产建设兵团 issues no numbers of
# its own (its people hold Xinjiang's).
PREDECESSORS = {"46": "44", "50": "51", "66": "65"}


@functools.cache
def _counties():
    """{province prefix: [(code, first year, last year)]} from python-stdnum's GB/T 2260 history."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text("utf-8")
    counties, province = {}, None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        suffix, _, county = line.strip().partition(" ")
        if suffix.endswith("00"):  # the province or a city as a whole: not a place of birth registration
            continue
        for period in county.split('"')[1].split(","):
            first, last = 0, 9999
            if period.startswith("["):
                span = period[1:].split("]")[0]
                start, end = span.split("-")
                first, last = int(start or 0), int(end or 9999)
            counties.setdefault(province, []).append((province + suffix, first, last))
    return counties


def county_code(region_code, year, rng):
    """A county of the region (of the city for a 计划单列市 such as 440300) existing in `year`."""
    province = region_code[:2]
    existing = [code for code, first, last in _counties().get(province, ()) if first <= year <= last]
    if not existing:  # a region younger than the trainee: the numbers of the one it came from
        province = PREDECESSORS[province]
        existing = [code for code, first, last in _counties()[province] if first <= year <= last]
    # A city founded after the birth year (深圳 440300 in 1960) has no county yet: the province's.
    in_city = [code for code in existing if code.startswith(region_code[:4])] if region_code[2:4] != "00" else []
    return rng.choice(sorted(in_city or existing))


def id_number(region_code, birth, sequence, male, rng):
    """An 18-character identity number with a valid GB 11643 check character."""
    odd = sequence * 2 + (1 if male else 0)  # the 17th digit is odd for men, even for women
    body = f"{county_code(region_code, birth.year, rng)}{birth:%Y%m%d}{odd % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(region_code, serial):
    """A unified social credit code (GB 32100) with a valid check character ("MB": demo enterprises)."""
    body = f"91{region_code}MB{serial:07d}"
    return body + uscc.calc_check_digit(body)


def trainee(index, region_code, rng):
    """A complete trainee form (附1-3) as the profile endpoint takes it."""
    given = GIVEN[(index * 7) % len(GIVEN)]
    name = SURNAMES[index % len(SURNAMES)] + given
    male = given not in FEMALE_GIVEN
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange((dt.date(1990, 12, 31) - dt.date(1960, 1, 1)).days))
    school, major = SCHOOLS[index % len(SCHOOLS)]
    city = CITY.get(region_code, "华夏")
    start_year = min(birth.year + 18, 2010)
    return {
        "name": name, "gender": "male" if male else "female",
        "id_number": id_number(region_code, birth, 100 + index, male, rng),
        "mobile": f"1990{index:07d}", "email": f"trainee{index:03d}@demo.example.com",
        "political_status": "中共党员" if index % 3 else "群众", "ethnicity": "汉族" if index % 9 else "回族",
        "position": POSITIONS[index % len(POSITIONS)], "management_years": 5 + index % 25,
        "address": f"{city}市高新技术产业开发区创新路{index + 1}号",
        "education": [{"school": school, "start": f"{start_year}-09", "end": f"{start_year + 4}-07",
                       "major": major, "degree": "学士" if index % 4 else "硕士"}],
        "social_positions": ["市工商联执委"] if index % 5 == 0 else [],
        "honours": ["优秀民营企业家"] if index % 6 == 0 else [],
        "enterprise": {"name": f"{city}{TRADES[index % len(TRADES)]}有限公司（演示{index:03d}）",
                       "credit_code": credit_code(region_code, index + 1), "region_code": region_code,
                       "website": None, "listed": False, "ipo_plan": {"stage": "planning", "board": "star"},
                       "titles": ["专精特新中小企业"] if index % 2 else ["小巨人", "高新技术企业"]},
    }


def rng_for(seed):
    return random.Random(seed)
