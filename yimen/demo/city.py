"""The demo city: a Foshan-like prefecture with its districts, towns, departments, halls,
staff and applicants. Identifiers are generated with valid check characters but are
fictitious: person ID numbers use the sequence 99x, enterprise codes contain DEMQ."""

from __future__ import annotations

from yimen.common.identifiers import citizen_id_check_char, uscc_check_char
from yimen.org.choices import Role

DEMO_PASSWORD = "Yimen@2026"

CITY = ("440600000000", "佛山市")

# (district code, name, [(town code suffix, town name, [village names])])
DISTRICTS = [
    (
        "440604",
        "禅城区",
        [
            ("001", "祖庙街道", ["升平社区", "普君社区"]),
            ("002", "石湾镇街道", ["东平社区"]),
            ("003", "张槎街道", ["大富社区"]),
            ("004", "南庄镇", ["紫南村"]),
        ],
    ),
    (
        "440605",
        "南海区",
        [
            ("001", "桂城街道", ["平洲社区"]),
            ("002", "狮山镇", ["小塘社区"]),
            ("003", "大沥镇", ["黄岐社区"]),
        ],
    ),
    ("440606", "顺德区", [("001", "大良街道", ["金榜社区"]), ("002", "容桂街道", ["华口社区"])]),
    ("440607", "三水区", [("001", "西南街道", ["广海社区"])]),
    ("440608", "高明区", [("001", "荷城街道", ["富湾社区"])]),
]


def demo_uscc(region6: str, serial: int, *, kind: str = "11") -> str:
    """A valid, fictitious USCC: kind 11 = government organ, 91 = enterprise."""
    first17 = f"{kind}{region6}DEMQ{serial:05d}"
    return first17 + uscc_check_char(first17)


def demo_citizen_id(region6: str, birth: str, serial: int) -> str:
    first17 = f"{region6}{birth}99{serial % 10}"
    return first17 + citizen_id_check_char(first17)


# (key, name, short name, region code, parent key)
DEPARTMENTS = [
    ("gov-data", "佛山市政务服务和数据管理局", "市政数局", "440600", None),
    ("market", "佛山市市场监督管理局", "市市场监管局", "440600", None),
    ("police", "佛山市公安局", "市公安局", "440600", None),
    ("hrss", "佛山市人力资源和社会保障局", "市人社局", "440600", None),
    ("land", "佛山市自然资源局", "市自然资源局", "440600", None),
    ("housing", "佛山市住房和城乡建设局", "市住建局", "440600", None),
    ("transport", "佛山市交通运输局", "市交通运输局", "440600", None),
    ("health", "佛山市卫生健康局", "市卫健局", "440600", None),
    ("water", "佛山市水务局", "市水务局", "440600", None),
    ("tax", "国家税务总局佛山市税务局", "市税务局", "440600", None),
    ("civil", "佛山市民政局", "市民政局", "440600", None),
    ("eco", "佛山市生态环境局", "市生态环境局", "440600", None),
    ("urban", "佛山市城市管理和综合执法局", "市城管执法局", "440600", None),
    ("medical", "佛山市医疗保障局", "市医保局", "440600", None),
    ("chancheng-market", "佛山市禅城区市场监督管理局", "禅城区市场监管局", "440604", "market"),
    ("chancheng-urban", "佛山市禅城区城市管理和综合执法局", "禅城区城管执法局", "440604", "urban"),
    # Added later: keep new rows at the end, a department's code comes from its position.
    ("development", "佛山市发展和改革局", "市发展改革局", "440600", None),
    ("housing-fund", "佛山市住房公积金管理中心", "市住房公积金中心", "440600", None),
    ("water-supply", "佛山市供水有限公司", "市供水公司", "440600", None),
    ("power", "广东电网有限责任公司佛山供电局", "佛山供电局", "440600", None),
    ("gas", "佛山市燃气集团股份有限公司", "佛山燃气", "440600", None),
    ("cable", "广东省广播电视网络股份有限公司佛山分公司", "广电网络佛山分公司", "440600", None),
    ("bank", "佛山农村商业银行股份有限公司", "佛山农商银行", "440600", None),
    # Added for the 12345 hotline's taxonomy (school places are among the most asked).
    ("education", "佛山市教育局", "市教育局", "440600", None),
    # Added for the 12345 hotline's demo month: the district governments, to which the center
    # dispatches local matters (属地办理), and the streets and towns of 禅城区 and the law
    # enforcement squads of its urban management bureau, to which these re-dispatch.
    ("chancheng-gov", "佛山市禅城区人民政府", "禅城区政府", "440604", None),
    ("nanhai-gov", "佛山市南海区人民政府", "南海区政府", "440605", None),
    ("shunde-gov", "佛山市顺德区人民政府", "顺德区政府", "440606", None),
    ("gaoming-gov", "佛山市高明区人民政府", "高明区政府", "440608", None),
    ("sanshui-gov", "佛山市三水区人民政府", "三水区政府", "440607", None),
    ("zumiao", "佛山市禅城区祖庙街道办事处", "祖庙街道办", "440604", "chancheng-gov"),
    ("shiwan", "佛山市禅城区石湾镇街道办事处", "石湾镇街道办", "440604", "chancheng-gov"),
    ("zhangcha", "佛山市禅城区张槎街道办事处", "张槎街道办", "440604", "chancheng-gov"),
    ("nanzhuang", "佛山市禅城区南庄镇人民政府", "南庄镇政府", "440604", "chancheng-gov"),
    (
        "zumiao-squad",
        "佛山市禅城区城市管理和综合执法局祖庙执法中队",
        "祖庙城管中队",
        "440604",
        "chancheng-urban",
    ),
    (
        "shiwan-squad",
        "佛山市禅城区城市管理和综合执法局石湾执法中队",
        "石湾城管中队",
        "440604",
        "chancheng-urban",
    ),
]

