"""Demo disputes for ``flask seed-demo``: about 360 cases in the demo city, reported over
the last eighteen months.

Every case is built through ``mediation.cases.operations``, so its timeline, proposals,
notices and audit entries are the real ones.  The cases are first *planned* (who reports
them, which levels they pass, how they end, when each step happens), then *played*: each
step calls an operation, and whatever that step created is moved back to the step's moment
so the case page reads in order and the deadline colours (red, yellow) come out of the
rules.  The open cases and the recent outcomes sit in the last weeks; the closed ones are
spread over the eighteen months so that each month receives about its share (a monthly
trend means something).  The audit log keeps the moment the seed actually ran: it is
hash-chained and never rewritten.  Case numbers carry the year the seed ran in (numbers are
allocated, and audited, as the case is created).

``Planner`` and ``Player`` are extended by ``mediation.demo_activity`` (sessions,
agreements, ratings: domains above cases): it adds steps to the plan, plays them, and adds
the stamps of what they create to ``Player.STAMPS``.

Deterministic (``random.Random(2026)``) and idempotent (nothing happens if a case exists).
"""

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.areas.models import AreaKind, AreaNode, Committee
from mediation.cases import operations as ops
from mediation.cases import rules
from mediation.cases.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    Category,
    Department,
    EscalationProposal,
    EventKind,
    FollowUp,
    Gender,
    HelpRequest,
    Party,
    PartyKind,
    PartyRole,
    ProposalRule,
    SupervisionNotice,
)
from mediation.cases.operations import CaseInput, PartyInput
from mediation.cases.states import (
    STAFF_SOURCES,
    CaseState,
    Level,
    RiskLevel,
    Source,
    assess_risk,
)
from mediation.core.db import utcnow
from mediation.core.identity import (
    USCC_CHARSET,
    USCC_WEIGHTS,
    DocumentType,
    check_uscc,
    id_check_char,
)
from mediation.extensions import db
from mediation.users import operations as user_ops
from mediation.users.models import User
from mediation.users.roles import Role

S = CaseState
LOCAL = rules.LOCAL
DAY = timedelta(days=1)

# ---- the people who work the cases ------------------------------------------------------

# Who mediates for each community committee, and for each street committee (the demo
# accounts "mediator", "gridworker" and "coordinator" come from mediation.demo).
COMMUNITY_MEDIATOR = {
    "文苑社区": "mediator", "清风社区": "wangjianguo", "明德社区": "wangjianguo",
    "河畔社区": "zhouguodong", "龙居社区": "zhouguodong", "新华社区": "zhouguodong",
    "胜园社区": "zhengxiaofeng", "锦华社区": "zhengxiaofeng", "康宁社区": "zhengxiaofeng",
}
STREET_MEDIATOR = {"文汇街道": "sunlijuan", "黄河路街道": "wujing", "胜园街道": "wujing"}
STREET_COORDINATOR = {"文汇街道": "coordinator", "黄河路街道": "mawenbin",
                      "胜园街道": "mawenbin"}
# Grid workers: username -> [(community, first grid, last grid)].
GRID_WORKERS = {
    "gridworker": [("文苑社区", 1, 3)],
    "yangfan": [("文苑社区", 4, 7), ("清风社区", 1, 7)],
    "huangli": [("明德社区", 1, 6), ("河畔社区", 1, 7)],
    "hejianjun": [("龙居社区", 1, 7), ("新华社区", 1, 6)],
    "luomin": [("胜园社区", 1, 7), ("锦华社区", 1, 7), ("康宁社区", 1, 6)],
}
# Extra demo staff: username, full name, role, phone, street codes, committee short names.
EXTRA_STAFF = [
    ("wangjianguo", "王建国", Role.MEDIATOR, "13905461021", [], ["清风社区", "明德社区"]),
    ("zhouguodong", "周国栋", Role.MEDIATOR, "13805462217", [],
     ["河畔社区", "龙居社区", "新华社区"]),
    ("zhengxiaofeng", "郑晓峰", Role.MEDIATOR, "15805463390", [],
     ["胜园社区", "锦华社区", "康宁社区"]),
    ("sunlijuan", "孙丽娟", Role.MEDIATOR, "13305460518", [], ["文汇街道"]),
    ("wujing", "吴静", Role.MEDIATOR, "18605467702", [], ["黄河路街道", "胜园街道"]),
    ("mawenbin", "马文斌", Role.COORDINATOR, "13963821156", ["370599002", "370599003"], []),
    ("yangfan", "杨帆", Role.GRID_WORKER, "15166201834", [], []),
    ("huangli", "黄丽", Role.GRID_WORKER, "18254608127", [], []),
    ("hejianjun", "何建军", Role.GRID_WORKER, "13012756640", [], []),
    ("luomin", "罗敏", Role.GRID_WORKER, "15954617325", [], []),
]
LEGAL_AID = "legalaid"

# ---- the places -------------------------------------------------------------------------

ESTATES = {
    "文苑社区": ["翰林花园", "书香苑", "文苑小区"],
    "清风社区": ["清风雅苑", "绿城小区"],
    "明德社区": ["明德花园", "学府家园"],
    "河畔社区": ["河畔人家", "滨河小区"],
    "龙居社区": ["龙居新村", "龙腾苑"],
    "新华社区": ["新华里小区", "华庭小区"],
    "胜园社区": ["胜园小区", "石油新村"],
    "锦华社区": ["锦华苑", "金色家园"],
    "康宁社区": ["康宁小区", "颐和家园"],
}
ROADS = {
    "文汇街道": ["文汇路", "府前大街", "学苑路"],
    "黄河路街道": ["黄河路", "滨河路", "龙居路"],
    "胜园街道": ["胜园路", "西四路", "锦华路"],
}
POLICE = {"文汇街道": "东湖区公安分局文汇派出所", "黄河路街道": "东湖区公安分局黄河路派出所",
          "胜园街道": "东湖区公安分局胜园派出所"}
LEVEL_ZH = {Level.GRID: "网格", Level.COMMUNITY: "社区", Level.STREET: "街道"}

# ---- names, documents, phones -----------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江"
            "尹薛闫段雷侯史陶贺顾毛郝龚邵万钱严武戴孔汤")
HUI_SURNAMES = "马白丁海沙哈纳杨"
MAN_SURNAMES = "关佟那富赵金傅何"
GIVEN = {
    ("m", "old"): ["建国", "国强", "德胜", "长海", "保国", "玉林", "春生", "庆丰", "学军",
                   "振华", "永胜", "立新", "福林", "树林", "洪山", "金海", "广田", "守业"],
    ("f", "old"): ["秀英", "桂兰", "玉珍", "淑芬", "凤英", "翠花", "兰英", "素芳", "桂芝",
                   "玉梅", "金凤", "秀珍", "淑兰", "春兰", "美华", "爱华"],
    ("m", "young"): ["伟", "强", "磊", "军", "勇", "涛", "斌", "浩然", "子轩", "宇航", "俊杰",
                     "文博", "鹏飞", "洪涛", "国栋", "晨阳", "家豪", "志远", "凯", "明轩",
                     "海波", "志刚", "建华", "东升"],
    ("f", "young"): ["静", "敏", "婷婷", "雪梅", "海燕", "欣怡", "梓涵", "雨桐", "丽娟",
                     "红霞", "美玲", "晓丽", "慧敏", "佳怡", "春梅", "丹丹", "璐", "倩",
                     "思雨", "文静", "晓燕", "秀梅"],
}
# Resident ID area codes (GB/T 2260): Dongying first, then where migrant workers and the
# Hui and Manchu parties come from.
LOCAL_AREAS = ["370502"] * 6 + ["370503", "370505", "370522", "370523"]
WORKER_AREAS = ["411323", "341221", "371427", "371722", "370502", "370523"]
HUI_AREAS = ["640104", "640121", "370502"]
MAN_AREAS = ["210102", "211302", "370502"]
OCCUPATIONS = {
    "old": ["退休职工", "退休教师", "无业", "退休工人"],
    "worker": ["建筑工人", "务工人员", "装修工", "搬运工"],
    "default": ["公司职员", "个体经营者", "教师", "出租车司机", "外卖骑手", "自由职业",
                "会计", "销售人员", "工人", "无业", "护士", "厨师", "油田职工", "司机"],
}
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "153", "155", "156", "157", "158", "159", "180", "181", "182", "183",
                  "185", "186", "187", "188", "189"]

# Organisation kinds: brand names, suffix, USCC prefix (registration body + kind),
# legal representative's title.
ORGS = {
    "property": (["恒安", "金泰", "安居", "鑫源", "华信", "泰和"], "物业服务有限公司", "91",
                 "执行董事兼总经理"),
    "construction": (["鲁建", "黄河", "胜利", "宏远", "东诚"], "建筑工程有限公司", "91",
                     "执行董事"),
    "labour_co": (["鼎盛", "众鑫", "顺达", "恒通"], "建筑劳务有限公司", "91", "执行董事"),
    "decoration": (["美家", "尚品", "雅居", "佳美"], "装饰工程有限公司", "91", "总经理"),
    "developer": (["海岸", "盛世", "万和", "黄河口"], "房地产开发有限公司", "91",
                  "董事长"),
    "travel": (["黄河口", "康辉", "悦途"], "国际旅行社有限公司", "91", "总经理"),
    "restaurant": (["鲁味", "渔家", "蜜语", "福满楼"], "餐饮管理有限公司", "91", "执行董事"),
    "shop": (["家家乐", "惠民", "万佳"], "商贸有限公司", "91", "执行董事兼总经理"),
    "fitness": (["动力", "力美", "健途"], "健身服务有限公司", "91", "执行董事"),
    "appliance": (["百顺", "苏宁达", "国联"], "电器有限公司", "91", "总经理"),
    "logistics": (["顺鑫", "通达", "快捷"], "物流有限公司", "91", "执行董事兼总经理"),
    "factory": (["胜华", "东信", "瑞丰"], "机械制造有限公司", "91", "董事长"),
    "tech": (["星河", "云端", "乐享"], "网络科技有限公司", "91", "执行董事"),
    "media": (["黄河口", "新视界", "蓝海"], "文化传媒有限公司", "91", "执行董事"),
    "dental": (["贝齿", "美齿", "康洁"], "口腔门诊有限公司", "91", "执行董事"),
    "insurer": ([""], "", "91", "总经理"),
    "clinic": ([""], "", "12", "主任"),
    "coop": ([""], "", "N2", "理事长"),
}
INSURERS = ["中国人民财产保险股份有限公司东营市分公司",
            "中国平安财产保险股份有限公司东营中心支公司",
            "中国太平洋财产保险股份有限公司东营中心支公司"]


def id_number(rng: random.Random, area: str, birth: date, male: bool) -> str:
    """A resident ID number that passes GB 11643: area, birth date, sequence, check char."""
    sequence = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def _organisation_code(rng: random.Random) -> str:
    """A 9-character organisation code with its GB 11714 check character."""
    if rng.random() < 0.5:
        body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWY") for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc(rng: random.Random, prefix: str, area: str = "370599") -> str:
    """A unified social credit code whose 18th character is right (GB 32100, as check_uscc)."""
    first17 = prefix + area + _organisation_code(rng)
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return check_uscc(first17 + USCC_CHARSET[(31 - total % 31) % 31])


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


# ---- the disputes -----------------------------------------------------------------------
# Placeholders: {a} first applicant, {b} first respondent, {c} the third party named in the
# scenario, {addr}/{addr2} the applicant's flat and the one above, {xq} the estate, {road},
# {community}, {street}, {m}/{d} the incident's month and day, {y} an earlier year, {age}
# the applicant's age, {n} a small count, {amt} the amount claimed (yuan), {pay} what was
# agreed, {month} the month after settlement.  Parties: role (A/R/T), P or an ORGS kind,
# hints (old, young, mid, worker, m, f, kin, up), "?" for optional.

def _sc(title, story, parties, amount=None, risks=None, sources=None, terms="", n=(2, 9)):
    return {"title": title, "story": story, "parties": parties.split(), "amount": amount,
            "risks": risks or {}, "sources": sources or [], "terms": terms, "n": n}


