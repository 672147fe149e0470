"""The demo 12345 hotline's month of work orders: the last full calendar month before the
day of the load and the current month up to that moment, a few thousand orders over the
channels, types, categories, districts and units of the demo city, so that the statistics,
the monthly bulletin and the dispatch assistant have something to show.

Every order is walked through yimen.hotline.orders, step by step, with
`django.utils.timezone.now` held at each step's moment and all steps of all orders taken in
time order, the hourly sweep included: the clocks, the cards of late units, the audit chain
and the figures are those the services make. Each order's story is drawn upfront from a
seeded generator (random.Random), so a seed always gives the same month:

- intake by phone mostly, also the website, WeChat, the app, SMS, letters and the citizen's
  window kiosks; consultations mostly answered at once from a published knowledge article of
  the category, the rest dispatched to the leaf's unit, or to the district government for
  local matters (属地), which passes some to its streets and squads (转派);
- most units sign and reply on time, a few late (yellow cards, a couple red); co-handlers,
  returns (退单: mostly approved and dispatched again), extensions, replies sent back,
  supervision orders, repeat calls linked to their earlier order, dissatisfied callers whose
  orders are handled again;
- the latest orders are still open at the moment of the load, some of them overdue, so the
  queues of the demo agent and the demo handler are live;
- the demo applicants' logins (citizen, company) have their own web reports in each state a
  caller sees — one closed with the caller's verdict given online, one waiting for it, one
  with a unit —, and the demo handler's unit a supervision order still to answer.

Texts come from templates per leaf with Foshan's streets, communities and estates in the
slots; callers are fictitious (陈先生, 138 0000 xxxx). Orders are marked by their idempotency
key (demo-month-…), so loading again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from unittest import mock

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from yimen.accounts.models import User
from yimen.common import workdays
from yimen.common.choices import Channel
from yimen.common.models import Clock
from yimen.hotline import orders as services
from yimen.hotline import stats
from yimen.hotline.models import (
    Assignment,
    Card,
    Category,
    KnowledgeArticle,
    OrderRequest,
    Supervision,
    WorkOrder,
)
from yimen.org.models import Department, Region

from . import city
from . import hotline as demo_hotline

KEY_PREFIX = "demo-month-"
DEFAULT_ORDERS = 5000

# --- the texts ----------------------------------------------------------------------------------

# Where the orders come from: district code → its towns, each with communities, roads and a
# centre (latitude, longitude) that app and WeChat orders scatter around. Illustrative.
PLACES: dict[str, list[tuple[str, list[str], list[str], tuple[float, float]]]] = {
    "440604": [
        ("祖庙街道", ["升平社区", "普君社区", "莲花社区", "兆祥社区"],
         ["祖庙路", "福贤路", "建新路", "人民路", "莲花路", "汾江中路"], (23.030, 113.110)),
        ("石湾镇街道", ["东平社区", "石湾社区", "澜石社区"],
         ["江湾一路", "跃进路", "季华四路", "绿景一路", "岭南大道南"], (23.005, 113.125)),
        ("张槎街道", ["大富社区", "村头社区", "张槎社区"],
         ["张槎一路", "佛山大道北", "魁奇一路", "轻工三路"], (23.040, 113.075)),
        ("南庄镇", ["紫南村", "罗南村", "吉利村"],
         ["南庄大道", "季华西路", "紫洞路", "禅港路"], (23.000, 113.020)),
    ],
    "440605": [
        ("桂城街道", ["平洲社区", "夏西社区", "叠滘社区", "灯湖社区"],
         ["南海大道", "桂澜路", "海八路", "南桂路", "灯湖东路"], (23.035, 113.150)),
        ("狮山镇", ["小塘社区", "松岗社区", "官窑社区"],
         ["狮山大道", "广云路", "博爱路", "罗村大道"], (23.135, 113.010)),
        ("大沥镇", ["黄岐社区", "盐步社区", "大沥社区"],
         ["广佛路", "沥桂路", "黄岐大道", "盐步大道"], (23.105, 113.105)),
    ],
    "440606": [
        ("大良街道", ["金榜社区", "凤城社区", "南国社区"],
         ["凤山路", "德和路", "南国东路", "新桂路"], (22.840, 113.250)),
        ("容桂街道", ["华口社区", "容里社区", "桂洲社区"],
         ["容桂大道", "桂洲大道", "文华路", "红旗中路"], (22.775, 113.270)),
    ],
    "440607": [
        ("西南街道", ["广海社区", "西青社区", "金本社区"],
         ["健力宝南路", "广海大道", "西青大道", "三达路"], (23.160, 112.890)),
    ],
    "440608": [
        ("荷城街道", ["富湾社区", "沧江社区", "西安社区"],
         ["沧江路", "文昌路", "荷富路", "江湾路"], (22.900, 112.890)),
    ],
}  # fmt: skip
DISTRICT_NAMES = {
    "440604": "禅城区",
    "440605": "南海区",
    "440606": "顺德区",
    "440607": "三水区",
    "440608": "高明区",
}
DISTRICT_SHARE = {"440604": 28, "440605": 32, "440606": 24, "440607": 8, "440608": 8}
ESTATES = (
    "金沙花园 明珠苑 翠湖豪庭 江景华府 丽日豪园 榕树新村 锦华小区 怡景花园 绿岛湖畔 华庭雅苑 "
    "荔园小区 碧水湾 新城丽苑 东方名都 海华花园 南湖居 柏丽花园 凤凰新村 汇景苑 金域蓝湾 "
    "丰盛园 雅居乐苑 世纪华庭 映月湖 桂花苑 康乐新村 城南小区 紫荆花园"
).split()
SHOPS = "大排档 烧烤店 宵夜档 酒吧 KTV 便利店 五金店 汽修店 茶餐厅 麻将馆 水果店 早餐店".split()
FACTORIES = "五金厂 家具厂 陶瓷厂 铝材厂 纺织厂 印花厂 电子厂 注塑厂 包装厂 不锈钢厂".split()
TIMES = (
    "晚上十一点以后",
    "凌晨一两点",
    "每天早上六点前",
    "晚上十点到凌晨",
    "中午午休时间",
    "周末整晚",
    "每天傍晚",
)
SINCE = ("今天早上七点", "今天上午", "昨天晚上", "昨晚十点", "今天中午", "凌晨三点多", "昨天下午")
SPANS = ("两天了", "三天了", "快一个星期了", "一个多星期了", "半个多月了", "一个多月了")
DIRECTIONS = ("往南", "往北", "往东", "往西", "进城", "出城")
SURNAMES = (
    "陈 李 黄 梁 张 林 何 刘 吴 罗 郭 麦 谭 区 冯 邓 关 卢 钟 苏 叶 潘 杜 伍 霍 莫 朱 周 "
    "谢 曾 彭 邝 欧阳 司徒 岑 简 温 植 招 甘"
).split()
TITLES = ("先生", "女士", "先生", "女士", "阿姨", "伯")
PHONE_PREFIXES = ("138", "139", "135", "137", "136", "159", "188", "189", "133", "186")

# leaf → (consultation weight, problem weight, share urgent, problem templates, what the unit
# did). Templates are separated by ｜ and begin with the type they report: C complaint,
# H request for help, R report of wrongdoing, S suggestion. Slots: {addr} {place} {estate}
# {road} {road2} {community} {town} {district} {time} (when it keeps happening: 每天傍晚)
# {since} (when it started: 今天早上七点) {days} {n} (2–9) {route} (a bus line) {shop}
# {factory} {dir}.
LEAVES: dict[str, tuple[int, int, float, str, str]] = {
    # 城乡建设 › 市政设施
    "路灯不亮": (1, 6, 0.05,
        "H:{addr}一带的路灯晚上不亮，{days}，路段很黑，行人和电动车通行不安全，请尽快维修。｜"
        "H:{road}靠近{estate}门口有{n}盏路灯一直闪烁，时亮时灭，希望派人修复。｜"
        "C:之前反映过{road}路灯不亮的问题，{days}仍未修好，对处理速度不满意。｜"
        "S:{community}内部道路路灯太少、照明不足，建议增设路灯。",
        "路灯养护单位已到场更换损坏的灯具和线路，路灯恢复正常照明"),
    "道路破损坑洼": (1, 5, 0.1,
        "H:{road}{dir}方向路面出现一个大坑，下雨积水看不清，已有电动车摔倒，请尽快修补。｜"
        "H:{road}靠近{estate}的路段路面下沉开裂，车辆经过颠簸严重，担心发生事故。｜"
        "C:{road}路面坑洼不平{days}，多次看到有车辆爆胎，希望相关部门重视。",
        "养护单位已对破损路面进行修补并设置警示标志，路面恢复平整"),
    "井盖缺失破损": (1, 3, 0.35,
        "H:{addr}人行道上有个井盖缺失，只用一块木板盖着，晚上很危险，请马上处理。｜"
        "H:{road}与{road2}交界处的井盖破损松动，车辆压过发出很大响声，担心塌陷。｜"
        "H:{estate}门口的雨水井盖破了个洞，小孩经过很危险。",
        "已对缺失井盖临时围蔽并更换新井盖，消除了安全隐患"),
    "人行道设施损坏": (1, 3, 0.0,
        "H:{addr}人行道地砖松动翘起，下雨踩上去会溅水，老人容易绊倒，请修复。｜"
        "H:{road}人行道护栏被车撞断，{days}没人处理，存在安全隐患。｜"
        "C:{road}的盲道被车辆碾压破损、部分被占用，请恢复。",
        "已安排维修班组更换松动地砖、修复护栏和盲道"),
    # 城乡建设 › 房屋管理
    "物业服务纠纷": (2, 7, 0.0,
        "C:{estate}物业公司不作为，小区垃圾堆放多天不清理，电梯经常故障，业主多次反映无果。｜"
        "C:{estate}物业在未公示的情况下上调物业费，业主不认可，要求查处。｜"
        "C:{estate}物业不允许业主电动车进入小区，也不提供充电设施，要求协调。｜"
        "C:{estate}物业擅自将小区公共绿地改成收费停车位，业主不同意。",
        "已约谈物业服务企业负责人，责令其限期整改并向业主公示收费依据"),
    "房屋漏水与专项维修资金": (2, 3, 0.0,
        "H:{estate}{n}栋顶楼天面漏水，楼下多户受影响，想申请使用专项维修资金维修，物业推诿。｜"
        "C:楼上住户卫生间漏水到来电人家中{days}，协商不成，物业也不管，请协调。",
        "已组织物业和业主现场查看漏水点，协调维修并指导业主按程序申请专项维修资金"),
    "商品房交付与质量": (1, 3, 0.0,
        "C:{district}某楼盘延期交楼已{n}个月，开发商未按合同赔偿违约金，要求有关部门介入。｜"
        "C:新交付的{estate}房屋墙面开裂、门窗渗水，开发商拖延维修。",
        "已约谈开发商，责成其按合同约定履行保修义务并限期完成维修"),
    "房屋租赁": (2, 3, 0.0,
        "C:来电人租住{addr}，租约到期后房东以各种理由拒退押金{n}000元。｜"
        "R:{estate}有二房东将房屋隔成多间出租，楼道堆满杂物，消防隐患大，请核查。",
        "已联系房东调解，双方就押金退还达成一致，并对群租情况开展了检查"),
    # 城乡建设 › 住房保障与公积金
    "公租房申请": (3, 2, 0.0,
        "H:来电人家庭住房困难，申请公租房已经{n}个月没有消息，希望了解审核进度。｜"
        "R:公租房小区{estate}有承租人将房屋转租牟利，请核查。",
        "已查询申请进度并告知来电人，同时对转租情况开展核查"),
    "公积金提取": (8, 2, 0.0,
        "C:来电人办理公积金租房提取被告知材料不全，多次往返，对办理流程不满意。｜"
        "H:来电人离职后申请提取公积金{days}仍未到账，请协助查询。",
        "已核实提取申请，资金已转入来电人账户，并向来电人说明了办理流程"),
    "公积金贷款": (5, 1, 0.0,
        "C:来电人申请公积金贷款审批{days}仍未放款，开发商催缴房款，请协调。｜"
        "H:来电人公积金贷款还款账户扣款异常，多扣了一期，请核查。",
        "已核查贷款审批进度并加快办理，已向来电人说明放款时间"),
    # 城乡建设 › 建筑施工
    "夜间施工噪声": (1, 6, 0.0,
        "C:{addr}附近工地{time}仍在施工，打桩机声音很大，严重影响周边居民休息。｜"
        "C:{estate}旁边的工地夜间施工{days}，已经影响小孩学习和睡眠。｜"
        "R:{road}某工地未办理夜间施工许可，每晚施工到凌晨。",
        "已到工地现场检查，责令施工单位停止夜间违规施工，并将持续巡查"),
    "工地扬尘与渣土": (1, 4, 0.0,
        "C:{road}工地出入车辆未冲洗，渣土撒漏满路，扬尘很大。｜"
        "R:有泥头车{time}在{place}偷倒建筑垃圾，请查处。｜"
        "C:{estate}对面的工地裸土没有覆盖，刮风时灰尘飘进住户家中。",
        "已责令施工单位落实冲洗和覆盖措施，清理撒漏渣土，并对运输车辆依法处罚"),
    "违法建设": (1, 4, 0.0,
        "R:{estate}{n}栋顶楼住户正在加建铁皮房，请查处。｜"
        "R:{addr}有人在空地上违法搭建厂房，已经开始打地基。｜"
        "R:{estate}一楼住户擅自扩建围墙占用公共通道。",
        "经现场核查属实，已下达停工通知书并责令当事人限期自行拆除"),
    # 城市管理 › 市容环境
    "占道经营与流动摊贩": (1, 6, 0.0,
        "C:{place}{time}有大量流动摊贩占道经营，油烟噪声扰民，行人无法通行。｜"
        "C:{road}有一家{shop}把桌椅摆到人行道上经营，占道严重。｜"
        "C:{estate}门口的水果摊长期占用消防通道，多次劝说无效。",
        "执法队员已到现场劝离流动摊贩，责令商户收回占道物品，并纳入日常巡查"),
    "垃圾清运不及时": (1, 4, 0.0,
        "C:{estate}门口的垃圾桶满了{days}，一直没人清运，臭味很大，蚊蝇滋生。｜"
        "C:{place}垃圾转运站清运不及时，污水横流，影响周边居民。",
        "已督促保洁单位当天完成清运并清洗站点，增加清运频次"),
    "垃圾分类": (3, 2, 0.0,
        "C:{estate}垃圾分类投放点设置在住户窗下，异味很大，要求调整位置。｜"
        "S:{community}垃圾分类定时定点投放时间太短，上班族赶不上，建议延长投放时间。",
        "已协调社区和物业调整投放点位置和投放时间"),
    "违规户外广告招牌": (1, 2, 0.0,
        "R:{road}有商铺私自安装大型广告牌，台风天存在坠落隐患。｜"
        "C:{place}墙面和电线杆上到处张贴小广告，影响市容。",
        "已责令商户拆除违规招牌，并组织清理小广告"),
    # 城市管理 › 园林绿化
    "树木倒伏与修剪": (1, 3, 0.3,
        "H:{addr}有一棵大树倾斜倒向马路，随时可能倒下，请紧急处理。｜"
        "H:{estate}外的行道树树枝遮挡路灯和二楼窗户，请安排修剪。｜"
        "H:{road}有树木倒伏压在路边车辆上，阻碍通行。",
        "园林养护单位已到场处置倒伏树木并对周边树木进行修剪"),
    "绿地损毁": (1, 1, 0.0,
        "R:{road}绿化带被人私自铲除用来种菜。｜"
        "C:{place}公园草坪被车辆碾压损毁严重，请恢复。",
        "已恢复被毁绿地，并对当事人进行了教育"),
    # 城市管理 › 公共设施
    "公厕管理": (1, 1, 0.0,
        "C:{place}公厕卫生很差，无人打扫，洗手池也坏了。｜"
        "S:{community}附近没有公共厕所，建议增设。",
        "已督促保洁单位加强清扫并维修损坏设施"),
    "共享单车乱停放": (1, 2, 0.0,
        "C:{place}地铁站口共享单车乱停乱放，堵塞人行道。｜"
        "C:{estate}门口堆满了共享单车，居民出入不便。",
        "已通知共享单车企业清运车辆，并在站点周边施划停放区域"),
    # 交通出行 › 公共交通
    "公交线路与站点": (3, 3, 0.0,
        "S:{estate}附近没有公交站，居民出行不便，希望增设站点或开通线路。｜"
        "C:{route}路公交车在{place}站经常等半个多小时都不来。｜"
        "C:{road}的公交站台雨棚损坏，下雨没地方避雨。",
        "已将线路和站点需求纳入公交线网优化研究，并要求公交企业加强班次管理"),
    "公交服务态度": (1, 2, 0.0,
        "C:{route}路公交车司机态度恶劣，乘客询问站点时出言不逊。｜"
        "C:{route}路公交车司机不等乘客坐稳就急刹急起，车上老人差点摔倒。",
        "已约谈公交企业，对涉事司机进行批评教育并扣减绩效"),
    "地铁运营": (2, 1, 0.0,
        "C:地铁早高峰在{town}站拥挤严重，建议加密班次。｜"
        "C:地铁站出入口的电梯经常停用，老人出行不便。",
        "已反馈地铁运营单位，高峰时段增加运力并加快电梯维修"),
    # 交通出行 › 出租车与网约车
    "出租车拒载绕路": (1, 2, 0.0,
        "C:来电人{since}在{place}乘坐出租车，司机绕路多收费。｜"
        "C:{place}出租车拒载短途乘客，挑客现象严重。",
        "已调取车辆轨迹核实，对涉事司机依法处罚并退还多收车费"),
    "网约车投诉": (1, 2, 0.0,
        "C:来电人通过网约车平台叫车，司机中途要求加价，不同意就让下车。｜"
        "C:网约车司机多收了高速费和等候费，平台不处理。",
        "已约谈网约车平台，责成其核实退费并对司机进行处理"),
    # 交通出行 › 道路交通
    "交通信号灯故障": (1, 2, 0.4,
        "H:{road}与{road2}路口交通信号灯不亮，路口交通混乱，请尽快维修。｜"
        "H:{road}路口的信号灯绿灯时间太短，行人过马路来不及。",
        "交警部门已派员到场疏导交通并修复信号灯，优化了配时"),
    "违法停车": (1, 5, 0.0,
        "C:{estate}门口长期有车辆乱停，堵塞消防通道。｜"
        "C:{road}两侧车辆违停，导致交通堵塞，公交车都过不去。｜"
        "C:{place}人行道上停满了车辆，行人只能走机动车道。",
        "交警部门已加强巡查，对违停车辆依法处罚，并施划禁停标线"),
    "驾驶证与车辆业务": (4, 1, 0.0,
        "C:来电人到车管所办理驾驶证换证，排队大半天仍未办好，对效率不满意。｜"
        "H:来电人的车辆年检预约系统一直无法预约，请协助。",
        "已协调车管所优化办理流程，并为来电人预约办理时间"),
    # 市场监管 › 消费维权
    "商品质量": (1, 3, 0.0,
        "C:来电人在{place}一家商场购买的电热水壶用了没几天就漏电，商家拒绝退换。｜"
        "C:来电人购买的家具出现开裂变形，商家不履行三包义务。",
        "已组织消费者与商家调解，商家同意退换商品"),
    "预付卡退费": (1, 4, 0.0,
        "C:来电人在{place}一家健身房办理了{n}000元的会员卡，现门店关闭，无法退费。｜"
        "C:{road}一家美发店突然停业，来电人预付卡余额{n}00元无法使用。｜"
        "C:来电人给孩子在{place}报的游泳课预付费，机构拒绝退还剩余课时费用。",
        "已约谈经营者，经调解经营者同意分期退还预付卡余额"),
    "网购纠纷": (1, 3, 0.0,
        "C:来电人网购的商品与描述不符，商家不履行七天无理由退货。｜"
        "C:来电人在直播间购买的保健品疑似假货，商家拒不退款。",
        "已将投诉转交商家所在地市场监管部门，并指导消费者向平台申诉"),
    # 市场监管 › 食品药品安全
    "餐饮食品安全": (1, 3, 0.0,
        "R:{place}一家{shop}后厨卫生脏乱，来电人就餐后腹泻。｜"
        "R:{road}一家外卖店无证经营，卫生条件很差。",
        "已对涉事餐饮单位开展检查，责令整改并依法立案调查"),
    "过期变质食品": (1, 2, 0.0,
        "R:来电人在{place}一家便利店买到过期{n}天的牛奶。｜"
        "R:{road}一家超市销售变质的熟食。",
        "已对商户开展检查，下架过期食品并依法立案处理"),
    "药品与医疗器械": (1, 1, 0.0,
        "R:{place}一家药店无处方销售处方药。｜"
        "R:{road}有商家向老人推销所谓的治疗仪，夸大宣传疗效。",
        "已对涉事药店开展检查，依法责令改正并立案调查"),
    # 市场监管 › 价格与计量
    "价格违法": (1, 2, 0.0,
        "C:{place}一个停车场收费标准未公示，实际收费高于规定。｜"
        "C:{road}一家酒店结账时的价格与菜单标价不一致。",
        "已对经营者价格行为进行检查，责令其明码标价并退还多收费用"),
    "缺斤少两": (1, 2, 0.0,
        "C:来电人在{place}菜市场买菜被缺斤少两，一斤只有八两。｜"
        "C:{community}菜市场有摊贩使用作弊秤。",
        "已对市场内计量器具进行检查，没收作弊秤并对摊贩依法处罚"),
    # 市场监管 › 商事登记
    "企业开办与变更": (5, 1, 0.0,
        "C:来电人网上申请企业变更登记多次被退回，每次退回原因不一致。",
        "已核实申请材料并一次性告知需补正内容，来电人已完成变更登记"),
    "个体工商户登记": (4, 1, 0.0,
        "H:来电人办理个体工商户注销时被告知有未结业务，不清楚如何处理，请协助。",
        "已联系来电人说明注销所需材料和流程"),
    # 人力资源和社会保障 › 劳动关系
    "拖欠工资": (2, 7, 0.05,
        "H:来电人在{district}一家{factory}工作，公司拖欠{n}个月工资，老板一直推脱。｜"
        "H:{n}0多名工人在{addr}的工地务工，包工头拖欠工资后失联。｜"
        "H:来电人从{town}一家{shop}离职{days}，老板拒绝结算最后一个月的工资。",
        "劳动保障监察已立案调查，约谈用人单位负责人，责令其限期支付拖欠工资"),
    "劳动合同纠纷": (3, 3, 0.0,
        "C:来电人在{town}一家{factory}工作一年多，公司一直不签劳动合同。｜"
        "C:公司单方面解除劳动合同且不支付经济补偿。",
        "已向来电人讲解劳动合同相关规定，并约谈用人单位依法整改"),
    "工伤认定": (3, 2, 0.0,
        "H:来电人在{factory}上班时受伤，公司不愿申报工伤，请协助。｜"
        "C:来电人申请工伤认定{days}仍未出结果。",
        "已指导来电人提交工伤认定申请材料，并督促用人单位配合调查"),
    # 人力资源和社会保障 › 社会保险
    "养老保险": (7, 1, 0.0,
        "H:来电人养老保险缴费记录缺失了几个月，请协助核查。",
        "已核查缴费记录并指导来电人办理补录"),
    "失业保险与失业登记": (5, 1, 0.0,
        "C:来电人申领失业保险金{days}仍未到账。",
        "已核实申领情况，失业保险金已发放"),
    "社会保障卡": (6, 1, 0.0,
        "H:来电人的社保卡丢失后补办{days}仍未拿到新卡。",
        "已查询制卡进度，新卡已制作完成并通知来电人领取"),
    # 人力资源和社会保障 › 就业创业
    "就业创业补贴": (4, 1, 0.0,
        "C:来电人申请的创业补贴审核通过后{days}仍未发放。",
        "已核查补贴发放进度，补贴已拨付至来电人账户"),
    "职业技能培训": (3, 1, 0.0,
        "C:来电人参加的职业技能培训机构承诺的补贴一直未兑现。",
        "已核查培训机构的补贴申领情况并责令其按承诺兑现"),
    # 医疗卫生 › 医疗服务
    "医院服务态度": (1, 3, 0.0,
        "C:来电人在{district}一家医院就诊时，医生态度生硬，问诊不到两分钟就开检查。｜"
        "C:{town}社区卫生服务中心挂号窗口排队时间长，工作人员态度冷淡。",
        "已责成医院调查核实，对相关医务人员进行批评教育，并改进服务流程"),
    "医疗纠纷": (1, 1, 0.0,
        "C:来电人家属在医院手术后出现并发症，对医院的处理不满意。",
        "已告知来电人医疗纠纷的调解和鉴定途径，并督促医院与家属沟通"),
    # 医疗卫生 › 医疗保障
    "医保报销": (6, 1, 0.0,
        "C:来电人异地就医回来报销医保被告知材料不全，多次往返。",
        "已向来电人一次性说明报销所需材料，并协助完成报销"),
    "医保参保缴费": (5, 1, 0.0,
        "H:来电人城乡居民医保缴费后系统显示未参保，请核查。",
        "已核实缴费记录并更新参保状态"),
    # 医疗卫生 › 公共卫生
    "疫苗接种": (4, 1, 0.0,
        "C:{town}社区卫生服务中心疫苗接种预约很难约上。",
        "已协调接种点增加预约号源"),
    "病媒生物防治": (1, 2, 0.0,
        "H:{estate}老鼠蟑螂很多，希望组织消杀。｜"
        "H:{place}积水多、蚊子多，担心传播登革热，请组织灭蚊。",
        "已组织社区开展病媒生物消杀并清理积水"),
    # 教育 › 招生入学
    "小学一年级入学": (5, 1, 0.0,
        "C:来电人孩子的入学申请材料审核未通过，但未告知具体原因。",
        "已联系来电人说明审核情况和补正材料"),
    "积分入学": (5, 1, 0.0,
        "C:来电人对积分入学的积分计算结果有异议，申请复核。",
        "已复核来电人的积分并告知复核结果"),
    # 教育 › 学校管理
    "校外培训机构": (1, 3, 0.0,
        "C:{place}一家培训机构突然停课，拒绝退还剩余学费{n}000元。｜"
        "R:{road}有培训机构无证办学。",
        "已约谈培训机构负责人，责令其退还学费，并对无证办学依法处理"),
    "学校收费": (2, 1, 0.0,
        "R:{town}一所学校以资料费名义向学生收取费用，请核查。",
        "已对学校收费情况进行核查，责令退还违规收取的费用"),
    # 生态环境 › 污染防治
    "工业废气": (1, 3, 0.0,
        "C:{addr}附近的工厂{time}排放刺鼻废气，居民不敢开窗。｜"
        "C:{town}一家{factory}烟囱冒黑烟，气味很大。",
        "已对涉事企业开展执法检查，责令其整改废气处理设施并依法立案"),
    "社会生活噪声": (1, 5, 0.0,
        "C:{estate}楼下的{shop}{time}音响很大，严重扰民。｜"
        "C:{place}广场舞音响声音太大，每晚都跳到十点多。｜"
        "C:{estate}楼上住户{time}经常搬动家具，噪声扰民，协商无果。",
        "已到现场调查，对噪声源进行劝导和处罚，并将持续跟进"),
    "河涌水体污染": (1, 2, 0.0,
        "C:{place}河涌发黑发臭，水面有大量垃圾。｜"
        "R:{town}河涌边有排污口往河里排污水。",
        "已组织河涌清漂并排查周边排污口，对违法排污行为依法处理"),
    # 生态环境 › 环境执法
    "企业偷排漏排": (1, 2, 0.0,
        "R:{town}一家{factory}{time}偷偷往雨水管道排放污水。｜"
        "R:{road}附近一家工厂夜间焚烧废料。",
        "已对涉事企业开展夜间突击检查，依法立案查处"),
    # 水电气与公用事业 › 供水
    "停水与水压低": (2, 4, 0.3,
        "H:{estate}从{since}开始停水，没有接到任何通知，请尽快恢复供水。｜"
        "H:{estate}高层住户水压很低，洗澡都成问题，{days}。｜"
        "H:{road}路边水管爆裂，大量自来水外流。",
        "供水公司已抢修管道并恢复正常供水，今后停水将提前通知"),
    "水质问题": (1, 1, 0.1,
        "C:{estate}自来水发黄，有异味。",
        "供水公司已取样检测并冲洗管网，水质恢复正常"),
    "水费账单": (4, 2, 0.0,
        "C:来电人家里这个月水费突然是平时的好几倍，怀疑水表有问题。",
        "供水公司已上门校验水表并核实用水量，重新核算水费"),
    # 水电气与公用事业 › 供电
    "停电": (2, 3, 0.3,
        "H:{estate}从{since}开始停电，没有收到停电通知，请尽快恢复。｜"
        "H:{community}频繁跳闸停电，电器都损坏了。",
        "供电局已派员抢修线路并恢复供电"),
    "电费与电表": (4, 1, 0.0,
        "C:来电人电费账单异常偏高，请核查电表。",
        "供电局已上门校验电表并向来电人解释电费构成"),
    # 水电气与公用事业 › 燃气
    "燃气泄漏隐患": (1, 1, 0.6,
        "H:{estate}楼道里闻到很浓的燃气味，请马上派人处理。｜"
        "H:{road}路边燃气管道被施工挖破，有气体泄漏。",
        "燃气公司已紧急到场关阀抢修，排除了泄漏隐患"),
    "燃气开户与缴费": (4, 1, 0.0,
        "C:来电人申请燃气开户{days}仍未安排上门通气。",
        "燃气公司已安排人员上门通气"),
    # 水电气与公用事业 › 有线电视
    "有线电视故障": (2, 1, 0.0,
        "H:{estate}有线电视没有信号{days}，报修没人来。",
        "已派维修人员上门修复信号"),
    # 水电气与公用事业 › 排水防涝
    "内涝积水": (1, 2, 0.4,
        "H:{road}下雨后严重积水，水深到膝盖，车辆无法通行。｜"
        "H:{estate}地下车库进水，请尽快派人抽水。",
        "已派抢险队伍到场抽排积水，并清疏周边排水管道"),
    "排水管道堵塞": (1, 3, 0.0,
        "H:{addr}下水道堵塞，污水漫到路面，很臭。｜"
        "H:{estate}门口的排水渠堵塞，一下雨就积水。",
        "已组织清疏排水管道，恢复排水畅通"),
    # 公安与社会治安 › 户籍与证件
    "户口迁移": (6, 1, 0.0,
        "C:来电人办理户口迁入多次被要求补充材料，每次要求不一样。",
        "已向来电人一次性说明户口迁入所需材料"),
    "居民身份证": (5, 1, 0.0,
        "H:来电人补办身份证{days}仍未拿到，请查询进度。",
        "已查询制证进度并通知来电人领取"),
    "居住证": (4, 1, 0.0,
        "C:来电人申领居住证后一直未收到领取通知。",
        "已核实办理进度并通知来电人领证"),
    # 公安与社会治安 › 社会治安
    "治安隐患": (1, 2, 0.1,
        "R:{place}晚上经常有人聚集赌博。｜"
        "R:{estate}附近有人非法改装电动车并销售。",
        "公安机关已加强巡查，依法查处违法行为"),
    "养犬管理": (2, 3, 0.0,
        "C:{estate}有住户遛狗不拴绳，已经有小孩被吓哭。｜"
        "C:{estate}有住户在家中饲养多只大型犬，犬吠扰民。",
        "已上门宣传养犬管理规定，对违规养犬行为依法处理"),
    # 民政与社会事务
    "最低生活保障": (4, 1, 0.0,
        "H:来电人家庭困难，申请低保{days}仍未收到审核结果。",
        "已核查申请进度，指导来电人补充材料"),
    "临时救助": (3, 1, 0.0,
        "H:来电人家人突发重病，医疗费用负担重，希望申请临时救助。",
        "已指导来电人向所在镇街申请临时救助"),
    "高龄津贴": (4, 1, 0.0,
        "C:来电人父亲满八十岁后高龄津贴一直没有发放。",
        "已核实老人资格并补发高龄津贴"),
    "养老机构": (3, 1, 0.0,
        "C:来电人母亲所在的养老院护理不到位，老人身上有压疮。",
        "已对养老机构开展检查并责令整改"),
    "结婚离婚登记": (4, 1, 0.0,
        "C:婚姻登记网上预约号源太少，约不上。",
        "已增加婚姻登记预约号源"),
    # 税务
    "个人所得税": (6, 1, 0.0,
        "H:来电人个税汇算清缴退税{days}仍未到账。",
        "已核实退税审核进度，税款已退还"),
    "发票": (3, 2, 0.0,
        "R:{place}一家{shop}消费后拒绝开具发票。",
        "已对商户开展检查，责令其依法开具发票"),
    "社保费缴纳": (4, 1, 0.0,
        "C:来电人灵活就业社保费缴费后显示未到账。",
        "已核实缴费记录，费款已入账"),
    # 自然资源
    "不动产权证办理": (5, 2, 0.0,
        "C:{estate}交楼{n}年了仍然办不了房产证。｜"
        "C:来电人办理二手房过户登记排队时间很长。",
        "已约谈开发企业，督促其完善首次登记手续，为业主分批办理不动产权证"),
    "抵押登记": (3, 1, 0.0,
        "C:来电人贷款已还清，抵押注销登记{days}仍未办好。",
        "已加快办理抵押注销登记并通知来电人"),
    # 政务服务
    "政务服务中心办事": (4, 1, 0.0,
        "C:来电人在{district}政务服务中心办事排队两个多小时，窗口开得很少。｜"
        "C:政务服务中心工作人员对来电人的问题答复不清。",
        "已核实情况，增开高峰时段窗口并加强窗口人员业务培训"),
    "网上办事与粤省事": (4, 1, 0.0,
        "H:来电人在粤省事上办理业务一直提示系统错误。",
        "已联系技术人员排查并修复系统故障，来电人已办理成功"),
    "12345热线服务": (2, 1, 0.0,
        "C:来电人反映12345热线高峰时段难以打通。｜"
        "S:建议12345热线在网站上公开工单办理进度。",
        "已优化热线排班，高峰时段增加座席"),
    "营商环境投诉": (2, 1, 0.0,
        "C:来电人企业申请的扶持资金审核通过{days}仍未兑现。｜"
        "C:企业办理项目审批时被要求提供无依据的证明材料。",
        "已协调相关部门加快资金兑现，并清理无依据的证明事项"),
}  # fmt: skip

# Generic suggestions and praise, filed under the leaf they are about.
SUGGESTIONS = (
    "建议有关部门加强对{leaf}问题的管理，{road}一带此类问题较多，希望定期巡查并公开处理结果。",
    "关于{leaf}，建议在{district}推行网上预约和进度查询，减少群众往返。",
    "建议在{town}设立{leaf}方面的便民咨询点，方便老年人办事。",
)
PRAISES = (
    "来电人表扬{unit}工作人员，此前反映的{leaf}问题很快得到解决，工作人员耐心细致，特此致谢。",
    "来电人对{unit}处理{leaf}问题的效率表示满意，希望转达感谢。",
    "来电人致谢{unit}，工作人员多次上门协调{leaf}问题，服务态度很好。",
)
# What the unit writes back, by type (the leaf's own sentence for problems).
REPLIES = {
    "problem": "经核查，{unit}已于{date}派员到现场处理：{done}。已电话告知来电人处理结果。",
    "consultation": "已电话联系来电人，就{leaf}的政策规定和办理流程作了详细解答，来电人表示清楚。",
    "suggestion": "感谢市民的建议。{unit}已将有关情况纳入工作计划，将结合实际研究采纳。",
    "praise": "已收悉市民的表扬，将在单位内部通报，继续做好服务。",
}
ANSWER_WITHOUT_ARTICLE = "已向来电人解答{leaf}的有关规定，并告知{unit}的咨询电话和办理地点。"

# --- who handles what ---------------------------------------------------------------------------

CHANCHENG = "440604"
# Local matters (属地): the center dispatches them to the district's government.
LOCAL = frozenset({"违法建设", "物业服务纠纷", "垃圾清运不及时", "病媒生物防治"})
DISTRICT_GOVERNMENTS = {
    "440604": "chancheng-gov",
    "440605": "nanhai-gov",
    "440606": "shunde-gov",
    "440607": "sanshui-gov",
    "440608": "gaoming-gov",
}
# The sub-units a unit of 禅城区 passes an order to, by the order's town.
STREETS = {
    "祖庙街道": "zumiao",
    "石湾镇街道": "shiwan",
    "张槎街道": "zhangcha",
    "南庄镇": "nanzhuang",
}
SQUADS = {"祖庙街道": "zumiao-squad", "石湾镇街道": "shiwan-squad"}
# The units that join the lead unit on some orders of a leaf (协办).
CO_UNITS = {
    "违法建设": "land",
    "工地扬尘与渣土": "eco",
    "夜间施工噪声": "eco",
    "河涌水体污染": "water",
    "企业偷排漏排": "water",
    "餐饮食品安全": "health",
    "校外培训机构": "market",
    "内涝积水": "urban",
}


@functools.cache
def leaf_units() -> dict[str, str]:
    """Leaf name → the key of the department that usually handles it."""
    return {name: unit for _c, name, _p, unit, _o in demo_hotline.taxonomy_rows() if unit}


@functools.cache
def _fields() -> dict[str, str]:
    """Leaf name → the code of its top-level field."""
    return {name: code[:2] for code, name, _p, unit, _o in demo_hotline.taxonomy_rows() if unit}


def route(leaf: str, district: str, town: str, rng: random.Random) -> tuple[str, str]:
    """(the unit the center dispatches to, the sub-unit it passes the order on to or "")."""
    default = leaf_units()[leaf]
    if leaf in LOCAL or default == "chancheng-urban":
        if district != CHANCHENG:
            return DISTRICT_GOVERNMENTS[district], ""
        if default == "chancheng-urban":
            return default, (SQUADS.get(town, "") if rng.random() < 0.6 else "")
        return "chancheng-gov", (STREETS[town] if rng.random() < 0.8 else "")
    if default == "chancheng-market":
        return ("chancheng-market" if district == CHANCHENG else "market"), ""
    if default == "urban" and district == CHANCHENG and rng.random() < 0.7:
        return "urban", "chancheng-urban"
    return default, ""


def handlers() -> dict[str, str]:
    """Department key → the username of its hotline liaison (the first unit handler)."""
    found: dict[str, str] = {}
    for username, _name, role, scope in city.STAFF:
        if role == "unit_handler" and isinstance(scope, str):
            found.setdefault(scope, username)
    return found


# --- the shape of the month ---------------------------------------------------------------------

CHANNELS = {"phone": 70, "wechat": 10, "web": 8, "app": 6, "kiosk": 3, "sms": 2, "letter": 1}
TYPES = {"consultation": 55, "complaint": 18, "help": 15, "suggestion": 5, "report": 4, "praise": 3}
TEMPLATE_TYPES = {"C": "complaint", "H": "help", "R": "report", "S": "suggestion"}
TYPE_WORDS = {"complaint": "投诉", "help": "求助", "report": "举报"}
# Calls by hour of the day, and messages (web, WeChat, app, SMS) by hour.
PHONE_HOURS = (
    2, 1, 1, 1, 1, 2, 5, 12, 30, 55, 60, 55,  # 0–11 h
    35, 35, 50, 55, 50, 40, 30, 30, 25, 20, 12, 6,  # 12–23 h
)  # fmt: skip
MESSAGE_HOURS = (
    6, 4, 2, 1, 1, 2, 4, 10, 20, 30, 32, 30,
    25, 25, 30, 30, 28, 26, 26, 30, 32, 30, 22, 12,
)  # fmt: skip
OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 12, 10, 4, 4, 10, 12, 10, 6, 0, 0, 0, 0, 0, 0)
WEEKDAY_VOLUME = (1.15, 1.05, 1.0, 1.0, 1.0, 0.78, 0.72)  # Monday … Sunday
HOLIDAY_VOLUME = 0.7
# Shares of the dispatched orders with each turn of events.
SHARES = {
    "wrong_unit": 0.009,  # dispatched to the wrong unit: returned, approved, dispatched again
    "return_rejected": 0.002,
    "late_sign": 0.012,
    "late_reply": 0.015,
    "late_both": 0.0015,  # a second card to the same unit on the order is red
    "extension": 0.02,
    "extension_rejected": 0.15,  # of the extensions
    "send_back": 0.02,
    "supervise": 0.005,
    "supervision_late": 0.25,  # of the supervision orders
    "co": 0.25,  # of the orders of a leaf with a co-handling unit
    "duplicate": 0.03,  # a repeat call while the order is open
}
# The callers' verdicts at the first callback (complaints and reports are harder to please)
# and after the order was handled again; the third dissatisfied verdict closes the order.
FIRST_VERDICT = {"satisfied": 76, "basic": 13, "unsatisfied": 8, "unreachable": 3}
FIRST_VERDICT_OF_A_COMPLAINT = {"satisfied": 66, "basic": 15, "unsatisfied": 16, "unreachable": 3}
LATER_VERDICT = {"satisfied": 10, "basic": 15, "unsatisfied": 75}

ONE_DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
_WORK = ((8 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30))  # a unit's working hours, in minutes


@dataclass(frozen=True)
class Plan:
    """One order's story, drawn before the month is walked."""

    n: int
    at: dt.datetime
    channel: str
    order_type: str
    urgency: str
    leaf: str
    district: str
    town: str
    title: str
    content: str
    address: str
    latitude: str
    longitude: str
    caller_name: str
    caller_phone: str
    confidential: bool
    instant: bool
    lead: str
    sub: str = ""
    co: str = ""
    wrong: str = ""
    return_rejected: bool = False
    late_sign: bool = False
    late_reply: bool = False
    extension: bool = False
    extension_rejected: bool = False
    send_back: bool = False
    supervise: bool = False
    supervision_late: bool = False
    duplicate: bool = False
    verdicts: tuple[str, ...] = ("satisfied",)
    # The story ends once the order reaches this status, or ("requested") once the unit
    # has asked for an extension, or ("supervised") once a supervision order is issued:
    # open at the moment of the load.
    stop: str = ""
    master: object = None  # a repeat call: the order it repeats
    account: str = ""  # filed on the web by this demo login, who gives the verdict online
    staged: bool = False  # set up for the demo logins (see _staged): left as it is

    @property
    def urgent(self) -> bool:
        return self.urgency != "normal"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def month_span(end: dt.datetime) -> tuple[dt.date, dt.date, dt.date]:
    """(first day of the last full month, first day of the current month, today)."""
    today = timezone.localdate(end)
    current = today.replace(day=1)
    return (current - ONE_DAY).replace(day=1), current, today


