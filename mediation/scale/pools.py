"""Names for the synthetic city of ``flask seed-scale``: its districts, streets, communities,
estates and roads, and the people's names (the demo's pools, widened so that a two-character
fragment such as 王芳 matches many parties but not all)."""

from mediation.cases.demo import GIVEN as DEMO_GIVEN

# Five districts (区/县), each of eight streets (街道) of six communities (社区).
DISTRICTS = [("370611", "滨海区"), ("370612", "黄河区"), ("370613", "新城区"),
             ("370614", "湖滨区"), ("370615", "港城区")]
STREETS_PER_DISTRICT = 8
COMMUNITIES_PER_STREET = 6
GRIDS_PER_COMMUNITY = (20, 30)  # about 25: 6,000 grids in the city

STREET_NAMES = ("文汇 黄河路 胜园 东城 西城 府前 辛店 牛庄 六户 史口 胜利 油城 孤岛 仙河 "
                "新户 义和 太平 四扣 郝家 陈庄 汀罗 盐窝 北宋 明集 凤凰 滨湖 金湖 银座 锦华 "
                "丽园 海港 新港 渤海 清河 柳桥 杏花 枣园 北岭 南湖 龙泉").split()
COMMUNITY_NAMES = ("文苑 清风 明德 河畔 龙居 新华 胜园 锦华 康宁 丽景 和平 幸福 阳光 金城 "
                   "银河 绿洲 春晖 秋实 翠湖 海韵 书香 学府 朝阳 东升 西苑 南苑 北辰 兴隆 "
                   "富康 安居 怡和 福苑 华庭 嘉园 颐和 泰和 永安 长青 松涛 竹园 梅园 兰亭 "
                   "桂香 荷塘 芳草 百合 紫荆 玉兰 海棠 石榴 枫林 悦湖 观澜 听涛 望海 临河 "
                   "滨江 新苑 雅居 鸿福").split()
# A community name used again elsewhere in the city gets a quarter: 文苑东社区.
COMMUNITY_QUARTERS = ["", "东", "西", "南", "北", "中"]
ESTATE_PREFIXES = ("翰林 书香 清风 绿城 学府 河畔 滨河 龙腾 华庭 石油 金色 颐和 锦绣 御景 "
                   "香榭 碧水 蓝湾 银杏 梧桐 丁香 玫瑰 水岸 东方 盛世 万和 海岸 新天地 "
                   "世纪 阳光 春天 幸福 和谐 康乐 富华 嘉和 安泰 恒大 泰山 胜利 黄河口").split()
ESTATE_SUFFIXES = "花园 小区 家园 雅苑 新村 公寓 名邸 华府 苑 里".split()
ROAD_NAMES = ("济南路 淄博路 东营路 北一路 北二路 南一路 南二路 西一路 西二路 西三路 西四路 "
              "东二路 东三路 东四路 东五路 庐山路 黄山路 泰山路 嵩山路 华山路 衡山路 运河路 "
              "长江路 珠江路 淮河路 沂河路 黄河大道 府前大街 中央大道 学苑路 杭州路 青岛路 "
              "烟台路 威海路 潍坊路 临沂路 聊城路 德州路 滨州路 菏泽路").split()

# The demo's given names, and single characters that make common two-character names.
GIVEN = {key: list(names) for key, names in DEMO_GIVEN.items()}
GIVEN[("f", "young")] += ["芳", "丽", "娟", "红", "燕", "霞", "玲", "洁", "艳", "萍", "芳芳"]
GIVEN[("m", "young")] += ["刚", "明", "辉", "杰", "鑫", "斌斌", "亮", "平", "华", "峰"]
GIVEN[("f", "old")] += ["秀兰", "桂英", "凤兰", "玉兰", "芳"]
GIVEN[("m", "old")] += ["德明", "国华", "建华", "长江", "平"]


def placeholder_pdf() -> bytes:
    """A one-page PDF saying no document was rendered: what an agreement issued by the
    synthetic city keeps (rendering a real one takes about a second)."""
    lines = ["Synthetic agreement of a benchmark city (flask seed-scale).",
             "No document was rendered for it: the issued PDFs of a real",
             "installation are kept as rendered when they are issued."]
    text = "BT /F1 12 Tf 72 770 Td " + " 0 -18 Td ".join(f"({line}) Tj" for line in lines) \
        + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("ascii")