SCENARIOS = {
    "marriage_family": [
        _sc("{a}与子女{b}、{c}赡养纠纷",
            "{a}今年{age}岁，老伴去世后独自居住在{addr}，患有高血压和糖尿病，"
            "每月养老金不足两千元。儿子{b}、女儿{c}因赡养费分摊和轮流照料问题互相推诿，"
            "已有半年未给付赡养费。{a}多次到社区反映，要求子女按月给付赡养费并轮流照料。",
            "A:P:old R:P:mid:m:kin R:P:mid:f:kin", (12000, 36000),
            {"vulnerable_party": 0.9}, ["party_application", "committee_initiative", "walk_in"],
            "{b}、{c}自{month}起每人每月给付{a}赡养费800元，于每月5日前支付；二人按月轮流"
            "照料{a}的日常生活，{a}住院期间共同陪护，医疗费用自付部分由二人平均分担。"),
        _sc("{a}与{b}离婚后子女探望纠纷",
            "{a}与{b}于{y}年协议离婚，婚生女随{b}生活，离婚协议约定{a}每月可探望两次。"
            "近三个月来{b}以孩子学习紧张为由多次拒绝探望，双方在小区门口发生争吵，"
            "{a}情绪激动，扬言要到学校把孩子接走。",
            "A:P:mid:m R:P:mid:f", None, {"vulnerable_party": 0.5, "violence_threat": 0.2},
            ["party_application", "walk_in", "court_referral"],
            "{b}保证{a}每月第一、三周的周六可接孩子探望，当日18时前送回；寒暑假期间{a}可"
            "连续探望五日。双方均不得在孩子面前贬损对方。"),
        _sc("{a}与儿媳{b}家庭矛盾纠纷",
            "{a}与儿媳{b}因照看孙子、家务分工等琐事长期不和，{m}月{d}日双方再次争吵并发生"
            "推搡。{a}要求{b}搬出由其出资购买的{addr}住房，{b}则要求返还结婚时的陪嫁款"
            "{amt}元，儿子{c}夹在中间左右为难。",
            "A:P:old:f R:P:young:f T:P:mid:m:kin", (30000, 80000),
            {"violence_threat": 0.3, "vulnerable_party": 0.3},
            ["committee_initiative", "grid_patrol", "police_referral"],
            "{c}、{b}夫妇于三个月内另行租房居住，{a}继续居住原房屋；陪嫁款问题双方同意"
            "不再追究；双方互不干涉对方生活，{c}每周回家探望{a}。"),
    ],
    "neighbour": [
        _sc("{a}与{b}楼道堆物纠纷",
            "{b}长期在{addr}所在单元的公共楼道堆放纸箱、旧家具并停放电动自行车，{a}认为"
            "存在消防隐患且影响通行，多次沟通无果。{m}月{d}日双方在楼道内发生口角，"
            "{b}称楼道杂物“碍不着别人”。",
            "A:P R:P", None, {}, ["grid_patrol", "hotline", "party_application"],
            "{b}于三日内清理楼道内堆放的杂物，电动自行车停放到小区集中充电车棚；"
            "今后双方共同维护楼道整洁，互不指责。"),
        _sc("{a}与{b}私搭棚子遮挡采光纠纷",
            "{b}在一楼院内私自搭建约{n}平方米的彩钢棚，遮挡了{a}家窗户的采光，雨天雨水"
            "顺棚顶流进{a}家院内，墙根返潮。{a}要求{b}拆除彩钢棚，{b}以“自家院子自家"
            "做主”为由拒绝。",
            "A:P R:P", None, {}, ["grid_patrol", "party_application", "hotline"],
            "{b}于十五日内将彩钢棚向内缩减一米并降低高度，棚顶加装落水管引向排水沟；"
            "{a}不再要求全部拆除。", n=(8, 20)),
        _sc("{a}与{b}地下车位占用纠纷",
            "{b}长期将私家车停放在{a}购买的{xq}地下车位，{a}多次联系物业和{b}未果，只能"
            "把车停在路边，两次被贴罚单。{m}月{d}日双方在车库内发生争执并互相推搡。",
            "A:P R:P T:property?", (500, 3000), {"violence_threat": 0.25},
            ["grid_patrol", "police_referral", "party_application"],
            "{b}当日将车辆移出{a}的车位，并补偿{a}停车费及罚款损失{pay}元；物业公司在"
            "该车位加装地锁。"),
    ],
    "housing_homestead": [
        _sc("{a}与{b}宅基地边界纠纷",
            "{a}与{b}系{community}未改造片区的前后邻居。{b}翻建房屋时将院墙向{a}一侧外移"
            "约{n}0厘米，{a}认为侵占了自家宅基地，双方为界址多次争吵，{b}已备好建材准备"
            "继续施工。",
            "A:P:old R:P", None, {"criminal_risk": 0.3, "repeat_petition": 0.2},
            ["grid_patrol", "party_application", "committee_initiative"],
            "双方同意以{y}年宅基地使用证四至为准，{b}于十日内将越界院墙拆除后退至原界址，"
            "拆除费用由{b}承担；两家之间留出排水通道。", n=(3, 8)),
        _sc("{a}与{b}继承房屋分割纠纷",
            "{a}与弟弟{b}的父母去世后留下位于{addr}的住房一套，一直由{b}一家居住。{a}要求"
            "出售房屋平分房款，或由{b}按市场价折价补偿其份额约{amt}元；{b}认为自己长期"
            "照顾父母，应当多分。",
            "A:P:mid R:P:mid:m:kin", (150000, 400000), {},
            ["party_application", "court_referral", "walk_in"],
            "房屋归{b}所有，{b}分两期向{a}支付折价款{pay}元，第一期于协议签订后十日内支付"
            "一半，余款于六个月内付清；{a}配合办理继承过户手续。"),
        _sc("{a}与{b}共用山墙开裂纠纷",
            "{b}拆除自家老房重建时开挖地基，导致与{a}家共用的山墙出现多处裂缝，{a}要求"
            "{b}停止施工并赔偿房屋加固费用{amt}元。",
            "A:P:old R:P T:construction?", (8000, 30000), {},
            ["grid_patrol", "party_application"],
            "{b}承担山墙加固费用{pay}元，由双方共同认可的施工队在十五日内完成加固；"
            "加固完成前{b}暂停地基施工。"),
    ],
    "contract": [
        _sc("{a}与{b}房屋租赁押金纠纷",
            "{a}将位于{addr}的住房出租给{b}，租期一年。{b}提前两个月退租，{a}以墙面污损、"
            "地板划伤为由拒绝退还押金{amt}元，{b}认为属于正常使用损耗，要求全额退还。",
            "A:P R:P:young", (2000, 6000), {}, ["party_application", "hotline", "walk_in"],
            "{a}扣除墙面修补费后退还{b}押金{pay}元，当场以微信转账方式支付完毕，"
            "双方租赁关系终止。"),
        _sc("{a}与{b}民间借贷纠纷",
            "{b}于{y}年以资金周转为由向{a}借款{amt}元，约定半年内归还，并出具借条一张。"
            "到期后{b}仅归还部分款项，余款一再拖延，{a}多次催要未果。",
            "A:P R:P", (20000, 200000), {}, ["court_referral", "party_application", "walk_in"],
            "{b}确认尚欠{a}借款{pay}元，分三期还清：本协议签订之日起每两个月归还三分之一；"
            "任何一期逾期，{a}有权就全部余款申请强制执行。"),
        _sc("{a}与{b}装修合同纠纷",
            "{a}委托{b}装修位于{addr}的住房，合同价款{amt}元。交付后出现墙面开裂、卫生间"
            "渗水等问题，{a}拒付尾款，{b}多次派人上门催要。",
            "A:P R:decoration", (30000, 120000), {},
            ["party_application", "court_referral", "hotline"],
            "{b}于十五日内返工修复墙面和卫生间防水，经{a}验收合格后，{a}支付剩余工程款"
            "{pay}元。"),
    ],
    "business": [
        _sc("{a}与{b}合伙经营散伙纠纷",
            "{a}与{b}于{y}年合伙在{road}经营一家快餐店，各出资一半。因经营不善决定散伙，"
            "双方对厨房设备折价、剩余房租和{amt}元往来账款的分担争执不下。",
            "A:P R:P", (40000, 200000), {}, ["party_application", "court_referral"],
            "店内设备归{b}所有，{b}向{a}支付设备折价款及往来账款共计{pay}元，于三十日内"
            "付清；剩余房租由双方各负担一半。"),
        _sc("{a}与{b}供货货款纠纷",
            "{a}系个体商户，长期向{b}供应蔬菜和冻品。截至{m}月底{b}尚欠货款{amt}元，"
            "{b}以部分货品质量不合格为由拒绝支付。",
            "A:P R:restaurant", (15000, 90000), {}, ["party_application", "court_referral"],
            "扣除有质量争议的货品款后，{b}支付{a}货款{pay}元，于协议签订后十五日内"
            "付清，双方继续合作。"),
        _sc("{a}与{b}门面房转让费纠纷",
            "{b}将{road}一间门面房连同经营设备转让给{a}，收取转让费{amt}元。{a}接手后"
            "得知房东{c}不同意续租，要求{b}退还转让费。",
            "A:P R:P T:P", (30000, 80000), {}, ["party_application", "walk_in"],
            "{b}退还{a}转让费{pay}元，经营设备由{b}自行搬离；{c}同意{a}使用门面至本月底。"),
    ],
    "damages": [
        _sc("{a}与{b}电动车损坏赔偿纠纷",
            "{b}之子在{xq}内玩耍时将{a}停放的电动自行车推倒，致车辆外壳、仪表盘和充电器"
            "损坏，{a}要求赔偿维修费{amt}元，{b}认为维修报价偏高。",
            "A:P R:P", (600, 2500), {}, ["grid_patrol", "party_application"],
            "{b}一次性赔偿{a}维修费{pay}元，当场付清。"),
        _sc("{a}与{b}人身损害赔偿纠纷",
            "{m}月{d}日，{a}与{b}因停车琐事发生争执并相互推搡，{a}摔倒致左手腕骨折，住院"
            "治疗花费{amt}元。派出所出警处置后，建议双方通过调解解决赔偿问题。",
            "A:P R:P", (15000, 60000), {"criminal_risk": 0.5, "violence_threat": 0.2},
            ["police_referral"],
            "{b}赔偿{a}医疗费、误工费、护理费共计{pay}元，当场支付一半，余款于一个月内"
            "付清；{a}对{b}表示谅解，双方不再就此事追究。"),
        _sc("{a}在{b}门店摔伤赔偿纠纷",
            "{m}月{d}日雨天，{a}在{b}经营的超市门口因地面湿滑且未设警示标志摔倒，致右髋部"
            "受伤，花费医疗费{amt}元，要求超市赔偿医疗费、护理费和误工费。",
            "A:P:old R:shop", (8000, 30000), {"vulnerable_party": 0.5},
            ["party_application", "hotline"],
            "{b}一次性赔偿{a}各项损失{pay}元，于七日内支付；{b}在门口增设防滑垫和警示牌。"),
    ],
    "forest_land": [
        _sc("{a}与{b}承包地边界纠纷",
            "{a}与{b}在{street}东郊的承包地相邻。{b}耕种时越过地界石种植玉米约{n}分地，"
            "{a}要求恢复原界，双方对地界石位置各执一词。",
            "A:P:old R:P", None, {}, ["grid_patrol", "committee_initiative"],
            "以承包经营权证所附地块图为准，由社区会同双方重新埋设界桩；本季玉米由{b}"
            "收获，秋后{b}退回越界地块。", n=(2, 6)),
        _sc("{a}与{b}地头林木权属纠纷",
            "{a}与{b}两家承包地交界处有十余棵速生杨，双方对林木归属各执一词。{b}擅自砍伐"
            "出售，得款{amt}元，{a}要求返还卖树款。",
            "A:P R:P", (3000, 12000), {}, ["party_application", "grid_patrol"],
            "卖树款由双方平分，{b}于十日内支付{a}{pay}元；交界处今后不再种植高大乔木。"),
    ],
    "land_demolition": [
        _sc("{a}等{n}户居民与{b}房屋征收补偿纠纷",
            "{community}旧城改造项目启动后，{a}等{n}户居民的平房被列入征收范围。居民认为"
            "评估价格低于周边同类房屋市场价，对临时安置费和搬迁奖励标准有异议，多次到街道"
            "反映，部分居民表示“不解决就不搬”。",
            "A:P:old A:P? R:developer", (500000, 3000000),
            {"group_dispute": 1.0, "repeat_petition": 0.5, "vulnerable_party": 0.3},
            ["walk_in", "hotline", "committee_initiative"],
            "征收方委托双方共同选定的评估机构复核评估，按复核结果补偿；临时安置费按每月"
            "每平方米12元标准发放至安置房交付之日；按期签约的给予搬迁奖励。", n=(6, 30)),
        _sc("{a}与{b}拆迁补偿款分配纠纷",
            "{a}与弟弟{b}父母名下的房屋被征收，获得安置房一套和补偿款{amt}元。{b}认为自己"
            "为父母养老送终应多分，{a}要求平均分配，兄弟二人多次发生争吵。",
            "A:P:mid:m R:P:mid:m:kin T:P:mid:f:kin?", (200000, 800000),
            {"violence_threat": 0.2}, ["party_application", "walk_in", "court_referral"],
            "安置房归{b}所有；补偿款中{pay}元归{a}，于十五日内由{b}转账支付，其余归{b}。"),
    ],
    "pollution": [
        _sc("{a}等居民与{b}烧烤店油烟噪声纠纷",
            "{b}在{addr}楼下临街门面经营烧烤，排烟管道直对居民窗户，夜间营业至凌晨，油烟和"
            "噪声严重影响楼上{n}户居民休息，居民多次拨打12345热线。",
            "A:P A:P? R:P", None, {"group_dispute": 0.7}, ["hotline", "grid_patrol"],
            "{b}于十日内加装油烟净化器并将排烟管道改至楼顶高空排放，每日22时后停止室外"
            "经营；居民不再投诉。", n=(6, 20)),
        _sc("{a}与{b}工地扬尘污染纠纷",
            "{b}承建的工地紧邻{xq}，未采取有效防尘措施，渣土车进出造成道路扬尘，{a}等居民"
            "家中晾晒的衣物和停放的车辆经常被污染，要求施工方整改并赔偿洗车等费用。",
            "A:P R:construction", (1000, 5000), {"group_dispute": 0.5},
            ["hotline", "grid_patrol", "party_application"],
            "{b}立即对工地裸土覆盖防尘网、出入口设置洗车平台，每日洒水降尘；向{a}等居民"
            "补偿洗车费用{pay}元。"),
    ],
    "labour": [
        _sc("{a}与{b}工伤赔偿纠纷",
            "{a}在{b}从事装卸工作，{m}月在卸货时被货物砸伤右脚，经鉴定为十级伤残。{b}未为"
            "其缴纳工伤保险，双方就一次性伤残补助金、停工留薪期工资等赔偿数额分歧较大。",
            "A:P:worker R:logistics", (40000, 150000), {},
            ["party_application", "walk_in", "court_referral"],
            "{b}按工伤保险待遇标准一次性支付{a}各项工伤待遇{pay}元，于协议签订后二十日内"
            "付清，双方劳动关系解除。"),
        _sc("{a}与{b}解除劳动合同经济补偿纠纷",
            "{a}在{b}工作{n}年，{m}月公司以经营困难为由口头通知其解除劳动关系，未支付经济"
            "补偿金，也未出具解除劳动合同的证明。",
            "A:P R:factory", (20000, 80000), {}, ["party_application", "walk_in"],
            "{b}支付{a}经济补偿金{pay}元，于十日内付清，并为其出具解除劳动合同证明、"
            "办理社会保险关系转移手续。", n=(3, 9)),
    ],
    "consumer": [
        _sc("{a}与{b}健身卡退费纠纷",
            "{a}在{b}办理健身年卡并充值{amt}元，使用不到三个月门店即停业装修，迟迟不复业，"
            "{a}要求退还剩余费用，商家只同意延长会员期。",
            "A:P:young R:fitness", (2000, 8000), {"group_dispute": 0.3},
            ["hotline", "walk_in", "party_application"],
            "{b}按未使用月数退还{a}费用{pay}元，于七日内原路退回。"),
        _sc("{a}与{b}空调质量纠纷",
            "{a}在{b}购买的空调安装后制冷效果差，经三次维修仍未解决，{a}要求退货退款"
            "{amt}元，商家只同意继续维修。",
            "A:P R:appliance", (3000, 9000), {}, ["hotline", "party_application"],
            "{b}为{a}更换同型号新机并免费安装，另补偿{a}{pay}元。"),
    ],
    "medical": [
        _sc("{a}与{b}输液过敏医疗纠纷",
            "{a}的母亲{c}在{b}输液后出现过敏反应，经转院抢救后好转。{a}认为医护人员未详细"
            "询问过敏史、观察不到位，要求赔偿医疗费、护理费等{amt}元。",
            "A:P:mid R:clinic T:P:old:f:kin", (20000, 80000), {"vulnerable_party": 0.5},
            ["party_application", "walk_in"],
            "{b}一次性补偿{c}医疗费、护理费等各项损失{pay}元，于十五日内支付；{a}不再就此"
            "事向{b}主张其他权利。"),
        _sc("{a}与{b}种植牙医疗服务纠纷",
            "{a}在{b}种植两颗牙齿，花费{amt}元。术后半年内种植体松动脱落，{a}认为手术存在"
            "问题，要求退费并赔偿，诊所认为系患者自身骨质原因。",
            "A:P R:dental", (12000, 30000), {}, ["party_application", "hotline"],
            "{b}为{a}免费重新种植一颗，并退还另一颗费用{pay}元。"),
    ],
    "traffic": [
        _sc("{a}与{b}机动车与电动自行车碰撞事故赔偿纠纷",
            "{m}月{d}日，{b}驾驶小型轿车在{road}路口右转时与{a}驾驶的电动自行车相撞，"
            "致{a}右腿骨折。交警部门认定{b}负事故主要责任。双方就误工费、护理费和后续"
            "治疗费数额分歧较大。",
            "A:P R:P T:insurer", (30000, 200000), {},
            ["police_referral", "court_referral", "party_application"],
            "{c}在交强险和商业三者险限额内赔偿{a}各项损失{pay}元，超出保险部分由{b}承担"
            "三千元，于协议签订后十五日内支付。"),
        _sc("{a}与{b}小区内车辆剐蹭纠纷",
            "{b}在{xq}内倒车时剐蹭了{a}停放的轿车，致后保险杠和尾灯受损。{a}要求按4S店"
            "报价赔偿{amt}元，{b}认为报价过高，只愿在路边修理厂维修。",
            "A:P R:P", (1500, 8000), {}, ["grid_patrol", "party_application", "police_referral"],
            "{b}一次性赔偿{a}维修费{pay}元，当场微信转账付清。"),
        _sc("{a}与{b}外卖电动车撞伤老人赔偿纠纷",
            "{m}月{d}日，外卖骑手{b}驾驶电动车在{road}人行道上将{a}撞倒，致{a}右手腕骨折，"
            "花费医疗费{amt}元。{b}称其为配送站劳务人员，应由{c}承担责任。",
            "A:P:old R:P:young T:logistics", (10000, 50000), {"vulnerable_party": 0.7},
            ["police_referral", "party_application"],
            "{c}与{b}共同赔偿{a}医疗费、护理费、营养费共计{pay}元，其中{c}承担七成，"
            "于十日内支付。"),
    ],
    "property_management": [
        _sc("{a}与{b}等业主物业费纠纷",
            "{a}称{b}等业主拖欠{y}年度物业费共计{amt}元，多次催缴未果。业主认为物业公司对"
            "电梯频繁故障、绿化缺失、车辆乱停等问题长期不作为，以拒交物业费表达不满。",
            "A:property R:P R:P?", (3000, 40000), {"group_dispute": 0.5},
            ["party_application", "court_referral", "hotline"],
            "{a}于三十日内完成电梯维保和绿化补植，并每季度公示收支；{b}等业主于整改完成后"
            "十日内缴纳物业费{pay}元，滞纳金免除。"),
        _sc("{a}与{b}电梯维修费用纠纷",
            "{addr}所在楼栋电梯停运{n}天，{b}提出动用专项维修资金更换主板，部分业主对报价"
            "和分摊方案有异议，老年住户上下楼困难，情绪较大。",
            "A:P:old R:property", (60000, 180000),
            {"group_dispute": 0.6, "vulnerable_party": 0.5}, ["hotline", "grid_patrol"],
            "由社区组织业主表决，同意动用专项维修资金{pay}元更换电梯主板；{b}于七日内"
            "完成维修并承担停运期间的检修人工费。", n=(5, 20)),
        _sc("{a}与{b}车辆被划物业赔偿纠纷",
            "{a}的轿车停放在{xq}内时被人划伤，{a}认为物业公司监控缺失、巡查不到位，要求"
            "赔偿修车费{amt}元，物业公司认为不负有看管义务。",
            "A:P R:property", (2000, 6000), {}, ["party_application", "hotline"],
            "{b}补偿{a}修车费{pay}元，并于一个月内修复该区域监控。"),
    ],
    "village_affairs": [
        _sc("{a}与{b}“外嫁女”分红纠纷",
            "{a}系{community}原村民，婚后户口未迁出。{b}以其为“外嫁女”为由取消其{y}年度"
            "集体收益分红{amt}元，{a}多次找合作社理事会协商未果。",
            "A:P:f R:coop", (3000, 12000), {"repeat_petition": 0.3},
            ["party_application", "walk_in", "committee_initiative"],
            "{b}确认{a}的成员资格，补发{a}{y}年度分红{pay}元，以后年度同等分配。"),
        _sc("{a}等居民与{b}集体土地租金分配纠纷",
            "{b}将原村集体土地出租给企业，年租金{amt}元。{a}等部分居民对租金分配方案和账目"
            "公开程度有异议，多次聚集到社区办公室要求公开账目。",
            "A:P:old A:P? R:coop", (100000, 400000),
            {"group_dispute": 0.9, "repeat_petition": 0.3},
            ["committee_initiative", "walk_in", "hotline"],
            "{b}于十五日内公开近三年土地租金收支账目，租金分配方案提交成员代表大会重新"
            "表决；{a}等居民通过合法途径表达意见。"),
    ],
    "tourism": [
        _sc("{a}与{b}旅游合同纠纷",
            "{a}一家四口报名参加{b}组织的云南六日游，行程中被安排多个购物点，导游擅自减少"
            "两个合同约定的景点。{a}回来后要求旅行社退还部分团费并赔偿{amt}元。",
            "A:P R:travel", (1500, 6000), {}, ["hotline", "party_application", "walk_in"],
            "{b}退还未游览景点门票费并赔偿违约金，共计{pay}元，于五日内支付。"),
        _sc("{a}与{b}研学旅行退费纠纷",
            "{a}为孩子报名{b}组织的暑期研学营，交费{amt}元。出发前三天旅行社以人数不足为由"
            "取消行程，只同意退还一半费用。",
            "A:P:mid R:travel", (3000, 8000), {}, ["hotline", "party_application"],
            "{b}全额退还{a}研学费用，另支付违约金{pay}元。"),
    ],
    "ip": [
        _sc("{a}与{b}商标侵权纠纷",
            "{b}在{road}开设的奶茶店使用与{a}注册商标近似的店招和包装，{a}要求其停止使用并"
            "赔偿损失{amt}元，{b}称系从网上加盟而来，并不知情。",
            "A:restaurant R:P:young", (10000, 50000), {}, ["court_referral", "party_application"],
            "{b}于十日内更换店招、停止使用近似包装，赔偿{a}损失{pay}元。"),
        _sc("{a}与{b}摄影作品著作权纠纷",
            "{b}运营的公众号未经许可使用{a}拍摄的黄河口湿地摄影作品{n}幅用于商业宣传，"
            "{a}要求署名、删除并支付使用费{amt}元。",
            "A:P R:media", (3000, 10000), {}, ["party_application", "court_referral"],
            "{b}补充署名并支付作品使用费{pay}元，今后使用须事先取得{a}书面许可。", n=(3, 8)),
    ],
    "internet": [
        _sc("{a}与{b}网购二手手机纠纷",
            "{a}通过二手交易平台向同城卖家{b}购买手机一部，价款{amt}元，收货后发现屏幕和"
            "电池均为翻新件，与卖家描述不符，要求退货退款被拒。",
            "A:P:young R:P:young", (1500, 5000), {}, ["party_application", "hotline"],
            "{a}退回手机，{b}退还货款{pay}元，运费由{b}承担。"),
        _sc("{a}与{b}未成年人直播打赏退款纠纷",
            "{a}的儿子（15岁）暑假期间使用{a}的手机在{b}运营的直播平台多次打赏主播，共计"
            "{amt}元。{a}要求平台退还，平台以无法证明系未成年人操作为由拒绝。",
            "A:P:mid R:tech", (5000, 40000), {"vulnerable_party": 0.6},
            ["party_application", "hotline", "walk_in"],
            "{b}退还{a}打赏款{pay}元，{a}开启平台青少年模式并加强对孩子的监护。"),
    ],
    "noise": [
        _sc("{a}与{b}装修噪声扰民纠纷",
            "楼上{addr2}业主{b}家装修，施工人员经常在中午和晚上八点后使用电钻、切割机作业。"
            "{a}家中有备战高考的孩子和卧床老人，多次上楼沟通无果，双方发生激烈争吵。",
            "A:P R:P:up T:decoration?", None, {}, ["hotline", "grid_patrol", "party_application"],
            "{b}家装修只在工作日8:00—12:00、14:00—18:00施工，周末和高考期间不进行电钻、"
            "切割等高噪声作业；{a}不再干涉正常施工。"),
        _sc("{a}等居民与{b}广场舞噪声纠纷",
            "{b}组织的广场舞队每晚在{xq}中心广场跳舞至九点半以后，音箱音量很大。{a}等临近"
            "楼栋居民多次反映，舞队成员认为“锻炼身体碍不着谁”，双方矛盾逐渐激化。",
            "A:P A:P? R:P:old:f", None, {"group_dispute": 0.6},
            ["hotline", "grid_patrol", "committee_initiative"],
            "广场舞活动时间调整为19:00—20:30，音量控制在60分贝以下，音箱朝向远离住宅楼"
            "一侧；社区为舞队另行协调活动场地。"),
        _sc("{a}与{b}楼上夜间噪声纠纷",
            "{a}反映楼上{b}家每天深夜有拖动桌椅、孩子跑跳的声音，严重影响休息。{a}曾在家中"
            "使用“震楼器”回击，{b}报警处理，双方矛盾激化。",
            "A:P R:P:up", None, {"violence_threat": 0.5},
            ["police_referral", "grid_patrol", "hotline"],
            "{b}家在客厅铺设地垫、桌椅加装脚垫，22时后避免孩子跑跳；{a}立即拆除震楼器，"
            "双方互相谅解。"),
    ],
    "pets": [
        _sc("{a}与{b}宠物狗咬伤纠纷",
            "{m}月{d}日傍晚，{a}在{xq}内散步时被{b}未拴绳的金毛犬咬伤小腿，到医院注射狂犬"
            "疫苗和免疫球蛋白，花费{amt}元。{b}认为是{a}先逗狗，只愿承担部分费用。",
            "A:P R:P", (1500, 6000), {}, ["grid_patrol", "police_referral", "party_application"],
            "{b}赔偿{a}医疗费、误工费共计{pay}元，当场付清；{b}今后遛狗必须拴绳并为犬只"
            "办理登记。"),
        _sc("{a}与{b}养犬扰民纠纷",
            "{b}在家中饲养两只大型犬，夜间经常吠叫，且常在楼道和电梯内便溺。{a}等邻居多次"
            "反映，{b}认为狗叫是正常现象。",
            "A:P R:P", None, {}, ["grid_patrol", "hotline"],
            "{b}于一个月内将一只犬只送至亲属家饲养，另一只佩戴止吠项圈，遛狗时牵绳并及时"
            "清理粪便。"),
        _sc("{a}之子被{b}家犬只追咬纠纷",
            "{a}的儿子（8岁）放学途中在{xq}内被{b}饲养的犬只追咬，腿部被咬伤，孩子受到惊吓"
            "夜不能寐。{a}要求赔偿医疗费和精神损失共计{amt}元，并要求{b}文明养犬。",
            "A:P:mid R:P", (2000, 8000), {"vulnerable_party": 0.8},
            ["grid_patrol", "party_application", "police_referral"],
            "{b}赔偿医疗费及精神抚慰金共计{pay}元，并当面向孩子和家长道歉；犬只出门一律"
            "牵绳并佩戴嘴套。"),
    ],
    "thrown_objects": [
        _sc("{a}与{b}高空坠物砸坏车辆纠纷",
            "{m}月{d}日，{a}停放在{addr}楼下的轿车被楼上坠落的花盆砸中，前挡风玻璃和引擎盖"
            "受损，维修报价{amt}元。经调取监控并逐户走访，初步确定系{b}家阳台花盆坠落。",
            "A:P R:P T:property?", (3000, 15000), {},
            ["grid_patrol", "police_referral", "hotline"],
            "{b}赔偿{a}车辆维修费{pay}元，于三日内支付；{b}清理阳台外沿摆放的花盆。"),
        _sc("{a}与{b}、{c}等住户高空抛物致伤纠纷",
            "{m}月{d}日，{a}在{addr}楼下行走时被楼上抛下的玻璃瓶砸伤头部，缝合六针，花费"
            "医疗费{amt}元。因无法确定具体抛物人，{a}要求该侧可能加害的住户共同补偿。",
            "A:P R:P R:P T:property?", (10000, 40000),
            {"criminal_risk": 0.4, "group_dispute": 0.3},
            ["police_referral", "party_application"],
            "{b}、{c}等可能加害的住户共同补偿{a}{pay}元，物业公司在楼下加装高空抛物监控；"
            "查明具体侵权人后，补偿人可以向其追偿。"),
    ],
    "water_leak": [
        _sc("{a}与{b}楼上漏水导致天花板受损纠纷",
            "{a}居住在{addr}，近一个月来卫生间和厨房天花板持续渗水，墙皮脱落、吊顶发霉。"
            "经物业检查，系楼上{addr2}业主{b}家卫生间防水层老化所致。{b}认为房屋尚在保修期"
            "内应由开发商负责，拒绝维修和赔偿。",
            "A:P R:P:up T:property?", (3000, 20000), {},
            ["grid_patrol", "hotline", "party_application"],
            "{b}于十日内重做卫生间防水，经闭水试验合格；并一次性赔偿{a}天花板和墙面修复"
            "费用{pay}元。"),
        _sc("{a}与{b}暖气管道漏水浸泡地板纠纷",
            "供暖试水期间，楼上{addr2}业主{b}家暖气片阀门破裂，大量热水渗漏至{a}家，导致"
            "木地板起拱、衣柜和床垫泡水，{a}要求赔偿损失{amt}元。{b}认为阀门质量问题应由"
            "供热公司负责。",
            "A:P R:P:up", (8000, 30000), {}, ["hotline", "party_application", "grid_patrol"],
            "{b}赔偿{a}地板、衣柜等损失{pay}元，分两期支付；{b}保留向阀门销售方追偿的"
            "权利。"),
        _sc("{a}与{b}空调冷凝水滴漏纠纷",
            "{b}家空调外机冷凝水管未接入排水管，冷凝水常年滴落在{a}家窗台和遮阳棚上，"
            "噼啪作响，窗台发霉。{a}多次找{b}协商未果。",
            "A:P R:P:up", None, {}, ["grid_patrol", "party_application"],
            "{b}于三日内将冷凝水管接入雨水立管，并承担{a}窗台清理费用。"),
    ],
    "wage_arrears": [
        _sc("{a}等{n}名农民工与{b}拖欠工资纠纷",
            "{a}等{n}名农民工在{b}承包的{community}老旧小区改造项目从事外墙保温施工，工程"
            "完工后{b}以未收到总包方工程款为由拖欠工资共计{amt}元。工人多次到工地讨薪，"
            "情绪激动。",
            "A:P:worker A:P:worker? R:labour_co T:construction", (80000, 600000),
            {"group_dispute": 1.0, "violence_threat": 0.25, "repeat_petition": 0.3},
            ["hotline", "police_referral", "walk_in"],
            "{c}从应付{b}的工程款中先行垫付农民工工资{pay}元，于七日内通过农民工工资专用"
            "账户直接发放至工人个人账户；{b}与{c}之间的工程款另行结算。", n=(8, 35)),
        _sc("{a}与{b}餐馆拖欠工资纠纷",
            "{a}在{b}开办的餐馆做服务员{n}个月，离职时老板以“干不满一年”“打碎餐具”为由"
            "扣发最后两个月工资{amt}元。",
            "A:P:young R:P", (4000, 12000), {}, ["party_application", "hotline", "walk_in"],
            "{b}支付{a}工资{pay}元，当场付清。", n=(5, 11)),
        _sc("{a}与{b}装修工程工钱纠纷",
            "{a}跟随包工头{b}在{xq}做室内装修，{b}拖欠{a}等人工钱{amt}元，称业主尚未结清"
            "尾款，一再拖延。",
            "A:P:worker R:P", (6000, 25000), {"group_dispute": 0.3},
            ["party_application", "hotline"],
            "{b}于十日内支付{a}等人工钱{pay}元。"),
    ],
    "other": [
        _sc("{a}与{b}充电桩安装纠纷",
            "{a}购买新能源汽车后，申请在自有车位安装充电桩，{b}以小区电力容量不足、存在"
            "安全隐患为由拒绝出具同意证明，{a}认为物业故意刁难。",
            "A:P R:property", None, {}, ["hotline", "party_application"],
            "{b}于五个工作日内出具同意安装证明，{a}委托具备资质的单位安装并购买充电桩"
            "责任保险。"),
        _sc("{a}与{b}共用水表水费分摊纠纷",
            "{a}与{b}两家共用一块自来水总表，因水费分摊比例长期争吵，{b}近期拒绝支付应分摊"
            "的水费{amt}元，自来水公司通知将停水。",
            "A:P:old R:P", (300, 1500), {}, ["grid_patrol", "party_application"],
            "{b}补交欠缴水费{pay}元；双方各自申请安装分户水表，费用各半负担。"),
    ],
}