def _day_weight(day: dt.date) -> float:
    weight = WEEKDAY_VOLUME[day.weekday()]
    if day.weekday() < 5 and not workdays.is_workday(day):
        weight = HOLIDAY_VOLUME
    return weight


def daily_counts(orders: int, end: dt.datetime) -> dict[dt.date, int]:
    """How many orders come in each day: exactly `orders` in the last full month, the same
    rate in the current one up to today (today's are cut at the moment of the load)."""
    first, current, today = month_span(end)
    full = [first + dt.timedelta(days=i) for i in range((current - first).days)]
    weights = {day: _day_weight(day) for day in full}
    total = sum(weights.values())
    exact = {day: orders * w / total for day, w in weights.items()}
    counts = {day: int(x) for day, x in exact.items()}
    # largest remainders, so the month has exactly `orders`
    for day in sorted(full, key=lambda d: (counts[d] - exact[d], d))[
        : orders - sum(counts.values())
    ]:
        counts[day] += 1
    day = current
    while day <= today:
        counts[day] = round(orders * _day_weight(day) / total)
        day += ONE_DAY
    return counts


class _Texts:
    """Draws the caller, the place and the words of an order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.problems: dict[str, list[tuple[str, str, float]]] = {t: [] for t in TEMPLATE_TYPES}
        for leaf, (_ask, weight, _u, templates, _done) in LEAVES.items():
            parts = [t.strip() for t in templates.split("｜") if t.strip()]
            for part in parts:
                kind, text = part.split(":", 1)
                self.problems[kind].append((leaf, text, weight / len(parts)))
        self.asks: dict[str, list[str]] = {leaf: [] for leaf in LEAVES}
        for article in demo_hotline.ARTICLES:
            self.asks[article["leaf"]].extend(article["questions"])
        self.ask_weights = {leaf: spec[0] for leaf, spec in LEAVES.items()}
        self.problem_weights = {leaf: spec[1] for leaf, spec in LEAVES.items()}
        self.phones = [
            f"{rng.choice(PHONE_PREFIXES)}0000{n:04d}" for n in rng.sample(range(10000), 4000)
        ]
        self.callers: dict[str, str] = {}

    def caller(self) -> tuple[str, str]:
        phone = self.rng.choice(self.phones)
        if phone not in self.callers:
            self.callers[phone] = self.rng.choice(SURNAMES) + self.rng.choice(TITLES)
        return self.callers[phone], phone

    def place(self, district: str) -> tuple[str, dict[str, str], tuple[float, float]]:
        rng = self.rng
        town, communities, roads, centre = rng.choice(PLACES[district])
        road, road2 = rng.sample(roads, 2)
        community, estate = rng.choice(communities), rng.choice(ESTATES)
        name = DISTRICT_NAMES[district]
        slots = {
            "district": name,
            "town": town,
            "road": road,
            "road2": road2,
            "community": community,
            "estate": estate,
            "addr": rng.choice(
                (f"{name}{town}{road}{rng.randint(1, 320)}号", f"{name}{town}{community}{estate}")
            ),
            "place": rng.choice(
                (
                    f"{town}{road}",
                    f"{community}{estate}附近",
                    f"{road}与{road2}交界处",
                    f"{community}{road}路段",
                )
            ),
            "time": rng.choice(TIMES),
            "days": rng.choice(SPANS),
            "dir": rng.choice(DIRECTIONS),
            "shop": rng.choice(SHOPS),
            "factory": rng.choice(FACTORIES),
            "n": str(rng.randint(2, 9)),
            "route": str(rng.randint(101, 299)),
            "since": rng.choice(SINCE),
        }
        return town, slots, centre

    def problem(self, kind: str, leaf: str = "") -> tuple[str, str]:
        rows = [row for row in self.problems[kind] if row[0] == leaf or not leaf]
        leaf, text, _w = self.rng.choices(rows, weights=[w for _l, _t, w in rows])[0]
        return leaf, text


def _address(template: str, slots: dict[str, str]) -> str:
    if "{addr}" in template:
        return slots["addr"]
    if "{estate}" in template:
        return f"{slots['district']}{slots['town']}{slots['community']}{slots['estate']}"
    if "{road}" in template:
        return f"{slots['district']}{slots['town']}{slots['road']}"
    return f"{slots['district']}{slots['town']}"


ASKING = "吗 么 如何 多久 什么时候 找谁 哪 多少 几 能不能 可以 是否 要不要 有没有 谁".split()


def _question(text: str) -> str:
    """A caller's question as asked: one that states a problem asks whom to turn to."""
    text = text.rstrip("？?。 ")
    return text if any(word in text for word in ASKING) else f"{text}，应该找哪个部门处理"


