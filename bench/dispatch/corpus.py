"""The dispatch benchmark's work orders: closed 12345 orders of a Foshan-like city, generated
over the demo taxonomy (yimen.demo.hotline.TAXONOMY: 91 leaves, each with the unit that
usually handles it), deterministic for a seed.

An order is what a caller says about one leaf's subject (SUBJECTS: two to four ways of
putting it, worded as people call in), framed by the sentences every call carries (FRAMES,
the same for every subject, so they say nothing about the unit), at a place of the city
(district, street, road, estate). The unit that handled it is, as in a real hotline:

- the leaf's unit, most of the time;
- for the subjects a district handles itself (LOCAL: street vending, pavements, expired
  food, …), that district's own bureau: the category alone cannot tell which one, the
  place can;
- for NOISE of the orders, another unit of the same field (an order returned and
  dispatched again, a co-handler that ended up leading).

The category is the leaf, or for CATEGORY_NOISE of the orders a sibling leaf (the agent
filed it under the neighbouring subject).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.kb.corpus import DISTRICTS, ESTATES, ROADS
from yimen.demo.hotline import TAXONOMY

NOISE = 0.06
CATEGORY_NOISE = 0.05
TITLE_FROM_CALL = 0.5  # the agent's title: the caller's first words, else the subject's name

# Leaf → what callers say about it. {r} road, {e} estate, {s} street (filled in per order).
SUBJECTS: dict[str, tuple[str, ...]] = {
    "路灯不亮": (
        "{r}的路灯连续几晚不亮，晚上黑乎乎的",
        "{e}门口那段路灯坏了一直没人修",
        "路灯一闪一闪的，晚上走路看不清",
    ),
    "道路破损坑洼": (
        "{r}路面有个大坑，电动车经过差点摔倒",
        "{r}路面坑洼不平，下雨积水",
        "马路被挖开后一直没修复",
    ),
    "井盖缺失破损": (
        "{r}人行道上的井盖不见了，很危险",
        "{e}附近井盖松动，车压过去咣咣响",
        "井盖破损下陷，怕有人掉下去",
    ),
    "人行道设施损坏": (
        "{r}人行道地砖松动翘起，老人容易绊倒",
        "人行道护栏被撞坏了没人修",
        "{e}门口人行道的石墩倒了",
    ),
    "物业服务纠纷": (
        "{e}物业不作为，小区卫生很差",
        "物业乱收停车费，业主不同意",
        "{e}物业公司电梯坏了不修还要涨物业费",
    ),
    "房屋漏水与专项维修资金": (
        "楼上漏水到我家天花板，物业推诿",
        "外墙渗水想申请使用专项维修资金",
        "{e}顶楼漏水，维修资金怎么申请",
    ),
    "商品房交付与质量": (
        "开发商延期交楼，{e}到现在还没收楼",
        "新房墙体开裂，开发商不给维修",
        "交房面积与合同不符",
    ),
    "房屋租赁": (
        "房东不退押金，租房合同到期了",
        "中介发布虚假房源，租房被骗",
        "房东突然涨租金要我搬走",
    ),
    "公租房申请": (
        "想申请公租房需要什么条件",
        "公租房轮候了很久还没分配",
        "人才住房申请什么时候出结果",
    ),
    "公积金提取": ("租房能不能提取住房公积金", "离职后公积金怎么取出来", "公积金提取申请被退回了"),
    "公积金贷款": (
        "公积金贷款额度怎么算",
        "办理公积金贷款审批太慢",
        "异地公积金能在佛山贷款买房吗",
    ),
    "夜间施工噪声": (
        "{r}工地半夜还在施工，吵得睡不着",
        "晚上十一点后工地打桩很吵",
        "{e}旁边地铁工地夜间施工噪音扰民",
    ),
    "工地扬尘与渣土": (
        "{r}工地扬尘很大，没有洒水",
        "泥头车撒漏渣土，路面全是泥",
        "工地出入口车辆带泥上路",
    ),
    "违法建设": (
        "{e}有业主在楼顶搭建违章建筑",
        "一楼住户私自扩建占用公共绿地",
        "有人在{r}边上违规加建铁皮房",
    ),
    "占道经营与流动摊贩": (
        "{r}晚上很多流动摊贩占道经营",
        "{e}门口有人摆摊卖水果堵路",
        "店铺把货物摆到人行道上占道",
    ),
    "垃圾清运不及时": (
        "{e}垃圾站的垃圾几天没人清运，臭气熏天",
        "{r}路边垃圾堆满了没人收",
        "垃圾桶满了溢出来一直没清理",
    ),
    "垃圾分类": (
        "小区垃圾分类投放点设置不合理",
        "垃圾分类后还是混装运走",
        "{e}没有可回收物的垃圾桶",
    ),
    "违规户外广告招牌": ("{r}商铺的广告招牌摇摇欲坠", "楼顶大型广告牌没有审批", "店家乱挂横幅广告"),
    "树木倒伏与修剪": (
        "台风过后{r}的大树倒了挡住路",
        "{e}外面树枝太长挡住窗户需要修剪",
        "行道树枯死了有倒下的危险",
    ),
    "绿地损毁": ("公园绿地被人开垦种菜", "{r}绿化带被车辆碾压损毁", "有人砍伐{e}旁边的绿化树"),
    "公厕管理": ("{r}公厕很脏没人打扫", "公园公厕晚上锁门不开放", "公厕没有水冲不了"),
    "共享单车乱停放": (
        "共享单车堆在{e}门口堵住通道",
        "地铁站口共享单车乱停乱放",
        "{r}人行道上停满了共享单车",
    ),
    "公交线路与站点": (
        "希望开通到{e}的公交线路",
        "公交车站牌信息没有更新",
        "{r}公交站被取消了出行很不方便",
    ),
    "公交服务态度": (
        "公交司机态度恶劣还骂人",
        "公交车到站不停，乘客没法上车",
        "司机开车玩手机急刹车",
    ),
    "地铁运营": ("地铁早高峰太挤希望加密班次", "地铁站扶梯经常停运", "地铁末班车时间太早"),
    "出租车拒载绕路": ("出租车司机拒载，说不顺路", "出租车故意绕路多收钱", "的士不打表议价"),
    "网约车投诉": ("网约车司机中途甩客", "网约车平台乱收取消费", "网约车车牌与订单不符"),
    "交通信号灯故障": (
        "{r}路口红绿灯坏了，车辆乱行",
        "信号灯时间太短行人过不了马路",
        "{r}交叉口红绿灯一直黄闪",
    ),
    "违法停车": ("{e}门口车辆乱停堵住消防通道", "{r}两边长期有车违停", "有车一直停在我家车库门口"),
    "驾驶证与车辆业务": ("驾驶证到期换证怎么办理", "车辆年检预约不上", "驾驶证扣分处理在哪里办"),
    "商品质量": ("买的电器用了几天就坏了，商家不给退", "买到假冒名牌鞋", "商场卖的衣服质量有问题"),
    "预付卡退费": (
        "健身房倒闭了，会员卡的钱退不了",
        "理发店充值卡老板跑路了",
        "培训机构关门预付款不退",
    ),
    "网购纠纷": ("网上买的东西货不对板，商家不退货", "直播间买的商品是假货", "网店收钱后不发货"),
    "餐饮食品安全": ("在{r}的餐馆吃饭后拉肚子", "餐厅后厨卫生很差，有老鼠", "外卖里吃出了虫子"),
    "过期变质食品": ("超市卖过期的牛奶", "{e}旁边的小卖部卖过期零食", "买的肉有异味已经变质"),
    "药品与医疗器械": ("药店卖处方药不要处方", "网上买的医疗器械是假的", "药店药品过期了还在卖"),
    "价格违法": ("停车场收费不明码标价", "商家先涨价后打折", "景区商店价格欺诈"),
    "缺斤少两": ("菜市场买菜缺斤少两", "{r}市场的电子秤不准", "买水果称重少了好几两"),
    "企业开办与变更": (
        "公司注册地址变更怎么办理",
        "企业开办营业执照要多久",
        "公司股东变更需要什么材料",
    ),
    "个体工商户登记": (
        "想开个小店，个体户营业执照怎么办",
        "个体工商户注销流程",
        "个体户经营范围变更",
    ),
    "拖欠工资": (
        "公司拖欠工资三个月不发",
        "老板跑路了，我们的工资没着落",
        "{r}工地包工头欠农民工工资",
    ),
    "劳动合同纠纷": ("公司不签劳动合同", "被公司无故辞退没有赔偿", "试用期被辞退公司不给工资"),
    "工伤认定": ("上班受伤了公司不给申报工伤", "工伤认定需要什么材料", "上下班路上出车祸算工伤吗"),
    "养老保险": ("养老保险断缴了怎么补缴", "退休后养老金怎么计算", "灵活就业人员养老保险怎么交"),
    "失业保险与失业登记": ("被辞退了怎么领失业金", "失业登记在哪里办", "失业保险金申领被驳回"),
    "社会保障卡": ("社保卡丢了怎么补办", "社保卡激活不了", "新生儿社保卡怎么办"),
    "就业创业补贴": ("创业补贴什么时候发放", "申请一次性创业资助被拒", "就业补贴申请条件"),
    "职业技能培训": ("政府有没有免费的技能培训", "职业技能等级证书怎么考", "技能培训补贴怎么申请"),
    "医院服务态度": ("医院医生态度很差", "医院挂号排队时间太长", "护士打针态度恶劣"),
    "医疗纠纷": ("在医院做手术后出现后遗症", "怀疑医院误诊耽误治疗", "医院过度检查乱收费"),
    "医保报销": ("医保报销比例是多少", "异地就医医保怎么报销", "住院费用医保报销不了"),
    "医保参保缴费": ("城乡居民医保怎么缴费", "医保断缴了影响报销吗", "小孩医保参保在哪里办"),
    "疫苗接种": ("小孩打疫苗预约不上", "HPV疫苗什么时候能打", "狂犬疫苗在哪里接种"),
    "病媒生物防治": ("{e}老鼠很多希望灭鼠", "小区蚊子太多要求消杀", "{r}有很多蟑螂"),
    "小学一年级入学": (
        "孩子明年读一年级，学位怎么申请",
        "小学学位不够分到很远的学校",
        "一年级入学需要什么材料",
    ),
    "积分入学": ("积分入学分数怎么算", "积分入学排名公布了没有", "非户籍孩子积分入学没有学位"),
    "校外培训机构": ("校外培训机构违规补课", "培训机构老师没有资质", "周末学科类培训班还在上课"),
    "学校收费": ("学校乱收资料费", "幼儿园收费太高", "学校强制订购校服"),
    "工业废气": (
        "{r}工厂排放刺鼻废气",
        "附近工厂晚上偷偷排废气，味道很臭",
        "{s}的工业区烟囱冒黑烟",
    ),
    "社会生活噪声": ("楼下酒吧音乐声太大", "{e}广场舞噪音扰民", "隔壁商铺大喇叭叫卖很吵"),
    "河涌水体污染": ("{s}的河涌发黑发臭", "河里有很多死鱼", "河涌漂满垃圾和油污"),
    "企业偷排漏排": ("工厂偷偷往河里排污水", "企业夜间偷排废水", "{r}有工厂私设暗管排污"),
    "停水与水压低": ("{e}停水了，没有通知", "家里水压很低，楼上没水", "{r}爆管停水什么时候恢复"),
    "水质问题": ("自来水发黄有异味", "水龙头流出来的水很浑浊", "{e}二次供水水质差"),
    "水费账单": ("这个月水费突然多了很多", "水表读数不对多收水费", "水费缴费后显示欠费"),
    "停电": ("{e}整栋楼停电了", "{r}附近经常停电", "突然停电没有通知，冰箱东西坏了"),
    "电费与电表": ("电费比以前高很多，怀疑电表有问题", "峰谷电价怎么申请", "电表跳闸了"),
    "燃气泄漏隐患": ("楼道里闻到煤气味", "燃气管道老化有泄漏隐患", "{e}燃气管道漏气"),
    "燃气开户与缴费": ("新房管道燃气开户怎么办", "燃气费缴费后还是停气", "燃气表读数不准"),
    "有线电视故障": ("有线电视没有信号", "机顶盒坏了怎么报修", "有线电视欠费停机后缴费还看不了"),
    "内涝积水": ("下大雨{r}水浸街，车辆无法通行", "{e}地下车库水浸", "每次下雨{r}就积水很深"),
    "排水管道堵塞": ("{e}下水道堵塞，污水冒出来", "{r}排水沟堵了发臭", "市政排水管堵塞返水"),
    "户口迁移": ("户口迁入佛山需要什么条件", "孩子户口怎么迁过来", "毕业生户口迁移手续"),
    "居民身份证": ("身份证丢了怎么补办", "身份证到期换证要多久", "异地补办身份证"),
    "居住证": ("居住证怎么办理", "居住证签注在哪里办", "居住证办了很久还没拿到"),
    "治安隐患": ("{e}附近经常有人聚集赌博", "{r}晚上有飙车炸街", "小区有可疑人员出入"),
    "养犬管理": ("邻居养狗不拴绳", "小区有人养烈性犬", "{e}流浪狗很多咬人"),
    "最低生活保障": ("低保怎么申请", "低保审批没通过", "低保金没有按时发放"),
    "临时救助": ("家里遭遇变故，能申请临时救助吗", "大病支出太多申请救助", "临时救助金多久能到"),
    "高龄津贴": ("老人高龄津贴怎么申领", "高龄津贴这个月没发", "八十岁老人有什么补贴"),
    "养老机构": ("养老院服务差，老人被虐待", "养老机构收费不透明", "公办养老院床位怎么申请"),
    "结婚离婚登记": ("结婚登记需要预约吗", "离婚登记冷静期怎么算", "婚姻登记处在哪里"),
    "个人所得税": (
        "个税专项附加扣除怎么填",
        "个税年度汇算退税没到账",
        "个税APP显示有陌生公司给我报税",
    ),
    "发票": ("商家不给开发票", "电子发票怎么开", "发票抬头开错了能不能换"),
    "社保费缴纳": ("灵活就业社保费在哪里交", "社保费扣款失败", "城乡居民社保费缴费标准"),
    "不动产权证办理": ("买了房子很久还拿不到房产证", "不动产权证办理进度查询", "二手房过户要多久"),
    "抵押登记": ("房贷还清了怎么注销抵押", "抵押登记预约不到", "抵押登记需要什么材料"),
    "政务服务中心办事": (
        "政务服务中心窗口排队太久",
        "窗口工作人员态度差",
        "行政服务中心午休不办事",
    ),
    "网上办事与粤省事": ("粤省事登录不了", "网上办事系统一直卡", "佛山通小程序无法上传材料"),
    "12345热线服务": ("打12345一直占线", "12345回复的结果不满意", "热线工作人员答非所问"),
    "营商环境投诉": (
        "企业办事被要求重复提交材料",
        "审批部门拖延办理企业项目",
        "政府招商承诺的优惠没兑现",
    ),
}

# Subjects a district handles itself: the leaf → the key of its city unit, whose district
# branches (禅城区…, 南海区…) handle the orders of their district.
LOCAL = {
    "人行道设施损坏": "urban",
    "占道经营与流动摊贩": "urban",
    "违法建设": "urban",
    "过期变质食品": "market",
    "缺斤少两": "market",
}

TITLES = (
    "{short}",
    "{short}",
    "反映{short}问题",
    "投诉{short}",
    "{district}{short}",
    "关于{short}的诉求",
)
OPENINGS = (
    "来电人反映：",
    "市民来电称，",
    "来电人称",
    "市民通过微信反映，",
    "来电人表示",
    "网友留言：",
    "市民反映",
    "来电人投诉，",
)
PLACES = (
    "在{district}{street}{road}附近，",
    "{district}{street}{estate}，",
    "家住{street}{estate}，",
    "{road}{estate}旁边，",
    "",
    "{district}{road}，",
)
CLOSINGS = (
    "希望有关部门尽快处理。",
    "请相关部门核实处理。",
    "诉求人希望尽快解决。",
    "已经反映多次没有结果。",
    "要求尽快回复。",
    "",
    "希望给个说法。",
    "请尽快派人查看。",
    "来电人情绪激动。",
)


@dataclass(frozen=True)
class Order:
    title: str
    content: str
    address: str
    district: str  # a key of DISTRICTS
    leaf: str  # the category filed under (a leaf name)
    unit: str  # the unit that handled it: a key of the city's units, or "<district>/<key>"


def leaves() -> dict[str, tuple[str, str]]:
    """Leaf name → (the key of its default unit, its parent's name)."""
    found = {}
    for _name1, children in TAXONOMY:
        for name2, items in children:
            for name3, unit in items:
                found[name3] = (unit, name2)
    return found


def units() -> list[str]:
    """Every unit an order can go to: the city's, then each district's local bureaus."""
    city = sorted({unit for unit, _parent in leaves().values()})
    local = sorted({f"{d}/{key}" for d in DISTRICTS for key in LOCAL.values()})
    return city + local


def _short(leaf: str) -> str:
    return leaf.split("与")[0]


def generated(n: int, *, seed: int = 0) -> list[Order]:
    """`n` closed orders, deterministic for `seed`. Subjects are drawn with a long tail (a
    few are most of the calls, as on a real line)."""
    rng = random.Random(seed)
    leaf_of = leaves()
    names = sorted(SUBJECTS)
    missing = set(leaf_of) - set(names)
    if missing:
        raise RuntimeError(f"no subjects for {sorted(missing)}")
    weights = [1.0 / (1 + (i % 30)) ** 0.7 for i in range(len(names))]
    rng.shuffle(weights)
    siblings: dict[str, list[str]] = {}
    for leaf, (_unit, parent) in leaf_of.items():
        siblings.setdefault(parent, []).append(leaf)
    by_field: dict[str, list[str]] = {}
    for unit, parent in leaf_of.values():
        by_field.setdefault(parent, []).append(unit)
    every_unit = sorted({unit for unit, _p in leaf_of.values()})
    districts = sorted(DISTRICTS)
    orders = []
    for _ in range(n):
        leaf = rng.choices(names, weights)[0]
        district = rng.choice(districts)
        slots = {
            "district": district,
            "street": rng.choice(DISTRICTS[district]),
            "road": rng.choice(ROADS),
            "estate": rng.choice(ESTATES),
        }
        slots["r"], slots["e"], slots["s"] = slots["road"], slots["estate"], slots["street"]
        said = rng.choice(SUBJECTS[leaf]).format(**slots)
        content = (
            rng.choice(OPENINGS)
            + rng.choice(PLACES).format(**slots)
            + said
            + "，"
            + rng.choice(CLOSINGS)
        )
        if rng.random() < TITLE_FROM_CALL:
            title = said.split("，")[0][:30]
        else:
            title = rng.choice(TITLES).format(short=_short(leaf), **slots)[:100]
        unit, parent = leaf_of[leaf]
        if leaf in LOCAL:
            unit = f"{district}/{LOCAL[leaf]}"
        roll = rng.random()
        if roll < NOISE:
            others = [u for u in by_field[parent] if u != unit] or every_unit
            unit = rng.choice(others)
        filed = leaf
        if rng.random() < CATEGORY_NOISE and len(siblings[parent]) > 1:
            filed = rng.choice([s for s in siblings[parent] if s != leaf])
        address = f"{slots['district']}{slots['street']}{slots['road']}"
        orders.append(Order(title, content, address, district, filed, unit))
    return orders


def fresh(n: int, *, seed: int = 1) -> list[Order]:
    """New calls, as the agent types them (the same generator, another seed)."""
    return generated(n, seed=seed + 10_000)