# How common each category is after every one has appeared twice.
CATEGORY_WEIGHTS = {
    "water_leak": 6, "noise": 6, "neighbour": 5, "marriage_family": 4,
    "property_management": 4, "traffic": 4, "wage_arrears": 3, "damages": 3, "pets": 3,
    "contract": 3, "housing_homestead": 2, "thrown_objects": 2, "labour": 2, "consumer": 2,
}

# ---- what is said along the way --------------------------------------------------------

RISK_SENTENCES = {
    "violence_threat": "一方扬言“不解决就动手”，存在发生肢体冲突的风险。",
    "criminal_risk": "双方积怨较深，曾发生推搡，存在民转刑风险。",
    "vulnerable_party": "涉及老年人或未成年人，需予以特别关注。",
    "group_dispute": "涉及人数较多，存在聚集上访风险。",
    "repeat_petition": "当事人此前已多次到街道和区信访部门反映。",
}
NOTES = {
    Level.GRID: ["网格员入户走访，分别听取双方陈述，现场查看并拍照留存。",
                 "已电话联系双方，约定在网格服务站面对面沟通。",
                 "邀请楼长一同上门做工作，双方情绪有所缓和。"],
    Level.COMMUNITY: ["社区调委会召集双方在社区调解室进行第一次调解，双方分歧较大，约定下周"
                      "再次调解。",
                      "邀请楼长和物业公司人员共同参与调解，核实相关情况。",
                      "背对背分别做双方工作，申请人同意适当降低赔偿要求。",
                      "组织“五方联动”协调会，网格党小组、业委会、物业公司参加。"],
    Level.STREET: ["街道矛调中心组织联合调解，司法所、派出所民警参加。",
                   "约请双方代理人到中心核对证据材料，梳理争议焦点。",
                   "召开案情研判会，确定由街道人民调解委员会牵头化解。",
                   "在联合调解大厅进行第二次调解，双方差距缩小。"],
}
CONFIRM_NOTES = {
    ProposalRule.HIGH_RISK: "同意提级，由街道矛调中心牵头化解并落实稳控措施。",
    ProposalRule.AMOUNT_OVER_LIMIT: "同意提级，争议金额较大，由上一级调委会办理。",
    ProposalRule.CROSS_COMMUNITY: "当事人分属不同社区，由街道统筹调解。",
    ProposalRule.DEADLINE_PASSED: "同意提级，上一级调委会接手办理。",
    ProposalRule.MEDIATOR_REQUEST: "同意提级。",
}
DISMISS_NOTES = {
    ProposalRule.HIGH_RISK: "经研判风险可控，已落实稳控措施，暂由本级调解。",
    ProposalRule.AMOUNT_OVER_LIMIT: "争议金额虽超过本级限额，但事实清楚、双方均同意在本级"
                                    "调解，暂不提级。",
    ProposalRule.CROSS_COMMUNITY: "主要当事人均在本社区居住，由本级继续调解。",
    ProposalRule.DEADLINE_PASSED: "双方已基本达成一致，本级继续办理。",
    ProposalRule.MEDIATOR_REQUEST: "本级继续办理。",
}
# Which decline reasons fit which categories (the court and refusal ones fit any).
DECLINE_FITS = {
    "criminal": {"damages", "thrown_objects", "neighbour", "noise", "marriage_family", "pets"},
    "admin": {"neighbour", "housing_homestead", "pollution"},
}
DECLINES = [
    ("court", "经核实，申请人已就该纠纷向人民法院起诉，法院已立案受理，依法不再受理调解申请。",
     "东湖区人民法院"),
    ("criminal", "纠纷涉嫌故意伤害等刑事案件，不属于人民调解范围，已告知当事人并移交公安机关。",
     "{police}"),
    ("admin", "该事项属于行政机关依法处理的范围（违法建设认定），已引导当事人向主管部门反映。",
     "东湖区综合行政执法局"),
    ("refusal", "{b}明确表示拒绝调解，要求通过诉讼解决。", None),
]
WITHDRAWALS = ["申请人表示双方已自行协商和解，申请撤回调解。",
               "申请人决定直接向人民法院起诉，申请撤回调解。",
               "对方已主动整改，申请人不再要求调解。"]