def _first_clause(text: str) -> str:
    for stop in "，。；！":
        text = text.split(stop)[0]
    return text[:30]


# Agents do not all file alike: some orders go under a neighbouring leaf of the one their
# words are about (and to its unit), which is what keeps the dispatch assistant honest.
MISFILED = 0.06


def _sibling(leaf: str, rng: random.Random) -> str:
    """Another leaf of the same second-level category (or of the same field)."""
    codes = demo_hotline.leaf_codes()
    names = {code: name for name, code in codes.items()}
    code = codes[leaf]
    near = [c for c in names if c[:4] == code[:4] and c != code]
    near = near or [c for c in names if c[:2] == code[:2] and c != code]
    return names[rng.choice(sorted(near))] if near else leaf


def _voiced(channel: str, text: str, *, asking: bool) -> str:
    """The words as the channel carries them: the agent's summary of a call, a message, a
    letter."""
    if channel in ("phone", "sms"):
        if asking:
            return f"来电人咨询：{text}？"
        return text if text.startswith("来电人") else f"来电人反映：{text}"
    who = "来信人" if channel == "letter" else "市民"
    text = text.replace("来电人", who)
    if asking:
        return f"您好，请问{text}？"
    return f"来信反映：{text}" if channel == "letter" else text


def plan_month(*, orders: int, seed: int, end: dt.datetime) -> list[Plan]:
    """Every order of the month and what happens to it, in the order they come in."""
    rng = random.Random(seed)
    texts = _Texts(rng)
    units = leaf_units()
    unit_names = {key: short for key, _n, short, _r, _p in city.DEPARTMENTS}
    tz = timezone.get_default_timezone()
    plans: list[Plan] = []
    for day, count in sorted(daily_counts(orders, end).items()):
        for _ in range(count):
            channel = _pick(rng, CHANNELS)
            hours = PHONE_HOURS if channel == "phone" else MESSAGE_HOURS
            if channel in ("letter", "kiosk"):
                hours = OFFICE_HOURS
            hour = rng.choices(range(24), weights=hours)[0]
            at = dt.datetime.combine(day, dt.time(hour), tzinfo=tz) + dt.timedelta(
                seconds=rng.randrange(3600)
            )
            if at > end:
                continue
            plans.append(_plan(rng, texts, units, unit_names, channel, at))
    plans += _overdue_with_the_demo_handler(plans, end, rng, texts, units, unit_names)
    plans += _staged(end, seed, units, unit_names)
    plans.sort(key=lambda p: p.at)
    plans = [replace(p, n=n) for n, p in enumerate(plans, start=1)]
    return _settle(plans, end, rng)