# (code, name, queue prefix)
WINDOW_CATEGORIES = [
    ("personal", "个人办事", "A"),
    ("enterprise", "企业办事", "B"),
    ("construction", "工程建设", "C"),
    ("other", "其他", "D"),
]

# (key, name, region code, address, [(window number, [category codes])])
HALLS = [
    (
        "city",
        "佛山市政务服务中心",
        "440600000000",
        "佛山市禅城区岭南大道北行政服务中心（示例地址）",
        [
            ("A01", ["personal"]),
            ("A02", ["personal"]),
            ("A03", ["personal", "other"]),
            ("B01", ["enterprise"]),
            ("B02", ["enterprise"]),
            ("C01", ["construction"]),
            ("C02", ["construction", "enterprise"]),
            ("D01", ["other"]),
        ],
    ),
    (
        "chancheng",
        "禅城区政务服务中心",
        "440604000000",
        "佛山市禅城区季华五路（示例地址）",
        [
            ("01", ["personal"]),
            ("02", ["personal", "other"]),
            ("03", ["enterprise"]),
            ("04", ["enterprise", "construction"]),
        ],
    ),
    (
        "zumiao",
        "祖庙街道党群服务中心",
        "440604001000",
        "佛山市禅城区祖庙街道（示例地址）",
        [("1", ["personal", "other"])],
    ),
]