REFERRALS = {
    "labour": ("东湖区劳动人事争议仲裁委员会", "双方对劳动关系是否成立存在争议，需经劳动仲裁"
               "确认，已告知当事人申请仲裁。"),
    "wage_arrears": ("东湖区劳动人事争议仲裁委员会", "用工主体和工资数额需经劳动仲裁确认，"
                     "已协助工人申请仲裁。"),
    "medical": ("东营市医疗纠纷人民调解委员会", "需进行医疗损害鉴定，转医疗纠纷专业调解组织"
                "处理。"),
    "consumer": ("东湖区市场监督管理局", "涉及经营者违法行为，移交市场监管部门依法处理。"),
    "tourism": ("东湖区文化和旅游局", "涉及旅行社违规经营，移交旅游主管部门处理。"),
    "land_demolition": ("东湖区房屋征收服务中心", "补偿标准异议属于征收部门职责，已移交"
                        "征收部门依法处理。"),
    "water_leak": ("东湖区住房和城乡建设局", "涉及房屋质量保修责任认定，移交住建部门处理。"),
    "property_management": ("东湖区住房和城乡建设局", "涉及物业服务企业履约监管，移交住建"
                            "部门处理。"),
}
DEFAULT_REFERRAL = ("东湖区人民法院", "需进行伤残等级或损失价值鉴定，经双方同意转人民法院"
                    "诉前调解。")
FAILURES = ["经三次调解，双方对赔偿数额分歧过大，未能达成协议。",
            "被申请人坚持认为自己没有过错，拒绝承担任何责任，调解终止。",
            "双方情绪对立，申请人坚持通过诉讼解决，调解未能达成协议。"]
PARTLY = "双方就已发生费用达成一致并当场履行，对后续费用和精神损失未能达成一致，已告知当事人" \
         "可就未达成一致部分向人民法院起诉。"
FOLLOW_UPS_PAID = ["协议约定款项已全部付清，双方表示满意。", "款项已按协议约定分期付清。",
                   "款项已付清，当事人对调解工作表示感谢。"]
FOLLOW_UPS = {
    S.SETTLED: ["已按协议完成整改，回访时问题未再出现。",
                "双方均按协议履行，邻里关系明显缓和。",
                "履行情况良好，当事人对调解工作表示感谢。"],
    S.PARTLY_SETTLED: ["已达成部分已履行完毕，未达成部分申请人已向法院起诉。",
                       "已达成部分履行完毕，双方未再发生冲突。"],
    S.FAILED: ["当事人已向人民法院起诉，目前无激化迹象。",
               "申请人已申请劳动仲裁，情绪稳定。"],
    S.REFERRED_OUT: ["已由接收部门受理，当事人对转办结果表示认可。"],
}
RESIDUAL_RISKS = [("双方关系仍较紧张。", "网格员每周走访一次，发现苗头及时报告。"),
                  ("余款尚未到期，存在不履行风险。", "到期前三日电话提醒履行。")]
SUPERVISION_RED = "该案已超过{level}办理时限，请于{date}前报告化解进展，并采取有效措施尽快办结。"
SUPERVISION_FOCUS = "该纠纷{reason}，列为重点督办案件，请每日报告化解进展，防止矛盾激化。"
SUPERVISION_ANSWERS = ["已于今日再次约见双方，被申请人同意在本周内给出赔偿方案，预计三日内办结。",
                       "当事人一方外出务工，已电话沟通，约定其返回后立即组织调解。",
                       "已制定化解方案，落实专人包案，每日与双方沟通，目前情绪稳定。"]