# A story without turns of events (the orders left open at the moment of the load).
PLAIN = {
    "instant": False,
    "urgency": "normal",
    "wrong": "",
    "return_rejected": False,
    "late_sign": False,
    "late_reply": False,
    "extension": False,
    "send_back": False,
    "supervise": False,
    "co": "",
    "duplicate": False,
}
DEMO_HANDLER_UNIT = "chancheng-urban"  # the demo login `handler`'s unit


def _overdue_with_the_demo_handler(plans, end, rng, texts, units, unit_names) -> list[Plan]:
    """Orders the demo handler's unit has let run late at the moment of the load: two it
    signed for and has not replied to (dispatched 9–14 days before), one it has not signed
    for (dispatched 4 days before) — made when the month has none of its own there."""
    extra = []
    tz = timezone.get_default_timezone()
    wanted = ((9, 14, "handling", 2), (4, 5, "dispatched", 1))
    for low, high, stop, count in wanted:
        have = [
            p
            for p in plans
            if p.lead == DEMO_HANDLER_UNIT
            and not p.sub
            and all(getattr(p, name) == value for name, value in PLAIN.items())
            and end - dt.timedelta(days=high) <= p.at < end - dt.timedelta(days=low)
        ]
        for k in range(count - len(have)):
            day = timezone.localdate(end) - dt.timedelta(days=low + k)
            at = dt.datetime.combine(day, dt.time(10 + k, rng.randrange(60)), tzinfo=tz)
            leaf = rng.choice(("占道经营与流动摊贩", "人行道设施损坏"))
            plan = _plan(rng, texts, units, unit_names, "phone", at, about=(leaf, CHANCHENG))
            extra.append(replace(plan, **PLAIN, lead=DEMO_HANDLER_UNIT, sub="", stop=stop))
    return extra