# (username, full name, role, scope) — scope: department key, (hall key, window), or None
STAFF = [
    ("admin", "系统管理员", Role.SYSTEM_ADMIN, None),
    ("clerk", "陈晓敏", Role.WINDOW_CLERK, ("city", "A01")),
    ("clerk_biz", "黄志强", Role.WINDOW_CLERK, ("city", "B01")),
    ("clerk_cc", "梁嘉欣", Role.WINDOW_CLERK, ("chancheng", "01")),
    ("reviewer", "李文华", Role.REVIEWER, "market"),
    ("reviewer_cc", "何俊杰", Role.REVIEWER, "chancheng-market"),
    ("reviewer_build", "周建国", Role.REVIEWER, "housing"),
    ("head", "吴国栋", Role.DEPARTMENT_HEAD, "market"),
    ("agent", "林小雨", Role.HOTLINE_AGENT, None),
    ("handler", "郑志明", Role.UNIT_HANDLER, "chancheng-urban"),
    ("supervisor", "罗振华", Role.SUPERVISOR, None),
    ("catalog", "谢雅婷", Role.CATALOGUE_ADMIN, None),
    ("disclosure", "邓丽君", Role.DISCLOSURE_OFFICER, "gov-data"),
    # Added for the demo cases: a clerk of the construction windows, and the reviewers and
    # heads of the departments whose items have cases. Keep new rows at the end.
    ("clerk_build", "刘婉婷", Role.WINDOW_CLERK, ("city", "C01")),
    ("head_cc", "冯志远", Role.DEPARTMENT_HEAD, "chancheng-market"),
    ("head_build", "邱国强", Role.DEPARTMENT_HEAD, "housing"),
    ("reviewer_hr", "方晓雯", Role.REVIEWER, "hrss"),
    ("head_hr", "蔡明辉", Role.DEPARTMENT_HEAD, "hrss"),
    ("reviewer_police", "彭家豪", Role.REVIEWER, "police"),
    ("head_police", "唐卫东", Role.DEPARTMENT_HEAD, "police"),
    # Added for the demo joint applications (yimen.demo.joint): the departments of 开办企业
    # and of the construction project's stages that had nobody to review or decide.
    ("reviewer_tax", "朱海燕", Role.REVIEWER, "tax"),
    ("reviewer_fund", "许晓东", Role.REVIEWER, "housing-fund"),
    ("reviewer_bank", "韩雪梅", Role.REVIEWER, "bank"),
    ("reviewer_dev", "曹志刚", Role.REVIEWER, "development"),
    ("reviewer_land", "杨丽珍", Role.REVIEWER, "land"),
    ("head_land", "高伟明", Role.DEPARTMENT_HEAD, "land"),
    ("reviewer_eco", "钟慧敏", Role.REVIEWER, "eco"),
    ("head_eco", "江振宇", Role.DEPARTMENT_HEAD, "eco"),
    ("reviewer_urban", "潘国华", Role.REVIEWER, "urban"),
    ("head_urban", "袁启明", Role.DEPARTMENT_HEAD, "urban"),
    # Added for the 12345 hotline's demo month: two more agents of the center, and the
    # hotline liaison (热线联络员) of every unit that orders are dispatched to.
    ("agent_2", "黎嘉怡", Role.HOTLINE_AGENT, None),
    ("agent_3", "区永康", Role.HOTLINE_AGENT, None),
    ("handler_urban", "莫振东", Role.UNIT_HANDLER, "urban"),
    ("handler_housing", "温雅琪", Role.UNIT_HANDLER, "housing"),
    ("handler_fund", "麦子健", Role.UNIT_HANDLER, "housing-fund"),
    ("handler_transport", "卢志伟", Role.UNIT_HANDLER, "transport"),
    ("handler_police", "关浩然", Role.UNIT_HANDLER, "police"),
    ("handler_market", "岑晓琳", Role.UNIT_HANDLER, "market"),
    ("handler_cc_market", "欧阳敏", Role.UNIT_HANDLER, "chancheng-market"),
    ("handler_hr", "霍家俊", Role.UNIT_HANDLER, "hrss"),
    ("handler_health", "简嘉慧", Role.UNIT_HANDLER, "health"),
    ("handler_medical", "伍诗琪", Role.UNIT_HANDLER, "medical"),
    ("handler_edu", "容振邦", Role.UNIT_HANDLER, "education"),
    ("handler_eco", "邝美玲", Role.UNIT_HANDLER, "eco"),
    ("handler_water_supply", "甘伟棠", Role.UNIT_HANDLER, "water-supply"),
    ("handler_power", "苏国良", Role.UNIT_HANDLER, "power"),
    ("handler_gas", "戴慧芳", Role.UNIT_HANDLER, "gas"),
    ("handler_cable", "古志坚", Role.UNIT_HANDLER, "cable"),
    ("handler_water", "招文杰", Role.UNIT_HANDLER, "water"),
    ("handler_civil", "植丽华", Role.UNIT_HANDLER, "civil"),
    ("handler_tax", "饶建明", Role.UNIT_HANDLER, "tax"),
    ("handler_land", "骆淑仪", Role.UNIT_HANDLER, "land"),
    ("handler_gov_data", "严俊辉", Role.UNIT_HANDLER, "gov-data"),
    ("handler_dev", "孔德成", Role.UNIT_HANDLER, "development"),
    ("handler_cc_gov", "黎耀华", Role.UNIT_HANDLER, "chancheng-gov"),
    ("handler_nh_gov", "钟伟强", Role.UNIT_HANDLER, "nanhai-gov"),
    ("handler_sd_gov", "何嘉琳", Role.UNIT_HANDLER, "shunde-gov"),
    ("handler_gm_gov", "谭志荣", Role.UNIT_HANDLER, "gaoming-gov"),
    ("handler_ss_gov", "陆海燕", Role.UNIT_HANDLER, "sanshui-gov"),
    ("handler_zumiao", "梁永杰", Role.UNIT_HANDLER, "zumiao"),
    ("handler_shiwan", "邓秀英", Role.UNIT_HANDLER, "shiwan"),
    ("handler_zhangcha", "叶国华", Role.UNIT_HANDLER, "zhangcha"),
    ("handler_nanzhuang", "冼少芬", Role.UNIT_HANDLER, "nanzhuang"),
    ("handler_zumiao_squad", "区卓明", Role.UNIT_HANDLER, "zumiao-squad"),
    ("handler_shiwan_squad", "黄伟明", Role.UNIT_HANDLER, "shiwan-squad"),
]

# Applicants. Persons: (name, district code, birth date, phone, username or None)
PERSONS = [
    ("张三", "440604", "19850312", "13800000001", "citizen"),
    ("李四", "440604", "19900721", "13800000002", None),
    ("王五", "440605", "19780105", "13800000003", None),
    ("赵六", "440605", "19951130", "13800000004", None),
    ("孙七", "440606", "19880808", "13800000005", None),
    ("周八", "440606", "20000229", "13800000006", None),
    ("吴九", "440607", "19720610", "13800000007", None),
    ("郑十", "440608", "19830917", "13800000008", None),
    ("钱小一", "440604", "19990101", "13800000009", None),
    ("冯小二", "440605", "19670423", "13800000010", None),
    ("陈示例", "440606", "19910315", "13800000011", None),
    ("褚测试", "440607", "19860206", "13800000012", None),
    ("卫演示", "440608", "20010709", "13800000013", None),
    ("蒋样本", "440604", "19750828", "13800000014", None),
    ("沈虚构", "440605", "19931212", "13800000015", None),
]
# Enterprises: (name, district code, legal representative, phone, username or None)
ENTERPRISES = [
    ("佛山市禅城区示例商贸有限公司", "440604", "张三", "13900000001", "company"),
    ("佛山市南海区演示科技有限公司", "440605", "王五", "13900000002", None),
    ("佛山市顺德区样板家电制造有限公司", "440606", "孙七", "13900000003", None),
    ("佛山市三水区虚构食品有限公司", "440607", "吴九", "13900000004", None),
    ("佛山市高明区测试建筑工程有限公司", "440608", "郑十", "13900000005", None),
]