HELP = {
    "wage_arrears": (Department.LABOUR, "区人力资源和社会保障局劳动保障监察大队",
                     "涉及农民工工资拖欠，请劳动保障监察部门介入核实用工和工资支付情况。",
                     "监察大队已约谈施工总承包单位，责令其先行垫付农民工工资。"),
    "labour": (Department.LABOUR, "区人力资源和社会保障局劳动保障监察大队",
               "请协助核实用人单位社会保险缴纳情况。",
               "经核实该单位未为申请人缴纳工伤保险，已责令限期补缴。"),
    "water_leak": (Department.HOUSING, "区住房和城乡建设局物业管理科",
                   "需核实房屋防水保修责任及物业公司履职情况，请住建部门派员参加。",
                   "住建部门已派员现场查看，确认属于保修范围，已通知开发商进场维修。"),
    "property_management": (Department.HOUSING, "区住房和城乡建设局物业管理科",
                            "请指导物业公司规范收费和专项维修资金使用程序。",
                            "已约谈物业公司负责人，指导其按程序申请使用维修资金。"),
    "land_demolition": (Department.HOUSING, "区房屋征收服务中心",
                        "请征收部门派员解释补偿政策并复核评估程序。",
                        "征收中心已派员到场解释政策，同意委托第三方复核评估。"),
    "noise": (Department.URBAN_MANAGEMENT, "区综合行政执法局",
              "涉及噪声扰民，请综合执法部门现场核查。",
              "执法队员已现场检查并下达整改通知书，限期七日整改。"),
    "pollution": (Department.URBAN_MANAGEMENT, "区综合行政执法局",
                  "涉及油烟、扬尘污染，请综合执法部门现场核查。",
                  "执法队员已现场检查并责令整改，将持续跟踪。"),
    "consumer": (Department.MARKET_REGULATION, "区市场监督管理局",
                 "涉及预付式消费退费，请市场监管部门协助。",
                 "市场监管所已约谈经营者，督促其制定退费方案。"),
    "tourism": (Department.MARKET_REGULATION, "区市场监督管理局",
                "涉及旅游合同履行问题，请协助核查旅行社经营情况。",
                "已核查旅行社经营资质，督促其依约退费。"),
    "marriage_family": (Department.WOMENS_FEDERATION, "区妇女联合会",
                        "涉及家庭矛盾和老人权益保护，请妇联参与调解并提供心理疏导。",
                        "妇联已安排心理咨询师参与，开展家庭关系辅导。"),
    "medical": (Department.OTHER, "区卫生健康局医政科",
                "请卫生健康部门协助调取病历并说明诊疗规范。",
                "已协调医疗机构封存并复印病历，医政科派员参加下次调解。"),
    "traffic": (Department.COURT, "东湖区人民法院{short}人民法庭",
                "争议金额较大，拟申请司法确认，请人民法庭提前指导协议内容。",
                "法庭法官已审阅协议草稿，提出修改意见，并同意受理司法确认申请。"),
    "damages": (Department.POLICE, "{police}",
                "双方情绪激动，存在肢体冲突风险，请派出所民警参与联合调解。",
                "派出所已安排社区民警参加下次调解，并对双方进行法治教育。"),
    "thrown_objects": (Department.POLICE, "{police}",
                       "请派出所协助调取监控、排查抛物人。",
                       "民警已调取监控并走访住户，已锁定疑似楼层。"),
}
# A volunteer's legal opinion, for the scenarios whose title contains the keyword.
OPINION_FITS = {
    "water_leak": "楼上漏水", "noise": "装修噪声", "pets": "咬", "thrown_objects": "高空",
    "marriage_family": "赡养", "traffic": "碰撞事故", "wage_arrears": "农民工", "labour": "工伤",
    "property_management": "物业费", "housing_homestead": "宅基地", "medical": "医疗",
    "contract": "", "land_demolition": "征收补偿",
}
OPINIONS = {
    "water_leak": "依据《民法典》第二百八十八条，不动产的相邻权利人应当按照有利生产、方便"
                  "生活、团结互助、公平合理的原则处理相邻关系；漏水系楼上防水层老化所致的，"
                  "楼上业主应当承担维修和赔偿责任（第一千一百六十五条），其与开发商之间的"
                  "保修责任可另行主张，不影响对楼下住户的赔偿。",
    "noise": "《噪声污染防治法》规定对已竣工交付使用的住宅楼进行室内装修活动，应当按照"
             "规定限定作业时间，采取有效措施防止、减轻噪声污染；《民法典》第二百九十四条"
             "也禁止违反国家规定排放噪声。建议在协议中明确作业时段和违约处理方式。",
    "pets": "依据《民法典》第一千二百四十五条、第一千二百四十六条，饲养的动物造成他人损害"
            "的，饲养人或者管理人应当承担侵权责任；未对动物采取安全措施（如未拴绳）的，"
            "仅在被侵权人故意造成损害时可以减轻责任。赔偿范围可包括医疗费、交通费和误工费。",
    "thrown_objects": "依据《民法典》第一千二百五十四条，从建筑物中抛掷物品或者坠落物品造成"
                      "他人损害的，由侵权人承担侵权责任；难以确定具体侵权人的，除能够证明自己"
                      "不是侵权人的外，由可能加害的建筑物使用人给予补偿，补偿后有权向侵权人"
                      "追偿；物业服务企业未采取必要安全保障措施的，应当依法承担相应责任。",
    "marriage_family": "依据《民法典》第一千零六十七条，成年子女不履行赡养义务的，缺乏劳动"
                       "能力或者生活困难的父母有要求成年子女给付赡养费的权利；《老年人权益"
                       "保障法》第十四条规定赡养人应当履行经济上供养、生活上照料和精神上"
                       "慰藉的义务。赡养义务不因子女之间的分摊约定而免除。",
    "traffic": "依据《民法典》第一千二百零八条和《道路交通安全法》第七十六条，机动车发生"
               "交通事故造成人身伤亡、财产损失的，先由保险公司在机动车交通事故责任强制保险"
               "责任限额内赔偿，不足部分按照过错比例承担。建议保险公司参加调解，协议达成后"
               "可申请司法确认。",
    "wage_arrears": "依据《保障农民工工资支付条例》第三十条，分包单位拖欠农民工工资的，由"
                    "施工总承包单位先行清偿，再依法进行追偿。建议总包单位参加调解，并通过"
                    "农民工工资专用账户直接支付。",
    "labour": "依据《劳动合同法》第三十条，用人单位应当及时足额支付劳动报酬；劳动争议申请"
              "仲裁的时效期间为一年（《劳动争议调解仲裁法》第二十七条）。未缴纳工伤保险的，"
              "由用人单位按照工伤保险待遇项目和标准支付费用。",
    "property_management": "依据《民法典》第九百四十四条，业主应当按照约定支付物业费；物业"
                           "服务人已经按照约定提供服务的，业主不得以未接受或者无需接受相关"
                           "服务为由拒绝支付。服务确有瑕疵的，可以要求整改并协商减免。",
    "housing_homestead": "依据《土地管理法》第十四条，土地所有权和使用权争议由当事人协商"
                         "解决，协商不成的由人民政府处理。涉及权属确认的内容不宜写入申请"
                         "司法确认的协议，可就拆除、补偿等事项达成协议。",
    "medical": "依据《民法典》第一千二百一十八条，患者在诊疗活动中受到损害，医疗机构或者其"
               "医务人员有过错的，由医疗机构承担赔偿责任。是否存在过错宜先行封存病历，必要"
               "时进行医疗损害鉴定。",
    "contract": "依据《民法典》第五百七十七条，当事人一方不履行合同义务或者履行合同义务不符合"
                "约定的，应当承担继续履行、采取补救措施或者赔偿损失等违约责任。建议协议明确"
                "付款期限和逾期责任，达成后申请司法确认以便强制执行。",
    "land_demolition": "依据《国有土地上房屋征收与补偿条例》第十九条，对被征收房屋价值的补偿，"
                       "不得低于房屋征收决定公告之日被征收房屋类似房地产的市场价格；对评估"
                       "结果有异议的，可以申请复核评估。",
}


# ---- the plan ---------------------------------------------------------------------------

@dataclass
class _PartyPlan:
    data: PartyInput
    hint: set


@dataclass
class Step:
    when: datetime
    action: str
    args: dict = field(default_factory=dict)


@dataclass
class Spec:
    final: CaseState
    outcome: CaseState | None
    category: Category
    scenario: dict
    grid: AreaNode
    source: Source
    reporter: str = ""
    start_level: Level = Level.GRID
    risks: dict = field(default_factory=dict)
    amount: int | None = None  # yuan
    pay: int | None = None
    parties: list = field(default_factory=list)
    estate: str = ""
    flat: tuple = ()
    reach: CaseState = S.REPORTED
    intake: bool = False
    intake_target: Level | None = None
    mid: str | None = None
    mid_to: Level | None = None
    colour: str | None = None
    handlers: dict = field(default_factory=dict)
    follow_up: bool = False
    legal_aid: bool = False
    supervise: str | None = None
    supervision_answered: bool = False
    help: bool = False
    help_answered: bool = False
    notes: int = 0
    decline: tuple = ()
    report_day: date | None = None  # a closed case: the day it was reported
    steps: list = field(default_factory=list)
    texts: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)  # what the domains above cases plan for it

    @property
    def community(self) -> AreaNode:
        return self.grid.parent

    @property
    def street(self) -> AreaNode:
        return self.grid.parent.parent


# Final states (and, for follow-up and closed, the outcome before them), out of 360: a few
# weeks' intake still open, and eighteen months of outcomes, four in five settled.
STATE_MIX = [
    (S.REPORTED, None, 4), (S.ACCEPTED, None, 5), (S.IN_MEDIATION, None, 14),
    (S.DECLINED, S.DECLINED, 3), (S.SETTLED, S.SETTLED, 12),
    (S.PARTLY_SETTLED, S.PARTLY_SETTLED, 3), (S.FAILED, S.FAILED, 4),
    (S.WITHDRAWN, S.WITHDRAWN, 3), (S.REFERRED_OUT, S.REFERRED_OUT, 3),
    (S.FOLLOW_UP, S.SETTLED, 12), (S.FOLLOW_UP, S.PARTLY_SETTLED, 2),
    (S.FOLLOW_UP, S.FAILED, 2), (S.FOLLOW_UP, S.REFERRED_OUT, 1),
    (S.CLOSED, S.SETTLED, 233), (S.CLOSED, S.PARTLY_SETTLED, 17), (S.CLOSED, S.FAILED, 17),
    (S.CLOSED, S.WITHDRAWN, 10), (S.CLOSED, S.DECLINED, 8), (S.CLOSED, S.REFERRED_OUT, 7),
]
HISTORY_MONTHS = 18
# Disputes reported per calendar month, relative: fewer over the Spring Festival and the
# National Day holidays, more in summer (noise, leaks, dogs, building work).
SEASON = {1: 0.95, 2: 0.7, 3: 1.0, 4: 1.0, 5: 1.05, 6: 1.1, 7: 1.15, 8: 1.15, 9: 1.0,
          10: 0.85, 11: 1.0, 12: 0.95}
MONTHLY_GROWTH = 0.015  # the grids report a little more each month


def _state_list(rng: random.Random, target: int) -> list[tuple[CaseState, CaseState | None]]:
    total = sum(w for *_x, w in STATE_MIX)
    shares = [w * target / total for *_x, w in STATE_MIX]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[:target - sum(counts)]:
        counts[i] += 1
    states = [(final, outcome) for (final, outcome, _w), n in zip(STATE_MIX, counts, strict=True)
              for _i in range(n)]
    rng.shuffle(states)
    return states


def _local(day: date, hour: float) -> datetime:
    return (datetime.combine(day, time(), tzinfo=LOCAL) + timedelta(hours=hour)).astimezone(UTC)


class _Clock:
    """Moves forward through working hours (8:00–19:00 Beijing time)."""

    def __init__(self, rng: random.Random, start: datetime):
        self.rng, self.t = rng, start

    def step(self, lo: float, hi: float, limit: datetime | None = None) -> datetime:
        t = self.t + timedelta(hours=self.rng.uniform(lo, hi))
        local = t.astimezone(LOCAL)
        if local.hour < 8:
            t = _local(local.date(), 8 + self.rng.uniform(0, 1.5))
        elif local.hour >= 19:
            t = _local(local.date() + DAY, 8 + self.rng.uniform(0, 1.5))
        if limit is not None and t > limit:
            t = self.t + timedelta(minutes=self.rng.uniform(20, 90))
        self.t = t
        return t

    def days(self, lo: float, hi: float) -> datetime:
        day = self.t.astimezone(LOCAL).date() + timedelta(days=round(self.rng.uniform(lo, hi)))
        t = _local(day, self.rng.uniform(8.5, 17.5))
        self.t = max(t, self.t + timedelta(minutes=30))
        return self.t