# The demo applicants' logins that file orders on the web: username → (name, phone, district).
ACCOUNTS = {
    row[4]: (row[0], row[3], row[1]) for rows in (city.PERSONS, city.ENTERPRISES) for row in rows
    if row[4]
}  # fmt: skip
# Their orders, each in a state the login can act on or look at when the month is loaded:
# (login, filed this many working days before the day of the load, leaf, type, title, what
# they wrote (a consultation asks one of the leaf's questions), where the story stops (""
# closed), the verdict they give online). The slots are filled from the login's district.
ACCOUNT_ORDERS = (
    ("citizen", 15, "路灯不亮", "help", "{road}路灯不亮",
     "{road}靠近{estate}一段的路灯不亮{days}，晚上下班回家路上很黑，骑电动车很危险，"
     "麻烦尽快派人维修。", "", "satisfied"),
    ("company", 12, "企业开办与变更", "help", "企业变更登记材料多次被退回",
     "我司在网上申请企业变更登记，材料被退回两次，每次退回的原因都不一样，"
     "希望一次性告知需要补正的材料。", "", "basic"),
    ("citizen", 9, "社会生活噪声", "complaint", "{shop}深夜噪声扰民",
     "{estate}楼下新开的{shop}每晚营业到凌晨，音响声音很大，家里老人小孩都睡不好，"
     "和店家沟通过也没用，请有关部门处理。", "callback", ""),
    ("citizen", 5, "公积金提取", "consultation", "咨询公积金提取", "", "", ""),
    ("citizen", 3, "占道经营与流动摊贩", "complaint", "{estate}门口流动摊贩占道经营",
     "我住在{estate}，小区门口每天傍晚有很多流动摊贩占道摆卖，油烟很大，"
     "行人只能走到机动车道上，希望加强管理。", "handling", ""),
)  # fmt: skip
SUPERVISED_AFTER = 4  # working days: the demo handler's unit's order under supervision


def _workdays_before(day: dt.date, n: int) -> dt.date:
    while n:
        day -= ONE_DAY
        if workdays.is_workday(day):
            n -= 1
    return day


def _staged(end: dt.datetime, seed: int, units, unit_names) -> list[Plan]:
    """What the demo logins find at the moment of the load, drawn with a generator of their
    own (the rest of the month draws as it would without them): the web orders of the demo
    applicants' accounts (ACCOUNT_ORDERS: one closed with the citizen's own verdict, one
    waiting for it, one with a unit, an instant answer), and a supervision order issued on
    the last working day to the demo handler's unit, not answered yet — its clock still
    runs."""
    rng = random.Random(f"{seed}:staged")
    texts = _Texts(rng)
    tz = timezone.get_default_timezone()
    first, _current, today = month_span(end)
    plans = []
    for account, days, leaf, order_type, title, words, stop, verdict in ACCOUNT_ORDERS:
        name, phone, district = ACCOUNTS[account]
        town, slots, _centre = texts.place(district)
        day = max(first, _workdays_before(today, days))
        at = dt.datetime.combine(day, dt.time(rng.randint(19, 21), rng.randrange(60)), tzinfo=tz)
        asking = order_type == "consultation"
        if asking:
            content = _voiced("web", _question(rng.choice(texts.asks[leaf])), asking=True)
        else:
            content = words.format(**slots)
        plan = Plan(
            n=0,
            at=at,
            channel="web",
            order_type=order_type,
            urgency="normal",
            leaf=leaf,
            district=district,
            town=town,
            title=title.format(**slots),
            content=content,
            address="" if asking else _address(words, slots),
            latitude="",
            longitude="",
            caller_name=name,
            caller_phone=phone,
            confidential=False,
            instant=asking,
            lead=route(leaf, district, town, rng)[0],
            verdicts=(verdict or "satisfied",),
            stop=stop,
            account=account,
            staged=True,
        )
        plans.append(plan)
    day = _workdays_before(today, SUPERVISED_AFTER)
    at = dt.datetime.combine(day, dt.time(9, rng.randrange(60)), tzinfo=tz)
    leaf = rng.choice(("占道经营与流动摊贩", "人行道设施损坏"))
    plan = _plan(rng, texts, units, unit_names, "phone", at, about=(leaf, CHANCHENG))
    changes = {**PLAIN, "supervise": True, "stop": "supervised", "staged": True}
    plans.append(replace(plan, **changes, lead=DEMO_HANDLER_UNIT, sub=""))
    return plans