class Planner:
    def __init__(self, rng: random.Random, now: datetime, staff: dict[str, User]):
        self.rng, self.now, self.staff = rng, now, staff
        self.today = rules.local_date(now)
        self.limits = {level: rule.amount_limit_fen for level, rule in rules.level_rules().items()}
        self.warn = {level: rule.warn_days_before
                     for level, rule in rules.level_rules().items()}
        self.grids = list(db.session.scalars(
            select(AreaNode).where(AreaNode.kind == AreaKind.GRID,
                                   AreaNode.code.like("370599%")).order_by(AreaNode.code)))
        self.communities = sorted({g.parent for g in self.grids}, key=lambda n: n.code)
        self.categories = {c.code: c for c in db.session.scalars(
            select(Category).where(Category.active).order_by(Category.sort_order))}
        self.grid_worker = {}
        for username, spans in GRID_WORKERS.items():
            for community_name, first, last in spans:
                for number in range(first, last + 1):
                    self.grid_worker[(community_name, number)] = username

    # -- who ----------------------------------------------------------------------------

    def worker_of(self, grid: AreaNode) -> str:
        return self.grid_worker[(grid.parent.name, int(grid.code.rsplit("-", 1)[1]))]

    def handler_for(self, spec: Spec, level: Level) -> str:
        if level not in spec.handlers:
            if level is Level.GRID:
                spec.handlers[level] = self.worker_of(spec.grid)
            elif level is Level.COMMUNITY:
                spec.handlers[level] = COMMUNITY_MEDIATOR[spec.community.name]
            else:
                street = spec.street.name
                spec.handlers[level] = (STREET_MEDIATOR[street] if self.rng.random() < 0.8
                                        else STREET_COORDINATOR[street])
        return spec.handlers[level]

    def decider_for(self, spec: Spec, level: Level) -> str:
        if level is Level.STREET:
            return STREET_COORDINATOR[spec.street.name]
        return COMMUNITY_MEDIATOR[spec.community.name]

    # -- the whole set --------------------------------------------------------------------

    def plan(self, target: int) -> list[Spec]:
        rng = self.rng
        states = _state_list(rng, target)
        codes = list(self.categories)
        categories = codes * 2
        rng.shuffle(categories)
        weights = [CATEGORY_WEIGHTS.get(code, 1) for code in codes]
        categories += rng.choices(codes, weights, k=max(0, target - len(categories)))
        categories = categories[:target]
        rng.shuffle(categories)
        grids = list(self.grids)
        rng.shuffle(grids)
        grid_weights = [(5 if g.code.rsplit("-", 1)[1] <= "03" else 3)
                        if g.parent.name == "文苑社区" else 1 for g in self.grids]
        grids += rng.choices(self.grids, grid_weights, k=max(0, target - len(grids)))
        grids = grids[:target]
        rng.shuffle(grids)
        specs = []
        for (final, outcome), code, grid in zip(states, categories, grids, strict=True):
            category = self.categories[code]
            scenario = rng.choice(SCENARIOS[code])
            preferred = scenario["sources"]
            source = Source(rng.choice(preferred)) if preferred and rng.random() < 0.8 \
                else rng.choice(STAFF_SOURCES)
            specs.append(Spec(final=final, outcome=outcome, category=category,
                               scenario=scenario, grid=grid, source=source))
        # The demo accounts work in 文苑社区: give it a good share of the open cases (swapping
        # grids keeps every grid in use).
        open_states = (S.REPORTED, S.ACCEPTED, S.IN_MEDIATION)
        donors = [s for s in specs if s.final not in open_states
                  and s.grid.parent.name == "文苑社区"]
        for spec in specs:
            if (spec.final in open_states and spec.grid.parent.name != "文苑社区" and donors
                    and rng.random() < 0.3):
                donor = donors.pop(rng.randrange(len(donors)))
                spec.grid, donor.grid = donor.grid, spec.grid
        # Every channel staff register appears (residents' own reports come from the portal).
        for i, source in enumerate(STAFF_SOURCES):
            if all(s.source is not source for s in specs) and i < len(specs):
                specs[i * 7 % len(specs)].source = source
        for spec in specs:
            self.shape(spec)
        self.assign_extras(specs)
        recent = [s for s in specs if s.final is not S.CLOSED]
        for spec in recent:
            self.timeline(spec)
        closed = [s for s in specs if s.final is S.CLOSED]
        self.spread(closed, recent)
        for spec in closed:
            self.timeline(spec)
        for spec in specs:
            self.write(spec)
        return specs

    def months(self) -> list[date]:
        """The first days of the last HISTORY_MONTHS calendar months, this one last."""
        first = self.today.replace(day=1)
        months = [first]
        while len(months) < HISTORY_MONTHS:
            months.insert(0, (months[0] - DAY).replace(day=1))
        return months

    def spread(self, closed: list[Spec], placed: list[Spec]) -> None:
        """Give each closed case the day it was reported: each month gets its share of all
        the cases (SEASON, MONTHLY_GROWTH), less the recent cases already placed in it."""
        rng = self.rng
        months = self.months()
        weights = []
        for i, first in enumerate(months):
            weight = SEASON[first.month] * (1 + MONTHLY_GROWTH * i)
            if first == months[-1]:  # this month so far
                next_first = (first + timedelta(days=32)).replace(day=1)
                weight *= self.today.day / (next_first - first).days
            weights.append(weight)
        total = len(closed) + len(placed)
        have = Counter(rules.local_date(spec.steps[0].when).replace(day=1) for spec in placed)
        deficits = [max(0.0, total * w / sum(weights) - have[first])
                    for w, first in zip(weights, months, strict=True)]
        shares = [d * len(closed) / (sum(deficits) or 1) for d in deficits]
        counts = [math.floor(x) for x in shares]
        by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
        for i in by_remainder[:len(closed) - sum(counts)]:
            counts[i] += 1
        days = []
        for first, count in zip(months, counts, strict=True):
            next_first = (first + timedelta(days=32)).replace(day=1)
            last = min(next_first - DAY, self.today)
            days += [first + timedelta(days=rng.randint(0, (last - first).days))
                     for _i in range(count)]
        rng.shuffle(days)
        for spec, day in zip(closed, days, strict=True):
            spec.report_day = day

    # -- one case: who, what, which levels ------------------------------------------------

    def shape(self, spec: Spec) -> None:
        rng = self.rng
        scenario = spec.scenario
        # Reporter and starting level follow the channel.
        src = spec.source
        community_mediator = COMMUNITY_MEDIATOR[spec.community.name]
        coordinator = STREET_COORDINATOR[spec.street.name]
        # In 文苑社区 (the demo accounts' community) more cases go to its committee.
        to_committee = 0.7 if spec.community.name == "文苑社区" else 0.5
        if src in (Source.GRID_PATROL, Source.HOTLINE):
            spec.reporter = self.worker_of(spec.grid)
        elif src is Source.PARTY_APPLICATION:
            spec.reporter = community_mediator if rng.random() < to_committee \
                else self.worker_of(spec.grid)
        elif src is Source.COMMITTEE_INITIATIVE:
            spec.reporter = community_mediator
        elif src is Source.WALK_IN:
            spec.reporter = coordinator if rng.random() < 0.03 else community_mediator
        elif src is Source.POLICE_REFERRAL:
            spec.reporter = coordinator if rng.random() < 0.02 else community_mediator
        else:
            spec.reporter = coordinator if rng.random() < 0.03 else community_mediator
        spec.start_level = ops.starting_level(self.staff[spec.reporter])

        spec.risks = {name: rng.random() < p for name, p in scenario["risks"].items()}
        if scenario["amount"]:
            lo, hi = scenario["amount"]
            step = 100 if hi < 50_000 else 1000
            spec.amount = round(rng.uniform(lo, hi) / step) * step
            spec.pay = round(spec.amount * rng.uniform(0.5, 0.9) / 100) * 100
        estates = ESTATES[spec.community.name]
        spec.estate = rng.choice(estates)
        spec.flat = (rng.randint(1, 32), rng.randint(1, 4), rng.randint(2, 16), rng.randint(1, 2))
        spec.parties = self.parties(spec)

        # What the rules will propose at intake, and what a person decides: most proposals
        # to go to the street are declined (the seeds: 97% settled at grid or community).
        level = spec.start_level
        high = assess_risk(spec.risks) is RiskLevel.HIGH
        limit = self.limits.get(level)
        over = (spec.amount is not None and limit is not None and spec.amount * 100 > limit)
        communities = {p.data.community.id for p in spec.parties if p.data.community}
        cross = len(communities) > 1
        predicted = level is not Level.STREET and (high or over or cross)

        final, outcome = spec.final, spec.outcome
        if final in (S.REPORTED, S.ACCEPTED, S.IN_MEDIATION):
            spec.reach = final
        elif outcome is S.DECLINED:
            spec.reach = S.REPORTED
        elif outcome is S.WITHDRAWN:
            spec.reach = rng.choice([S.REPORTED, S.ACCEPTED, S.IN_MEDIATION, S.IN_MEDIATION])
        elif outcome in (S.FAILED, S.REFERRED_OUT):
            spec.reach = S.ACCEPTED if rng.random() < 0.25 else S.IN_MEDIATION
        else:
            spec.reach = S.IN_MEDIATION

        if predicted and outcome is not S.DECLINED:
            if final is S.REPORTED and rng.random() < 0.45:
                spec.intake = False  # left for someone to decide: the coordinator's queue
            else:
                spec.intake = True
                target = None
                if high and rng.random() < 0.1:
                    target = Level.STREET
                if over and target is None and rng.random() < (0.7 if level is Level.GRID
                                                               else 0.15):
                    target = level.next
                if cross and rng.random() < 0.05:
                    target = Level.STREET
                spec.intake_target = target
        current = spec.intake_target or level
        if spec.reach is S.IN_MEDIATION and current is not Level.STREET:
            roll = rng.random()
            upward = 0.2 if current is Level.GRID else 0.02
            if roll < upward / 2:
                spec.mid, spec.mid_to = "deadline", current.next
            elif roll < upward:
                spec.mid = "request"
                spec.mid_to = Level.STREET if current is Level.COMMUNITY or rng.random() < 0.05 \
                    else Level.COMMUNITY
        if final in (S.REPORTED, S.ACCEPTED, S.IN_MEDIATION):
            roll = rng.random()
            spec.colour = "red" if roll < 0.3 else "yellow" if roll < 0.48 else None
        if outcome in (S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.REFERRED_OUT):
            spec.follow_up = final is S.FOLLOW_UP or (final is S.CLOSED and rng.random() < 0.8)
        if spec.reach is S.IN_MEDIATION:
            spec.notes = rng.choice([0, 1, 1, 2])
        if outcome is S.DECLINED:
            spec.decline = rng.choice([d for d in DECLINES if d[0] not in DECLINE_FITS
                                       or spec.category.code in DECLINE_FITS[d[0]]])

    def parties(self, spec: Spec) -> list[_PartyPlan]:
        rng = self.rng
        planned = []
        used_names = set()
        applicant_surname = None
        for token in spec.scenario["parties"]:
            optional = token.endswith("?")
            if optional and rng.random() < 0.45:
                continue
            role_code, kind, *hints = token.rstrip("?").split(":")
            role = {"A": PartyRole.APPLICANT, "R": PartyRole.RESPONDENT,
                    "T": PartyRole.THIRD_PARTY}[role_code]
            hint = set(hints)
            if kind == "P":
                first = role is PartyRole.APPLICANT and applicant_surname is None
                data = self.person(spec, role, hint, applicant_surname, used_names, first)
                if first:
                    applicant_surname = data.name[0]
            else:
                data = self.organisation(spec, role, kind)
            used_names.add(data.name)
            planned.append(_PartyPlan(data, hint))
        return planned

    def person(self, spec: Spec, role: PartyRole, hint: set, kin_surname: str | None,
               used: set, first_applicant: bool) -> PartyInput:
        rng = self.rng
        male = "m" in hint or ("f" not in hint and rng.random() < 0.55)
        if "old" in hint:
            birth_year, age = rng.randint(1938, 1958), "old"
        elif "young" in hint:
            birth_year, age = rng.randint(1988, 2003), "young"
        elif "mid" in hint or "worker" in hint:
            birth_year, age = rng.randint(1963, 1988), "young"
        else:
            birth_year = rng.randint(1952, 1998)
            age = "old" if birth_year < 1965 else "young"
        birth = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        roll = rng.random()
        if "kin" in hint and kin_surname:
            ethnicity, surname, areas = "汉族", kin_surname, LOCAL_AREAS
        elif roll < 0.06:
            ethnicity, surname, areas = "回族", rng.choice(HUI_SURNAMES), HUI_AREAS
        elif roll < 0.09:
            ethnicity, surname, areas = "满族", rng.choice(MAN_SURNAMES), MAN_AREAS
        else:
            ethnicity, surname, areas = "汉族", rng.choice(SURNAMES), LOCAL_AREAS
        if "worker" in hint:
            areas = WORKER_AREAS
        for _attempt in range(10):
            name = surname + rng.choice(GIVEN[("m" if male else "f", age)])
            if name not in used:
                break
        occupation = rng.choice(OCCUPATIONS["old" if birth_year < 1962 else
                                            "worker" if "worker" in hint else "default"])
        community = spec.community
        building, unit, floor, room = spec.flat
        if "up" in hint:
            floor += 1
        elif first_applicant:
            pass
        elif role is PartyRole.RESPONDENT and rng.random() < 0.12:
            community = rng.choice([c for c in self.communities if c is not spec.community])
            building, unit, floor, room = (rng.randint(1, 30), rng.randint(1, 4),
                                           rng.randint(1, 17), rng.randint(1, 2))
        else:
            building, unit, floor, room = (rng.randint(1, 32), rng.randint(1, 4),
                                           rng.randint(1, 17), rng.randint(1, 2))
        estate = spec.estate if community is spec.community else \
            rng.choice(ESTATES[community.name])
        address = (f"东湖区{community.parent.name}{community.name}{estate}{building}号楼"
                   f"{unit}单元{floor}0{room}室")
        if "worker" in hint:
            address = f"东湖区{community.parent.name}{community.name}{spec.estate}工地宿舍"
        agent_name = agent_phone = None
        if rng.random() < (0.35 if birth_year < 1958 else 0.1):
            agent_name = (surname if birth_year < 1958 else rng.choice(SURNAMES)) + \
                rng.choice(GIVEN[(rng.choice("mf"), "young")])
            agent_phone = _phone(rng)
        return PartyInput(
            role=role, kind=PartyKind.PERSON, name=name,
            gender=Gender.MALE if male else Gender.FEMALE, ethnicity=ethnicity,
            birth_date=birth, occupation=occupation, id_type=DocumentType.RESIDENT_ID.value,
            id_number=id_number(rng, rng.choice(areas), birth, male), phone=_phone(rng),
            address=address, community=community, agent_name=agent_name,
            agent_phone=agent_phone, agent_power_of_attorney=agent_name is not None)

    def organisation(self, spec: Spec, role: PartyRole, kind: str) -> PartyInput:
        rng = self.rng
        brands, suffix, prefix, title = ORGS[kind]
        street = spec.street.name
        if kind == "insurer":
            name = rng.choice(INSURERS)
        elif kind == "clinic":
            name = f"东湖区{street}社区卫生服务中心"
        elif kind == "coop":
            name = f"东湖区{street}{spec.community.name}股份经济合作社"
        else:
            name = f"东营市{rng.choice(brands)}{suffix}"
        area = "370500" if kind in ("insurer", "developer") else "370599"
        representative = rng.choice(SURNAMES) + rng.choice(GIVEN[(rng.choice("mf"), "young")])
        agent_name = agent_phone = None
        if rng.random() < 0.6:
            agent_name = rng.choice(SURNAMES) + rng.choice(GIVEN[(rng.choice("mf"), "young")])
            agent_phone = _phone(rng)
        road = rng.choice(ROADS[street])
        return PartyInput(
            role=role, kind=PartyKind.ORGANISATION, name=name, uscc=uscc(rng, prefix, area),
            legal_representative=representative, legal_representative_title=title,
            phone=f"0546-8{rng.randint(100000, 999999)}", address=f"东湖区{street}{road}"
            f"{rng.randint(1, 300)}号", agent_name=agent_name, agent_phone=agent_phone,
            agent_power_of_attorney=agent_name is not None)

    def assign_extras(self, specs: list[Spec]) -> None:
        """Legal aid, supervision and help requests on a few suitable cases."""
        rng = self.rng
        order = list(specs)
        rng.shuffle(order)
        wenyuan_first = sorted(order, key=lambda s: s.community.name != "文苑社区")
        aided = 0
        for spec in wenyuan_first:
            level = spec.mid_to or spec.intake_target or spec.start_level
            if (aided < 10 and spec.reach is S.IN_MEDIATION and level is not Level.GRID
                    and spec.category.code in OPINION_FITS
                    and OPINION_FITS[spec.category.code] in spec.scenario["title"]
                    and (aided < 6 or spec.community.name != "文苑社区")):
                spec.legal_aid = True
                aided += 1
        red = [s for s in order if s.colour == "red" and s.final is not S.REPORTED]
        for i, spec in enumerate(red[:6]):
            spec.supervise, spec.supervision_answered = "red", i < 4
        focus = [s for s in order if s.outcome and s.reach is S.IN_MEDIATION
                 and (s.risks.get("group_dispute") or assess_risk(s.risks) is RiskLevel.HIGH)]
        for spec in focus[:4]:
            spec.supervise, spec.supervision_answered = "focus", True
        helped = [s for s in order if s.reach is S.IN_MEDIATION and s.category.code in HELP]
        for i, spec in enumerate(helped[:10]):
            spec.help = True
            spec.help_answered = spec.outcome is not None or i % 3 != 0

    # -- one case: when -----------------------------------------------------------------

    def level_end(self, spec: Spec, level: Level, entered: datetime) -> datetime:
        deadline = rules.local_date(entered) + timedelta(days=spec.category.days_for(level))
        return _local(deadline, 17.5)

    def timeline(self, spec: Spec) -> None:
        rng = self.rng
        start = _local(self.today - timedelta(days=200), rng.uniform(8.5, 17))
        clock = _Clock(rng, start)
        steps = [Step(start, "create")]
        level, entered = spec.start_level, start
        if spec.intake:
            t = clock.step(0.3, 4)
            steps.append(Step(t, "intake", {"target": spec.intake_target}))
            if spec.intake_target:
                level, entered = spec.intake_target, t
        final_entered = entered
        lengths = {Level.GRID: (1, 10), Level.COMMUNITY: (1, 20), Level.STREET: (1, 16)}
        if spec.outcome is S.DECLINED:
            steps.append(Step(clock.step(1, 20), "decline"))
        elif spec.reach in (S.ACCEPTED, S.IN_MEDIATION) or spec.outcome:
            end = self.level_end(spec, level, entered)
            if spec.reach is not S.REPORTED:
                steps.append(Step(clock.step(*lengths[level], limit=end), "accept",
                                   {"level": level}))
            if spec.reach is S.IN_MEDIATION:
                starts = {Level.GRID: (0.5, 8), Level.COMMUNITY: (4, 40), Level.STREET: (8, 48)}
                steps.append(Step(clock.step(*starts[level], limit=end), "start"))
                if spec.mid:
                    steps.append(Step(clock.step(3, 30, limit=end), "note", {"level": level}))
                    if spec.mid == "deadline":
                        deadline = rules.local_date(entered) + timedelta(
                            days=spec.category.days_for(level))
                        cron = _local(deadline + DAY, rng.uniform(1, 2))
                        if cron <= clock.t:
                            cron = clock.t + timedelta(hours=1)
                        steps.append(Step(cron, "cron"))
                        clock.t = _local(deadline + DAY, rng.uniform(9, 16))
                        steps.append(Step(clock.t, "confirm", {"rule": "deadline",
                                                                "to": spec.mid_to}))
                    else:
                        steps.append(Step(clock.step(4, 30, limit=end), "request",
                                           {"to": spec.mid_to}))
                        steps.append(Step(clock.step(1, 20), "confirm",
                                           {"rule": "request", "to": spec.mid_to}))
                    level, entered = spec.mid_to, clock.t
                    final_entered = entered
                end = self.level_end(spec, level, entered)
                work = {Level.GRID: (2, 12), Level.COMMUNITY: (8, 40), Level.STREET: (12, 60)}
                for _i in range(spec.notes):
                    steps.append(Step(clock.step(*work[level], limit=end), "note",
                                       {"level": level}))
                if spec.legal_aid:
                    steps.append(Step(clock.step(2, 20, limit=end), "legal_aid"))
                    steps.append(Step(clock.step(4, 30, limit=end), "opinion"))
                if spec.help:
                    steps.append(Step(clock.step(2, 20, limit=end), "help"))
                    if spec.help_answered:
                        steps.append(Step(clock.step(4, 40, limit=end), "help_response"))
                if spec.supervise == "focus":
                    steps.append(Step(clock.step(1, 10, limit=end), "supervise"))
                    steps.append(Step(clock.step(2, 20, limit=end), "respond"))
            if spec.outcome:
                outcome_hours = {Level.GRID: (2, 20), Level.COMMUNITY: (10, 60),
                                 Level.STREET: (24, 120)}
                steps.append(Step(clock.step(*outcome_hours[level], limit=end), "outcome"))
        if spec.follow_up:
            steps.append(Step(clock.days(3, 20), "follow_up"))
        if spec.final is S.CLOSED:
            steps.append(Step(clock.days(0, 4), "close"))

        if spec.final in (S.REPORTED, S.ACCEPTED, S.IN_MEDIATION):
            self.place_open(spec, steps, level, final_entered)
        else:
            self.place_done(spec, steps)

    def place_open(self, spec: Spec, steps: list[Step], level: Level, entered: datetime):
        """Shift an open case so its level deadline lands where its colour says."""
        rng = self.rng
        days = spec.category.days_for(level)
        warn = self.warn.get(level, 1)
        if spec.colour == "red":
            offset = -rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 14, 20])
        elif spec.colour is None and warn + 1 <= days - 1:
            offset = rng.randint(warn + 1, days - 1)
        else:
            spec.colour = "yellow"
            offset = rng.randint(0, min(warn, days - 1))
        target = self.today + timedelta(days=offset - days)
        shift = target - rules.local_date(entered)
        for step in steps:
            step.when += shift
        deadline = target + timedelta(days=days)
        if deadline < self.today:
            steps.append(Step(_local(deadline + DAY, rng.uniform(1, 2)), "cron"))
            if spec.supervise == "red":
                when = _local(deadline + timedelta(days=rng.randint(1, 3)), rng.uniform(9, 11))
                steps.append(Step(when, "supervise"))
                if spec.supervision_answered:
                    steps.append(Step(when + timedelta(hours=rng.uniform(2, 20)), "respond"))
        spec.steps = self.fit(steps)

    def place_done(self, spec: Spec, steps: list[Step]) -> None:
        """Shift a finished case so it ended some time ago, within the last four months; a
        closed one to the day it was reported (``spread``), ending before now."""
        rng = self.rng
        if spec.report_day is not None:
            shift_days = (spec.report_day - rules.local_date(steps[0].when)).days
            last = max(step.when for step in steps) + timedelta(days=shift_days)
            latest = self.now - timedelta(hours=rng.uniform(2, 72))
            if last > latest:
                shift_days -= math.ceil((last - latest) / DAY)
            for step in steps:
                step.when += timedelta(days=shift_days)
            spec.steps = self.fit(steps)
            return
        if spec.final is S.CLOSED:
            age = rng.uniform(3, 112)
        elif spec.final is S.FOLLOW_UP:
            age = rng.uniform(0.5, 45)
        elif spec.final in (S.SETTLED, S.PARTLY_SETTLED):
            age = rng.uniform(0.3, 60)
        else:
            age = rng.uniform(0.3, 100)
        last = max(step.when for step in steps)
        shift_days = math.ceil((self.now - timedelta(days=age) - last) / DAY) - 1
        first = min(step.when for step in steps) + timedelta(days=shift_days)
        oldest = self.now - timedelta(days=122)
        if first < oldest:
            room = math.floor((self.now - timedelta(hours=2) - (last + timedelta(
                days=shift_days))) / DAY)
            shift_days += max(0, min(room, math.ceil((oldest - first) / DAY)))
        for step in steps:
            step.when += timedelta(days=shift_days)
        spec.steps = self.fit(steps)

    def fit(self, steps: list[Step]) -> list[Step]:
        """In time order, nothing in the future (late steps squeezed in before now)."""
        steps = sorted(steps, key=lambda s: s.when)
        limit = self.now - timedelta(minutes=1)
        late = [i for i, s in enumerate(steps) if s.when > limit]
        if late:
            first = late[0]
            before = steps[first - 1].when if first else limit - timedelta(hours=1)
            gap = (limit - before) / (len(steps) - first + 1)
            for k, i in enumerate(range(first, len(steps)), start=1):
                steps[i].when = before + gap * k
        return steps

    # -- one case: words ----------------------------------------------------------------

    def write(self, spec: Spec) -> None:
        rng = self.rng
        reported = rules.local_date(spec.steps[0].when)
        incident = reported - timedelta(days=rng.randint(1, 12))
        names = [p.data.name for p in spec.parties]
        applicants = [p.data for p in spec.parties if p.data.role is PartyRole.APPLICANT]
        respondents = [p.data for p in spec.parties if p.data.role is PartyRole.RESPONDENT]
        thirds = [p.data for p in spec.parties if p.data.role is PartyRole.THIRD_PARTY]
        # {c} is the second respondent where the text says "{b}、{c}", else the third party.
        if "{b}、{c}" in spec.scenario["title"] + spec.scenario["story"]:
            others = respondents[1:] + thirds
        else:
            others = thirds + respondents[1:] + applicants[1:]
        building, unit, floor, room = spec.flat
        first = applicants[0]
        age = reported.year - first.birth_date.year if first.birth_date else 50
        month = (reported.replace(day=1) + timedelta(days=32)).month
        values = {
            "a": first.name, "b": respondents[0].name if respondents else names[-1],
            "c": others[0].name if others else "", "xq": spec.estate,
            "addr": f"{spec.estate}{building}号楼{unit}单元{floor}0{room}室",
            "addr2": f"{spec.estate}{building}号楼{unit}单元{floor + 1}0{room}室",
            "road": rng.choice(ROADS[spec.street.name]), "community": spec.community.name,
            "street": spec.street.name, "m": incident.month, "d": incident.day,
            "y": reported.year - rng.randint(1, 5), "age": age,
            "n": rng.randint(*spec.scenario["n"]), "amt": spec.amount or "",
            "pay": spec.pay or "", "month": f"{month}月",
        }
        scenario = spec.scenario
        title = scenario["title"].format(**values)
        story = scenario["story"].format(**values)
        extra = [RISK_SENTENCES[name] for name, on in spec.risks.items() if on
                 and RISK_SENTENCES[name][:4] not in story]
        spec.texts.update(
            title=title[:120], story=story + "".join(extra),
            terms=scenario["terms"].format(**values), values=values,
            address=(f"东湖区{spec.street.name}{values['road']}" if "{road}" in scenario["story"]
                     else first.address if first.kind is PartyKind.PERSON and first.address
                     and "{xq}" not in scenario["story"]
                     else f"东湖区{spec.street.name}{spec.community.name}{values['addr']}"))


# ---- playing the plan -------------------------------------------------------------------

class Player:
    # The timestamps each kind of object gets from the real clock; a subclass adds its own.
    STAMPS = {
        Case: ("reported_at", "level_entered_at", "accepted_at", "outcome_at", "closed_at"),
        CaseEvent: ("at",), Party: ("created_at",), Assignment: ("assigned_at",),
        EscalationProposal: ("created_at", "decided_at"),
        SupervisionNotice: ("issued_at", "responded_at"),
        HelpRequest: ("requested_at", "responded_at"), FollowUp: ("created_at",),
    }

    def __init__(self, planner: Planner, staff: dict[str, User], started: datetime):
        self.planner, self.staff, self.started = planner, staff, started
        self.rng = planner.rng
        self.level_rules = rules.level_rules()

    def user(self, username: str) -> User:
        return self.staff[username]

    def play(self, spec: Spec) -> Case:
        self.spec, self.case, self.extra, self.notes_used = spec, None, [], set()
        for step in spec.steps:
            getattr(self, f"do_{step.action}")(step)
            self.backdate(step.when)
        self.case.updated_at = spec.steps[-1].when
        return self.case

    def backdate(self, when: datetime) -> None:
        """Move whatever the last step stamped with the real clock back to the step's moment
        (the deadlines follow a moved report or change of level)."""
        case = self.case
        moved_level_events, moved = [], set()
        # Every operation flushed what it made: nothing waits to be flushed before reading.
        with db.session.no_autoflush:
            proposals = db.session.scalars(
                select(EscalationProposal).where(EscalationProposal.case_id == case.id)).all()
            for obj in [case, *case.parties, *case.events, *case.assignments, *proposals,
                        *self.extra]:
                for name in self.STAMPS[type(obj)]:
                    value = getattr(obj, name)
                    if value is not None and value >= self.started:
                        setattr(obj, name, when)
                        if obj is case:
                            moved.add(name)
                        if isinstance(obj, CaseEvent) and obj.kind is EventKind.LEVEL:
                            moved_level_events.append(obj)
            if case.is_open and moved & {"reported_at", "level_entered_at"}:
                case.level_deadline = rules.level_deadline(case)
            if "reported_at" in moved:
                case.overall_deadline = rules.overall_deadline(case)
        for event in moved_level_events:
            event.data = {**(event.data or {}), "deadline": case.level_deadline.isoformat()}

    # -- the steps ----------------------------------------------------------------------

    def handler(self) -> User:
        return self.case.handler or self.user(self.planner.handler_for(self.spec, self.case.level))

    def do_create(self, step: Step) -> None:
        spec = self.spec
        data = CaseInput(
            title=spec.texts["title"], source=spec.source, grid=spec.grid,
            category=spec.category, narrative=spec.texts["story"],
            address=spec.texts["address"],
            amount_fen=spec.amount * 100 if spec.amount is not None else None,
            risks=spec.risks, parties=[p.data for p in spec.parties])
        self.case = ops.create_case(self.user(spec.reporter), data)

    def do_intake(self, step: Step) -> None:
        case, spec = self.case, self.spec
        target: Level | None = step.args["target"]
        open_now = ops.open_proposals(case)
        if target is not None:
            chosen = sorted((p for p in open_now if p.to_level is target),
                            key=lambda p: list(ProposalRule).index(p.rule))
            decider = self.user(self.planner.decider_for(spec, target))
            if chosen:
                note = CONFIRM_NOTES[chosen[0].rule] if self.rng.random() < 0.7 else None
                ops.decide_proposal(decider, chosen[0], True, note)
            else:
                ops.move_level(decider, case, target, "经研判，提级办理。")
        for proposal in ops.open_proposals(case):
            ops.decide_proposal(self.user(self.planner.decider_for(spec, proposal.to_level)),
                                proposal, False, DISMISS_NOTES[proposal.rule])

    def do_accept(self, step: Step) -> None:
        case, spec = self.case, self.spec
        handler = self.user(self.planner.handler_for(spec, case.level))
        if case.level is Level.STREET:
            coordinator = self.user(STREET_COORDINATOR[spec.street.name])
            ops.accept_case(coordinator, case, handler=handler)
        else:
            ops.accept_case(handler, case)

    def do_start(self, step: Step) -> None:
        ops.start_mediation(self.handler(), self.case)

    def do_note(self, step: Step) -> None:
        fresh = [n for n in NOTES[self.case.level] if n not in self.notes_used] or \
            NOTES[self.case.level]
        note = self.rng.choice(fresh)
        self.notes_used.add(note)
        ops.add_note(self.handler(), self.case, note)

    def do_cron(self, step: Step) -> None:
        """What the nightly deadline check does on that night (operations.check_deadlines)."""
        case = self.case
        on = rules.local_date(step.when)
        for suggestion in rules.suggestions(case, on, self.level_rules):
            if suggestion.rule is ProposalRule.DEADLINE_PASSED:
                ops.propose(case, suggestion.rule, suggestion.to_level, suggestion.reason)
        if case.level_deadline is not None and on > case.level_deadline:
            notice = ops.issue_supervision(
                None, case, _("The %(level)s time limit ended on %(date)s: report on the case "
                              "and what is being done.", level=case.level.title,
                              date=case.level_deadline.isoformat()),
                None, automatic=True)
            if notice:
                self.extra.append(notice)

    def do_confirm(self, step: Step) -> None:
        case, spec = self.case, self.spec
        to: Level = step.args["to"]
        rule = (ProposalRule.DEADLINE_PASSED if step.args["rule"] == "deadline"
                else ProposalRule.MEDIATOR_REQUEST)
        decider = self.user(self.planner.decider_for(spec, to))
        previous = case.handler
        proposal = next((p for p in ops.open_proposals(case) if p.rule is rule), None)
        if proposal is not None:
            if proposal.to_level is not to:
                to = proposal.to_level
            ops.decide_proposal(decider, proposal, True, CONFIRM_NOTES[rule])
        else:
            ops.move_level(decider, case, to, CONFIRM_NOTES[rule])
        for other in ops.open_proposals(case):
            ops.decide_proposal(self.user(self.planner.decider_for(spec, other.to_level)),
                                other, False, DISMISS_NOTES[other.rule])
        handler = self.user(self.planner.handler_for(spec, to))
        if case.handler_id != handler.id:
            ops.set_handler(decider, case, handler)
            already = previous is None or any(a.user_id == previous.id
                                              for a in case.assignments)
            if not already and previous.id != handler.id and self.rng.random() < 0.4:
                ops.assign(decider, case, previous, AssignmentRole.CO_HANDLER)

    def do_request(self, step: Step) -> None:
        to: Level = step.args["to"]
        ops.request_escalation(
            self.handler(), self.case, to,
            f"案情复杂、双方分歧较大，申请提级由{LEVEL_ZH[to]}人民调解委员会调解。")

    def do_legal_aid(self, step: Step) -> None:
        handler = self.handler()
        by = handler if handler.can("cases.assign") else \
            self.user(COMMUNITY_MEDIATOR[self.spec.community.name])
        ops.assign(by, self.case, self.user(LEGAL_AID), AssignmentRole.LEGAL_AID)

    def do_opinion(self, step: Step) -> None:
        ops.add_opinion(self.user(LEGAL_AID), self.case, OPINIONS[self.spec.category.code])

    def _requester(self) -> User:
        handler = self.handler()
        return handler if handler.can("cases.request_help") else \
            self.user(COMMUNITY_MEDIATOR[self.spec.community.name])

    def _help_texts(self) -> tuple:
        department, detail, message, response = HELP[self.spec.category.code]
        street = self.spec.street.name
        detail = detail.format(police=POLICE[street], short=street.removesuffix("街道"))
        return department, detail, message, response

    def do_help(self, step: Step) -> None:
        department, detail, message, _response = self._help_texts()
        self.extra.append(ops.request_help(self._requester(), self.case, department, detail,
                                           message))

    def do_help_response(self, step: Step) -> None:
        help_request = next(h for h in self.extra if isinstance(h, HelpRequest))
        ops.record_help_response(self._requester(), help_request, self._help_texts()[3])

    def do_supervise(self, step: Step) -> None:
        case, spec = self.case, self.spec
        coordinator = self.user(STREET_COORDINATOR[spec.street.name])
        respond_by = rules.local_date(step.when) + timedelta(days=self.rng.choice([2, 3]))
        if spec.supervise == "red":
            message = SUPERVISION_RED.format(level=LEVEL_ZH[case.level],
                                             date=f"{respond_by.month}月{respond_by.day}日")
        else:
            reason = ("涉及人数较多" if spec.risks.get("group_dispute")
                      else "存在矛盾激化风险")
            message = SUPERVISION_FOCUS.format(reason=reason)
        self.extra.append(ops.issue_supervision(coordinator, case, message, respond_by,
                                                on=rules.local_date(step.when)))

    def do_respond(self, step: Step) -> None:
        notice = next(n for n in reversed(self.extra) if isinstance(n, SupervisionNotice)
                      and not n.automatic)
        answer = SUPERVISION_ANSWERS[2] if self.spec.supervise == "focus" else \
            self.rng.choice(SUPERVISION_ANSWERS[:2])
        ops.respond_supervision(self.handler(), notice, answer)

    def do_decline(self, step: Step) -> None:
        case, spec = self.case, self.spec
        kind, reason, referred_to = spec.decline
        by = self.user(self.planner.handler_for(spec, case.level))
        values = spec.texts["values"]
        if kind == "refusal":
            respondent = next(p for p in case.parties if p.role is PartyRole.RESPONDENT)
            ops.record_refusal(by, respondent, reason.format(b=respondent.name))
        else:
            ops.decline_case(by, case, reason.format(**values),
                             referred_to.format(police=POLICE[spec.street.name]))

    def do_outcome(self, step: Step) -> None:
        case, spec, rng = self.case, self.spec, self.rng
        handler = self.handler()
        outcome = spec.outcome
        terms = spec.texts["terms"]
        if outcome in (S.SETTLED, S.PARTLY_SETTLED):
            partly = outcome is S.PARTLY_SETTLED
            oral = case.level is Level.GRID and not partly and rng.random() < 0.7
            if oral:
                ops.settle_case(handler, case, partly=False, oral_agreement=terms,
                                note="双方当场达成口头协议，已登记。")
            else:
                note = PARTLY if partly else "经调解达成书面调解协议：" + terms
                ops.settle_case(handler, case, partly=partly, oral_agreement=None, note=note)
        elif outcome is S.FAILED:
            code = spec.category.code
            if spec.reach is S.ACCEPTED and rng.random() < 0.5:
                respondent = next((p for p in case.parties
                                   if p.role is PartyRole.RESPONDENT), None)
                if respondent is not None:
                    ops.record_refusal(handler, respondent,
                                       f"{respondent.name}明确表示不同意调解。")
                    return
            routes = ["arbitration", "court"] if code in ("labour", "wage_arrears") else \
                rng.choice([["court"], ["court", "administrative"]])
            ops.fail_case(handler, case, rng.choice(FAILURES), routes)
        elif outcome is S.WITHDRAWN:
            ops.withdraw_case(handler, case, rng.choice(WITHDRAWALS))
        elif outcome is S.REFERRED_OUT:
            body, reason = REFERRALS.get(spec.category.code, DEFAULT_REFERRAL)
            ops.refer_out(handler, case, body, reason)

    def do_follow_up(self, step: Step) -> None:
        case, spec, rng = self.case, self.spec, self.rng
        visitor = self.user(self.planner.worker_of(spec.grid)) if rng.random() < 0.5 \
            else self.handler()
        remaining = measures = None
        if rng.random() < 0.15:
            remaining, measures = rng.choice(RESIDUAL_RISKS)
        satisfaction = rng.choices([5, 4, 3], [55, 35, 10])[0]
        self.extra.append(ops.record_follow_up(
            visitor, case, visited_on=rules.local_date(step.when),
            performance=rng.choice(FOLLOW_UPS_PAID if spec.outcome is S.SETTLED and spec.pay
                                   else FOLLOW_UPS[spec.outcome]),
            satisfaction=satisfaction,
            new_lawsuit=spec.outcome is S.FAILED and rng.random() < 0.5,
            remaining_risk=remaining, measures=measures))

    def do_close(self, step: Step) -> None:
        notes = {S.WITHDRAWN: "撤回调解，结案归档。", S.DECLINED: "不予受理，结案归档。"}
        note = notes.get(self.spec.outcome, "回访完毕，结案归档。" if self.spec.follow_up
                         else "结案归档。")
        ops.close_case(self.handler(), self.case, note)