def _plan(rng, texts: _Texts, units, unit_names, channel: str, at: dt.datetime, about=None) -> Plan:
    """An order as it comes in; `about` = (leaf, district) makes it a complaint about that."""
    order_type = "complaint" if about else _pick(rng, TYPES)
    district = about[1] if about else _pick(rng, DISTRICT_SHARE)
    town, slots, (lat, lng) = texts.place(district)
    name, phone = texts.caller()
    urgency = "normal"
    if order_type == "consultation":
        leaf = _pick(rng, texts.ask_weights)
        question = _question(rng.choice(texts.asks[leaf]))
        content = _voiced(channel, question, asking=True)
        if channel == "phone" and rng.random() < 0.4:
            content += f"来电人住在{slots['district']}{town}。"
        title, address = f"咨询{leaf}", (f"{slots['district']}{town}" if rng.random() < 0.6 else "")
    elif order_type == "praise":
        leaf = _pick(rng, texts.problem_weights)
        unit = unit_names[route(leaf, district, town, random.Random(leaf))[0]]
        text = rng.choice(PRAISES).format(unit=unit, leaf=leaf)
        content = _voiced(channel, text, asking=False)
        title, address = f"表扬{unit}", ""
    elif order_type == "suggestion" and rng.random() < 0.5:
        leaf = _pick(rng, texts.problem_weights)
        text = rng.choice(SUGGESTIONS).format(leaf=leaf, **slots)
        content, title = _voiced(channel, text, asking=False), f"关于{leaf}的建议"
        address = f"{slots['district']}{town}"
    else:
        kind = {"complaint": "C", "help": "H", "report": "R", "suggestion": "S"}[order_type]
        leaf, template = texts.problem(kind, about[0] if about else "")
        text = template.format(**slots)
        content = _voiced(channel, text, asking=False)
        word = TYPE_WORDS.get(order_type)
        summary = rng.random() < 0.5
        if summary and not text.startswith("来电人"):  # the first clause of what was said
            title = _first_clause(text)
        else:
            title = (
                f"{word}{leaf}问题（{slots['district']}{town}）" if word else f"关于{leaf}的建议"
            )
        address = _address(template, slots)
        share = LEAVES[leaf][2]
        if order_type in ("help", "complaint", "report") and rng.random() < share:
            urgency = "very_urgent" if rng.random() < 0.2 else "urgent"
    answered = {"consultation": 0.95, "help": 0.2}.get(order_type, 0.0)
    instant = urgency == "normal" and rng.random() < answered
    if not (about or instant) and rng.random() < MISFILED:
        leaf = _sibling(leaf, rng)
    lead, sub = route(leaf, district, town, rng)
    located = channel in ("app", "wechat") and address
    plan = Plan(
        n=0,
        at=at,
        channel=channel,
        order_type=order_type,
        urgency=urgency,
        leaf=leaf,
        district=district,
        town=town,
        title=title[:100],
        content=content,
        address=address,
        latitude=f"{lat + rng.uniform(-0.012, 0.012):.6f}" if located else "",
        longitude=f"{lng + rng.uniform(-0.012, 0.012):.6f}" if located else "",
        caller_name=name if channel != "sms" else "",
        caller_phone=phone if channel != "letter" or rng.random() < 0.7 else "",
        confidential=order_type == "report" and rng.random() < 0.5,
        instant=instant,
        lead=lead,
        sub=sub,
    )
    return _turns(plan, rng, units)


def _turns(plan: Plan, rng: random.Random, units: dict[str, str]) -> Plan:
    """What happens to a dispatched order on its way."""
    s = SHARES
    chance = rng.random
    wrong = ""
    if chance() < s["wrong_unit"]:
        wrong = _wrong_unit(plan, rng, units)
    late_both = chance() < s["late_both"]
    extension = chance() < s["extension"] and not plan.urgent
    supervise = chance() < s["supervise"]
    first = FIRST_VERDICT_OF_A_COMPLAINT if plan.order_type in ("complaint", "report") else None
    verdicts = [_pick(rng, first or FIRST_VERDICT), *(_pick(rng, LATER_VERDICT) for _ in "ab")]
    co = CO_UNITS.get(plan.leaf, "")
    return replace(
        plan,
        wrong=wrong,
        return_rejected=not wrong and chance() < s["return_rejected"],
        late_sign=late_both or chance() < s["late_sign"],
        late_reply=late_both or chance() < s["late_reply"],
        extension=extension,
        extension_rejected=extension and chance() < s["extension_rejected"],
        send_back=chance() < s["send_back"],
        supervise=supervise,
        supervision_late=supervise and chance() < s["supervision_late"],
        co=co if co and co != plan.lead and not plan.urgent and chance() < s["co"] else "",
        duplicate=chance() < s["duplicate"],
        verdicts=tuple(verdicts),
    )


def _wrong_unit(plan: Plan, rng: random.Random, units: dict[str, str]) -> str:
    """A unit an agent could mistake for the right one: another unit of the same field, else
    the district's government."""
    fields = _fields()
    others = sorted(
        {unit for leaf, unit in units.items() if fields[leaf] == fields[plan.leaf]}
        - {plan.lead, plan.sub}
    )
    others = [u for u in others if not u.startswith("chancheng-")]
    if others:
        return rng.choice(others)
    government = DISTRICT_GOVERNMENTS[plan.district]
    return government if government != plan.lead else "gov-data"


def _settle(plans: list[Plan], end: dt.datetime, rng: random.Random) -> list[Plan]:
    """Make sure the month shows every outcome however small it is, and that the moment of
    the load finds orders in every open state, some of them overdue, some with the demo
    handler's unit."""
    plans = list(plans)
    dispatched = [
        i
        for i, p in enumerate(plans)
        if not p.instant and p.order_type != "praise" and not p.staged
    ]
    early = [i for i in dispatched if plans[i].at < end - dt.timedelta(days=16)]
    wanted = {
        "wrong": 2,
        "return_rejected": 1,
        "late_sign": 3,
        "late_reply": 3,
        "extension": 2,
        "send_back": 2,
        "supervise": 2,
        "duplicate": 3,
    }
    units = leaf_units()
    picks = iter(rng.sample(early, len(early)))
    for turn, least in wanted.items():
        have = sum(1 for i in dispatched if getattr(plans[i], turn))
        for _ in range(max(0, least - have)):
            i = next(picks, None)
            if i is None:
                break
            value = _wrong_unit(plans[i], rng, units) if turn == "wrong" else True
            plans[i] = replace(plans[i], **{turn: value})
    both = any(plans[i].late_sign and plans[i].late_reply for i in dispatched)
    if not both and (i := next(picks, None)) is not None:
        plans[i] = replace(plans[i], late_sign=True, late_reply=True)
    if not any(plans[i].verdicts[0] == "unsatisfied" for i in dispatched):
        for i in [next(picks, None), next(picks, None)]:
            if i is not None:
                plans[i] = replace(plans[i], verdicts=("unsatisfied", "basic", "satisfied"))

    # The picture at the moment of the load: the latest orders wait for the center, and some
    # stay in each open state (a repeat call linked to some of them).
    def plain(i: int) -> bool:
        p = plans[i]
        return not p.stop and all(getattr(p, name) == value for name, value in PLAIN.items())

    def stop(low: float, high: float, count: int, state: str, **changes) -> None:
        window = [
            i
            for i in dispatched
            if end - dt.timedelta(days=high) <= plans[i].at < end - dt.timedelta(days=low)
            and plain(i)
        ]
        for i in window[-count:]:
            plans[i] = replace(plans[i], stop=state, **changes)

    stop(0, 60, 3, "registered")
    stop(4, 9, 1, "requested", extension=True)  # an extension asked for, not yet decided
    stop(0.2, 2, 2, "dispatched")
    stop(2, 5, 2, "handling", duplicate=True)
    stop(9, 15, 1, "replied", duplicate=True)  # replied in time: within 5 working days
    stop(12, 18, 1, "callback", duplicate=True)
    # the demo handler's unit: orders it let run late (see _overdue_with_the_demo_handler)
    for low, high, state, count in ((9, 14, "handling", 2), (4, 5, "dispatched", 1)):
        window = [
            i
            for i in dispatched
            if end - dt.timedelta(days=high) <= plans[i].at < end - dt.timedelta(days=low)
            and plans[i].lead == DEMO_HANDLER_UNIT
            and not plans[i].sub
        ]
        have = sum(1 for i in window if plans[i].stop == state)
        for i in [i for i in window if plain(i)][: max(0, count - have)]:
            plans[i] = replace(plans[i], stop=state)
    return plans


# --- time ---------------------------------------------------------------------------------------


def _minutes_of(local: dt.datetime) -> float:
    return local.hour * 60 + local.minute + local.second / 60


def _at(day: dt.date, minutes: float) -> dt.datetime:
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())
    return midnight + dt.timedelta(minutes=minutes)


def work_after(at: dt.datetime, minutes: float) -> dt.datetime:
    """The moment `minutes` of a unit's working time (working days, 8:30–12:00 and
    14:00–17:30) after `at`."""
    local = timezone.localtime(at)
    day, now, left = local.date(), _minutes_of(local), minutes
    while True:
        if workdays.is_workday(day):
            for start, stop in _WORK:
                begin = max(start, now)
                if begin < stop:
                    if begin + left <= stop:
                        return _at(day, begin + left)
                    left -= stop - begin
                    now = stop
        day, now = day + ONE_DAY, 0


def work_between(start: dt.datetime, stop: dt.datetime) -> float:
    """A unit's working minutes from `start` to `stop`."""
    first, last = timezone.localtime(start), timezone.localtime(stop)
    total, day = 0.0, first.date()
    while day <= last.date():
        if workdays.is_workday(day):
            low = _minutes_of(first) if day == first.date() else 0
            high = _minutes_of(last) if day == last.date() else 24 * 60
            total += sum(max(0.0, min(b, high) - max(a, low)) for a, b in _WORK)
        day += ONE_DAY
    return total


# --- walking the month --------------------------------------------------------------------------