# ---- the entry point --------------------------------------------------------------------

def _staff() -> dict[str, User]:
    """The demo accounts, plus the mediators and grid workers the other communities need."""
    password = current_app.config["DEMO_PASSWORD"]
    committees = {c.short_name: c for c in db.session.scalars(select(Committee))}
    nodes = {n.code: n for n in db.session.scalars(
        select(AreaNode).where(AreaNode.code.like("370599%")))}
    community_codes = {n.name: n.code for n in nodes.values()
                       if n.kind is AreaKind.COMMUNITY}
    for username, full_name, role, phone, area_codes, committee_names in EXTRA_STAFF:
        if user_ops.find_user(username):
            continue
        codes = list(area_codes)
        for community_name, first, last in GRID_WORKERS.get(username, []):
            codes += [f"{community_codes[community_name]}-{n:02d}"
                      for n in range(first, last + 1)]
        user_ops.create_user(None, username=username, full_name=full_name, role=role,
                             password=password, phone=phone,
                             areas=[nodes[code] for code in codes],
                             committees=[committees[name] for name in committee_names],
                             must_change_password=False)
    usernames = {username for username, *_rest in EXTRA_STAFF} | {
        "admin", "coordinator", "mediator", "gridworker", LEGAL_AID}
    return {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(usernames)))}


def seed_cases(target: int = 360, *, planner_class: type[Planner] = Planner,
               player_class: type[Player] = Player) -> int:
    """Create about ``target`` demo cases through the operations; 0 if any case exists.

    Needs the demo city (mediation.demo.seed).  Flushes; the caller commits.
    """
    if db.session.scalar(select(Case.id).limit(1)) is not None:
        return 0
    started = utcnow()
    rng = random.Random(2026)
    staff = _staff()
    planner = planner_class(rng, started, staff)
    specs = planner.plan(target)
    specs.sort(key=lambda s: s.steps[0].when)
    player = player_class(planner, staff, started)
    for spec in specs:
        player.play(spec)
    db.session.flush()
    return len(specs)