class _Month:
    """The orders' stories, interleaved in time order with the hourly sweep. Each story is a
    generator that takes its next step when resumed and yields the moment of the step after."""

    def __init__(self, *, seed: int, start: dt.datetime, end: dt.datetime, progress=None):
        from .loader import department_uscc

        self.seed, self.end, self.progress = seed, end, progress
        self.now = start
        self.next_sweep = start + HOUR
        # The deadlines of the clocks started so far (a heap): an hourly sweep with none of
        # them passed since the last one would issue nothing, so it is not run.
        self.dues: list[dt.datetime] = []
        self.deadlines: dict[int, dict[str, dt.datetime]] = {}  # order → its current ones
        self.heap: list[tuple[dt.datetime, int, Iterator[dt.datetime]]] = []
        self.seq = 0
        self.extra = 0  # repeat calls registered so far
        keys = {key: department_uscc(key) for key, *_rest in city.DEPARTMENTS}
        by_uscc = Department.objects.in_bulk(keys.values(), field_name="uscc")
        self.units = {key: by_uscc[uscc] for key, uscc in keys.items()}
        self.short = {key: short for key, _n, short, _r, _p in city.DEPARTMENTS}
        names = handlers()
        users = User.objects.in_bulk(
            [*names.values(), *_logins(), "agent", "agent_2", "agent_3", "supervisor"],
            field_name="username",
        )
        self.handlers = {key: users[name] for key, name in names.items()}
        self.accounts = {name: users[name] for name in _logins()}
        self.agents = [users["agent_3"], users["agent"], users["agent_2"]]  # night, day, evening
        self.supervisor = users["supervisor"]
        codes = demo_hotline.leaf_codes()
        by_code = Category.objects.in_bulk(codes.values(), field_name="code")
        self.leaves = {name: by_code[code] for name, code in codes.items()}
        self.districts = {
            code: Region.objects.get(code=f"{code}000000") for code in DISTRICT_GOVERNMENTS
        }
        self.articles: dict[int, list[KnowledgeArticle]] = {}
        published = KnowledgeArticle.objects.filter(status="published").order_by("reviewed_at")
        for article in published:
            self.articles.setdefault(article.category_id, []).append(article)

    # the scheduler

    def push(self, at: dt.datetime, story: Iterator[dt.datetime]) -> None:
        heapq.heappush(self.heap, (at, self.seq, story))
        self.seq += 1

    def run(self, plans: list[Plan]) -> None:
        """Every step of every story in time order, each simulated day in one transaction
        (a day is committed as it ends, unless the caller holds a transaction around it all;
        PostgreSQL slows down on a transaction that updates the audit chain's head row tens
        of thousands of times)."""
        for plan in plans:
            self.push(plan.at, self._story(plan))
        day = None
        block = transaction.atomic()
        block.__enter__()
        try:
            while self.heap:
                at, _seq, story = heapq.heappop(self.heap)
                if at > self.end:
                    continue  # the order waits where it is at the moment of the load
                if timezone.localdate(at) != day:
                    block.__exit__(None, None, None)
                    block = transaction.atomic()
                    block.__enter__()
                    day = timezone.localdate(at)
                self._sweep_until(at)
                self.now = at
                try:
                    following = next(story)
                except StopIteration:
                    continue
                self.push(max(following, at + dt.timedelta(seconds=1)), story)
            self._sweep_until(self.end)
            self.now = self.end
            services.sweep(self.end)
        except BaseException as error:
            block.__exit__(type(error), error, error.__traceback__)
            raise
        block.__exit__(None, None, None)

    def _sweep_until(self, at: dt.datetime) -> None:
        while self.next_sweep <= at:
            if self.dues and self.dues[0] < self.next_sweep:
                while self.dues and self.dues[0] < self.next_sweep:
                    heapq.heappop(self.dues)
                self.now = self.next_sweep
                services.sweep(self.now)
            self.next_sweep += HOUR

    def _started(self, order, *names: str) -> None:
        """Note the deadlines of the order's clocks just started (the step left them on the
        order): for its story, and for the sweep after them."""
        dues = self.deadlines.setdefault(order.pk, {})
        for name in names:
            dues[name] = getattr(order, f"{name}_clock").due_at
            heapq.heappush(self.dues, dues[name])

    def _extended(self, order) -> dt.datetime:
        """The reply deadline after an extension (and the close deadline noted)."""
        dues = self.deadlines[order.pk]
        for clock in Clock.objects.filter(pk__in=[order.reply_clock_id, order.close_clock_id]):
            name = "reply" if clock.pk == order.reply_clock_id else "close"
            dues[name] = clock.due_at
            heapq.heappush(self.dues, clock.due_at)
        return dues["reply"]

    # who and when

    def agent(self):
        """The agent on shift: night (0–8), day (8–16), evening (16–24)."""
        return self.agents[timezone.localtime(self.now).hour // 8]

    def _rng(self, plan: Plan) -> random.Random:
        return random.Random(f"{self.seed}:{plan.n}")

    def center_after(self, rng, low: float, high: float, *, opens=8.0, closes=22.0):
        """When the center gets to it: `low`–`high` minutes on, within its hours."""
        at = timezone.localtime(self.now + dt.timedelta(minutes=rng.uniform(low, high)))
        if not opens <= at.hour + at.minute / 60 < closes:
            day = at.date() if at.hour < opens else at.date() + ONE_DAY
            at = _at(day, opens * 60 + rng.uniform(0, 90))
        return at

    def unit_after(self, rng, plan: Plan, low: float, high: float) -> dt.datetime:
        """`low`–`high` minutes of the unit's working time on (urgent orders: around the clock,
        four times as fast)."""
        minutes = rng.uniform(low, high)
        if plan.urgent:
            return self.now + dt.timedelta(minutes=minutes / 4)
        return work_after(self.now, minutes)

    def on_time(self, rng, plan: Plan, due: dt.datetime, share: float) -> dt.datetime:
        """A moment before `due`, about `share` of the unit's time to it on."""
        fraction = min(0.95, rng.betavariate(1.5, 1.5 * (1 - share) / share))
        if plan.urgent:
            span = (due - self.now).total_seconds() - 300
            return self.now + dt.timedelta(seconds=max(60.0, span * fraction))
        available = work_between(self.now, due) - 10
        if available <= 10:
            return self.now + dt.timedelta(minutes=rng.uniform(1, 10))
        return work_after(self.now, available * fraction)

    def late(self, rng, plan: Plan, due: dt.datetime) -> dt.datetime:
        if plan.urgent:
            return due + dt.timedelta(minutes=rng.uniform(20, 300))
        return work_after(due, rng.uniform(30, 900))

    def _lately(self, rng) -> dt.datetime:
        """A moment of the last working afternoon before the end (today's, once it is past
        midday), after now."""
        end = timezone.localtime(self.end)
        day = end.date()
        if not (workdays.is_workday(day) and end.hour >= 13):
            day = _workdays_before(day, 1)
        at = _at(day, 14 * 60 + 30 + rng.uniform(0, 90))
        if day == end.date():
            at = min(at, self.end - dt.timedelta(minutes=rng.uniform(20, 40)))
        return max(at, self.now + dt.timedelta(minutes=10))

    def _callback_at(self, rng, order) -> dt.datetime:
        at = self.center_after(rng, 240, 4300, opens=9.0, closes=20.5)
        due = self.deadlines[order.pk]["close"]
        if due is not None and at > due and due - self.now > HOUR:
            at = self.now + (due - self.now) * rng.uniform(0.3, 0.9)
        return at

    def _article(self, plan: Plan):
        """A published article of the category in force now, known before now."""
        today = timezone.localdate(self.now)
        for article in self.articles.get(self.leaves[plan.leaf].pk, ()):
            if article.reviewed_at > self.now:
                break
            if article.valid_until is None or article.valid_until >= today:
                return article
        return None

    # the stories

    def _register(self, plan: Plan):
        by_agent = plan.channel in ("phone", "sms", "letter")
        audit_channel = {
            "web": Channel.ONLINE,
            "wechat": Channel.MOBILE,
            "app": Channel.MOBILE,
            "kiosk": Channel.KIOSK,
        }.get(plan.channel, Channel.HOTLINE)
        caller = self.accounts[plan.account] if plan.account else None  # on the web
        order = services.order_register(
            actor=caller or (self.agent() if by_agent else None),
            caller_user=caller,
            order_channel=plan.channel,
            data={
                "order_type": plan.order_type,
                "urgency": plan.urgency,
                "category": self.leaves[plan.leaf],
                "title": plan.title,
                "content": plan.content,
                "district": self.districts[plan.district],
                "address": plan.address,
                "latitude": plan.latitude,
                "longitude": plan.longitude,
                "caller_name": plan.caller_name,
                "caller_phone": plan.caller_phone,
                "confidential": plan.confidential,
            },
            idempotency_key=f"{KEY_PREFIX}{plan.n:05d}",
            channel=audit_channel,
        )
        if plan.master is None and self.progress is not None:
            self.progress()
        return order

    def _story(self, plan: Plan) -> Iterator[dt.datetime]:
        rng = self._rng(plan)
        order = self._register(plan)
        if plan.stop == "registered":
            return
        if plan.master is not None:
            yield self.now + dt.timedelta(minutes=rng.uniform(2, 10))
            self._repeat(plan, order)
            return
        if plan.instant:
            if plan.channel == "phone":
                yield self.now + dt.timedelta(minutes=rng.uniform(2, 6))
            else:
                yield self.center_after(rng, 10, 120)
            article = self._article(plan)
            answer = ANSWER_WITHOUT_ARTICLE.format(leaf=plan.leaf, unit=self.short[plan.lead])
            services.order_answer(
                order=order,
                actor=self.agent(),
                answer=article.answer if article else answer,
                article=article,
            )
            return
        if plan.urgent:
            yield self.now + dt.timedelta(minutes=rng.uniform(2, 10))
        elif plan.channel == "phone":
            yield self.center_after(rng, 3, 40, opens=7.5, closes=23.0)
        else:
            yield self.center_after(rng, 10, 150)
        co = [self.units[plan.co]] if plan.co else []
        first = plan.wrong or plan.lead
        services.order_dispatch(
            order=order,
            actor=self.agent(),
            lead=self.units[first],
            co_units=[] if plan.wrong else co,
        )
        self._started(order, "sign", "reply", "close")
        if self._stopped(plan, order):
            return
        if plan.wrong or plan.return_rejected:
            yield from self._return(plan, order, rng, first, co)
        yield from self._handle(plan, order, rng)

    def _stopped(self, plan: Plan, order) -> bool:
        return bool(plan.stop) and order.status == plan.stop

    def _repeat(self, plan: Plan, order) -> None:
        """A repeat call: linked to the open order it repeats, else answered with its result."""
        master = plan.master
        if master.status in ("closed", "linked"):
            services.order_answer(
                order=order,
                actor=self.agent(),
                answer=f"已向来电人说明工单{master.number}的办理结果：{master.reply}"[:4000],
            )
        else:
            services.order_link(order=order, actor=self.agent(), master=master)

    def _return(self, plan: Plan, order, rng, first: str, co):
        """退单: the unit says the order is not theirs; the center agrees (and dispatches it to
        the right unit) or not."""
        yield self.unit_after(rng, plan, 20, 180)
        right = self.short[plan.lead]
        request = services.order_request(
            order=order,
            actor=self.handlers[first],
            kind="return",
            reason=f"该事项不属于本单位职责范围，建议转{right}办理。"
            if plan.wrong
            else "该问题涉及多个部门，建议由属地统筹处理。",
        )
        request.order = order
        yield self.center_after(rng, 10, 90)
        services.order_decide_request(
            request=request,
            actor=self.agent(),
            approve=bool(plan.wrong),
            note="" if plan.wrong else "经核实属贵单位职责范围，请按规定办理。",
        )
        if plan.wrong:
            yield self.now + dt.timedelta(minutes=rng.uniform(3, 20))
            services.order_dispatch(
                order=order, actor=self.agent(), lead=self.units[plan.lead], co_units=co
            )
            self._started(order, "sign", "reply", "close")

    def _handle(self, plan: Plan, order, rng):
        """The unit's part: re-dispatch to a sub-unit, sign, co-handling, an extension, a
        supervision order, then the replies until the callback closes the order."""
        if plan.sub:
            yield self.unit_after(rng, plan, 15, 120)
            services.order_redispatch(
                order=order,
                actor=self.handlers[plan.lead],
                unit=self.units[plan.sub],
                note="请属地核实处理并按时答复。",
            )
            if self._stopped(plan, order):
                return
        holder = self.handlers[plan.sub or plan.lead]
        due = self.deadlines[order.pk]["sign"]
        yield self.late(rng, plan, due) if plan.late_sign else self.on_time(rng, plan, due, 0.2)
        services.order_sign(order=order, actor=holder)
        if plan.duplicate:
            self._repeat_later(plan, order, rng)
        if self._stopped(plan, order):
            return
        if plan.co:
            yield self.unit_after(rng, plan, 60, 900)
            services.order_co_opinion(
                order=order,
                actor=self.handlers[plan.co],
                opinion=f"本单位已配合现场核查，职责范围内的问题已处理，情况已反馈{self.short[plan.lead]}。",
            )
        due = self.deadlines[order.pk]["reply"]
        if plan.extension:
            yield self.on_time(rng, plan, due, 0.15 if plan.stop == "requested" else 0.5)
            yield from self._extend(plan, order, rng, holder)
            if plan.stop == "requested":
                return  # the request waits for the center at the moment of the load
            due = self._extended(order)
        if plan.supervise:
            if plan.stop == "supervised":
                yield self._lately(rng)
            else:
                yield self.on_time(rng, plan, due, 0.5)
            yield from self._supervise(plan, order, rng, holder)
            if plan.stop == "supervised":
                return  # the unit has yet to answer it at the moment of the load
        yield from self._reply(plan, order, rng, holder, due)

    def _extend(self, plan: Plan, order, rng, holder):
        amount = rng.randint(3, 5) if plan.order_type != "consultation" else 2
        request = services.order_request(
            order=order,
            actor=holder,
            kind="extension",
            reason=f"需协调多个部门现场核查，申请延期{amount}个工作日。",
            amount=amount,
        )
        request.order = order
        if plan.stop == "requested":
            return
        yield self.center_after(rng, 10, 120)
        services.order_decide_request(
            request=request,
            actor=self.agent(),
            approve=not plan.extension_rejected,
            note="请在原时限内办结。" if plan.extension_rejected else "",
        )

    def _supervise(self, plan: Plan, order, rng, holder):
        supervision = services.order_supervise(
            order=order,
            actor=self.supervisor,
            instruction="该工单群众反映强烈，请加快办理，并于时限内报告办理进展。",
        )
        supervision.order = order
        heapq.heappush(self.dues, supervision.clock.due_at)
        if plan.stop == "supervised":
            return
        due = supervision.clock.due_at
        if plan.supervision_late:
            yield self.late(rng, plan, due)
        else:
            yield self.on_time(rng, plan, due, 0.4)
        services.order_answer_supervision(
            supervision=supervision,
            actor=holder,
            answer=f"已成立专项小组加紧处理，预计{rng.randint(2, 5)}个工作日内办结。",
        )

    def _reply(self, plan: Plan, order, rng, holder, due):
        """Reply, review (sent back once if so planned), callback; a dissatisfied caller
        reopens the order and the unit replies again."""
        late, sent_back = plan.late_reply, not plan.send_back
        for verdict in plan.verdicts:
            share = 0.6 if plan.order_type in ("complaint", "help", "report") else 0.45
            yield self.late(rng, plan, due) if late else self.on_time(rng, plan, due, share)
            reply = self._reply_text(plan, order)
            services.order_reply(order=order, actor=holder, reply=reply)
            if self._stopped(plan, order):
                return
            yield self.center_after(rng, 20, 360)
            if not sent_back:
                sent_back = True
                services.order_send_back(
                    order=order,
                    actor=self.agent(),
                    reason="答复内容过于简单，未说明具体处理措施和结果，请补充后重新答复。",
                )
                yield self.unit_after(rng, plan, 90, 600)
                services.order_reply(
                    order=order,
                    actor=holder,
                    reply=f"{reply}补充说明：已安排专人跟踪，{rng.randint(3, 7)}日内复查，"
                    "复查结果将电话告知来电人。",
                )
                yield self.center_after(rng, 20, 240)
            services.order_accept_reply(order=order, actor=self.agent())
            if self._stopped(plan, order):
                return
            yield self._callback_at(rng, order)
            if plan.account:  # the caller gives the verdict online
                services.order_callback(
                    order=order,
                    actor=self.accounts[plan.account],
                    result=verdict,
                    channel=Channel.ONLINE,
                )
            else:
                services.order_callback(
                    order=order,
                    actor=self.agent(),
                    result=verdict,
                    note={
                        "unsatisfied": "来电人表示问题未得到解决。",
                        "unreachable": "三次回访均未接通。",
                    }.get(verdict, ""),
                )
            if order.status == "closed":
                return
            self._started(order, "reply", "close")
            late, due = False, self.deadlines[order.pk]["reply"]

    def _reply_text(self, plan: Plan, order) -> str:
        unit = self.short[plan.sub or plan.lead]
        local = timezone.localtime(self.now)
        if order.reopen_count:
            return (
                f"针对来电人不满意的情况，{unit}再次派员核查：{LEAVES[plan.leaf][4]}。"
                "已与来电人当面沟通，后续将持续跟进。"
            )
        kind = plan.order_type if plan.order_type in REPLIES else "problem"
        return REPLIES[kind].format(
            unit=unit,
            leaf=plan.leaf,
            date=f"{local.month}月{local.day}日",
            done=LEAVES[plan.leaf][4],
        )

    def _repeat_later(self, plan: Plan, order, rng) -> None:
        """The caller calls again about the same thing while the order is open."""
        self.extra += 1
        hours = rng.uniform(0.3, 3) if plan.stop else rng.uniform(0.5, 30)
        at = self.now + dt.timedelta(hours=hours)
        again = "来电人再次来电反映：" if plan.channel == "phone" else "来电人再次来电："
        content = plan.content.removeprefix("来电人反映：")
        repeat = replace(
            plan,
            n=100000 + self.extra,
            at=at,
            channel="phone",
            content=f"{again}{content}"[:4000],
            caller_phone=plan.caller_phone or f"1380000{rng.randrange(10000):04d}",
            latitude="",
            longitude="",
            stop="",
            master=order,
        )
        self.push(at, self._story(repeat))


# --- loading and the figures --------------------------------------------------------------------


@dataclass
class Result:
    """What a load made: the orders (primaries and repeat calls), the cards, and how long."""

    orders: int = 0
    cards: int = 0
    seconds: float = 0.0
    loaded_before: bool = False


def _logins() -> list[str]:
    """The demo applicants' logins that file orders of the month."""
    return sorted({login for login, *_rest in ACCOUNT_ORDERS})


def loaded() -> bool:
    return WorkOrder.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists()


def missing() -> list[str]:
    """What the month needs of the demo city and does not find: logins, departments,
    districts, hotline categories (load_demo loads them)."""
    from .loader import department_uscc

    usernames = {*handlers().values(), *_logins(), "agent", "agent_2", "agent_3", "supervisor"}
    found = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    gaps = sorted(usernames - found)
    usccs = {department_uscc(key) for key, *_rest in city.DEPARTMENTS}
    if Department.objects.filter(uscc__in=usccs).count() < len(usccs):
        gaps.append("departments")
    regions = {f"{code}000000" for code in DISTRICT_GOVERNMENTS}
    if Region.objects.filter(code__in=regions).count() < len(regions):
        gaps.append("districts")
    codes = set(demo_hotline.leaf_codes().values())
    if Category.objects.filter(code__in=codes).count() < len(codes):
        gaps.append("hotline categories")
    return gaps


def train():
    """Train the dispatch assistant on the closed orders, where this installation has one;
    the trained model (with its accuracies), or None."""
    from django.core.exceptions import ValidationError

    from yimen.hotline import dispatch

    try:
        return dispatch.train(actor=None)
    except ValidationError:  # too few closed orders, or a single unit among them
        return None


def load(
    *,
    orders: int = DEFAULT_ORDERS,
    seed: int = 1,
    end: dt.datetime | None = None,
    progress: Callable[[], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> Result:
    """Walk the month through the hotline's services, unless it is loaded already: each
    simulated day in its own transaction (an interrupted load keeps the days it walked, and
    counts as loaded: start again from a fresh database). `orders` is the size of the full
    month; `end` the moment of the load (now); `progress` is called after each order is
    registered, `on_plan` with their number once they are drawn."""
    if loaded():
        return Result(loaded_before=True)
    started = time.perf_counter()
    end = end or timezone.now()
    first, _current, _today = month_span(end)
    start = dt.datetime.combine(first, dt.time(), tzinfo=timezone.get_default_timezone())
    plans = plan_month(orders=orders, seed=seed, end=end)
    if on_plan is not None:
        on_plan(len(plans))
    cards = Card.objects.count()
    month = _Month(seed=seed, start=start, end=end, progress=progress)
    with mock.patch("django.utils.timezone.now", new=lambda: month.now):
        month.run(plans)
    return Result(
        orders=WorkOrder.objects.filter(idempotency_key__startswith=KEY_PREFIX).count(),
        cards=Card.objects.count() - cards,
        seconds=time.perf_counter() - started,
    )


def period() -> stats.Period | None:
    """The days of the demo month as the statistics page takes a span of days: from the
    first day of its full month to today (to its last order's day once that is too far
    back for one span); None before the month is loaded."""
    demo = WorkOrder.objects.filter(idempotency_key__startswith=KEY_PREFIX)
    span = demo.aggregate(first=Min("received_at"), last=Max("received_at"))
    if span["first"] is None:
        return None
    first = timezone.localdate(span["first"]).replace(day=1)
    last = max(timezone.localdate(span["last"]), timezone.localdate())
    if (last - first).days >= stats.MAX_SPAN_DAYS:
        last = timezone.localdate(span["last"])
    return stats.Period.span(first, last)


def figures() -> dict[str, object]:
    """The demo orders' figures (both months together): volumes by status, channel, type and
    urgency, returns, extensions, supervision orders, repeat calls, reopened orders,
    re-dispatches, co-handling and cards, counted over the demo's orders; and the rates the
    statistics page and the monthly bulletin state for the same days — the instant-answer
    rate (of every order received), on-time signing and replying, satisfaction and its
    verdicts, the average handling in working days — taken from yimen.hotline.stats itself
    (`stated`, with its `period`), so that the two always agree."""
    demo = WorkOrder.objects.filter(idempotency_key__startswith=KEY_PREFIX)
    days = period()
    stated = stats.figures(days) if days is not None else None

    def by(field: str, qs=demo) -> dict[str, int]:
        rows = qs.values_list(field).annotate(n=Count("pk")).order_by("-n", field)
        return dict(rows)

    def percent(name: str):
        return getattr(stated, name).percent if stated is not None else None

    requests = OrderRequest.objects.filter(order__in=demo)
    cards = Card.objects.filter(order__in=demo)
    assignments = Assignment.objects.filter(order__in=demo)
    return {
        "orders": demo.count(),
        "status": by("status"),
        "channel": by("channel"),
        "type": by("order_type"),
        "urgency": by("urgency"),
        "period": days,
        "stated": stated,
        "instant": stated.instant_rate if stated is not None else stats.Rate(),
        "instant_rate": percent("instant_rate"),
        "answered_from_articles": demo.filter(article__isnull=False).count(),
        "sign_on_time": percent("sign_rate"),
        "reply_on_time": percent("reply_rate"),
        "satisfaction": percent("satisfaction"),
        "verdicts": dict(stated.verdicts.items()) if stated is not None else {},
        "average_days": stated.average_days if stated is not None else None,
        "returns": by("status", requests.filter(kind="return")),
        "extensions": by("status", requests.filter(kind="extension")),
        "supervisions": Supervision.objects.filter(order__in=demo).count(),
        "repeat_calls": demo.filter(master__isnull=False).count(),
        "reopened": demo.filter(reopen_count__gt=0).count(),
        "redispatched": assignments.filter(level=2).count(),
        "co_handled": assignments.filter(role="co").values("order").distinct().count(),
        "cards": by("colour", cards),
        "units": demo.exclude(lead_unit=None).values("lead_unit").distinct().count(),
        "districts": demo.values("district").distinct().count(),
    }
