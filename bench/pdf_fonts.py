"""Benchmark: a two-page settlement agreement (人民调解协议书) in the Chinese serif font
against the same document set in a Latin font.

Both documents go through ``mediation.core.pdf.render_pdf`` (Jinja, WeasyPrint, the
per-thread font configuration); only the fonts differ:

* CJK: what the app does — the cached GB 2312 / Ext subsets of the system Song font
  (Noto Serif CJK SC), then the system font itself;
* Latin: ``font-family: "DejaVu Serif"`` (fonts-dejavu-core) and nothing else.

The Latin document is the Chinese one (the whole page template, footer included)
with every Chinese character replaced, one by one, by Latin text of about the same
width: each CJK ideograph by a two-letter syllable (consonant + vowel, picked by the
character's code point modulo 90, so the same character always gives the same
syllable) with a space after every third ideograph of a run, so that the lines can
break (not before punctuation); the Chinese punctuation ，。、：；（）〔〕“”《》 by its
ASCII counterpart and a space (the quotes by '), ＿ by _, and the ideographic space by
two no-break spaces; and ``lang="zh-Hans-CN"`` by ``lang="en"``.  Everything else
(markup, CSS, digits, ASCII) is unchanged, so both have the same structure; the script
checks that both have the same number of pages (two).

Each document is rendered once to warm up (the first Chinese render also makes the font
cache if it is missing: its time is printed), then ``--runs`` times, alternating
Chinese and Latin so that a busy machine slows both alike; the median is reported, for
a plain PDF and for PDF/A-3b (the variant issued agreements use).  The script exits
with 1 if the Chinese/Latin ratio is above 3 or the Chinese PDF is 150 KB (150,000
bytes) or more, in either variant, or if the two are not both two pages long.

    .venv/bin/python bench/pdf_fonts.py [--runs 15] [--cold] [--keep DIR]

``--cold`` makes the font cache in a new temporary folder (first-use cost);
``--keep DIR`` writes the PDFs there.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jinja2 import ChoiceLoader, DictLoader  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from mediation import create_app  # noqa: E402
from mediation.core import pdf  # noqa: E402

MAX_RATIO = 3.0
MAX_BYTES = 150_000
LATIN_FAMILY = "DejaVu Serif"
TITLE = "人民调解协议书 东文苑调字〔2027〕第0316号"

PARTIES = (
    ("当事人甲", "李秀英，女，汉族，1968年4月12日出生，居民身份证号码370502196804121827，"
                "住山东省东营市东湖区文汇街道文苑社区幸福里小区3号楼2单元501室，"
                "联系电话13905461234。"),
    ("当事人乙", "王建军，男，汉族，1975年9月3日出生，居民身份证号码370502197509030419，"
                "住山东省东营市东湖区文汇街道文苑社区幸福里小区3号楼2单元601室，"
                "联系电话13805467788。委托代理人赵明，山东众和律师事务所律师。"),
    ("当事人丙", "东营市安居物业服务有限公司，统一社会信用代码91370500MA3C5X7Y2K，"
                "住所地东营市东湖区黄河路218号，法定代表人孙志刚，职务：总经理，"
                "联系电话0546-8321765。"),
)
FACTS = ("2027年2月20日夜间，当事人乙家中卫生间下水管道接口老化破裂，污水渗漏至楼下当事人甲"
         "家中，造成其卫生间及主卧室吊顶、墙面、木地板受损，衣柜及部分衣物、被褥浸水。当事人甲"
         "多次要求赔偿，双方对损失金额及维修方式未能协商一致；当事人甲认为物业公司未及时关闭"
         "总阀，亦应承担相应责任。本委员会于2027年3月16日组织三方进行调解，经评估直接损失为"
         "人民币18,460元。经调解员释法析理，各方当事人自愿达成如下协议：")
TERMS = (
    "一、当事人乙于2027年3月31日前一次性赔偿当事人甲房屋维修费用人民币13,800元"
    "（大写：壹万叁仟捌佰元整），以银行转账方式支付。",
    "二、当事人乙赔偿当事人甲衣物、被褥等财产损失人民币2,160元（大写：贰仟壹佰陆拾元整），"
    "与第一项款项一并支付。",
    "三、当事人丙自愿补偿当事人甲人民币2,500元（大写：贰仟伍佰元整），于2027年3月25日前"
    "支付，并免费更换楼内公共排水立管检修口。",
    "四、当事人乙应于2027年3月20日前聘请具有资质的施工单位更换其卫生间下水管道，当事人甲"
    "应予配合；完工后由网格员、物业公司共同验收。",
    "五、上述款项付清后，各方就本次漏水纠纷再无其他争议。任何一方不履行本协议的，另一方"
    "可以向人民法院提起诉讼。",
    "六、各方同意自本协议生效之日起三十日内共同向东湖区人民法院申请司法确认。本协议一式"
    "四份，三方当事人、人民调解委员会各执一份。",
)
SIGNATURES = ("当事人甲（签名或按指印）：＿＿＿＿＿＿＿＿　　年　月　日",
              "当事人乙（签名或按指印）：＿＿＿＿＿＿＿＿　　年　月　日",
              "当事人丙（盖章）：＿＿＿＿＿＿＿＿　　年　月　日",
              "人民调解员（签名）：张志强　　刘晓燕　　记录人（签名）：陈思远")
AGREEMENT = "\n".join([
    "<h1>人民调解协议书</h1>",
    '<p class="number">东文苑调字〔2027〕第0316号</p>',
    "<table>",
    *(f"<tr><th>{role}</th><td>{lines}</td></tr>" for role, lines in PARTIES),
    "</table>",
    '<p class="flush"><strong>纠纷主要事实、争议事项：</strong></p>',
    f"<p>{FACTS}</p>",
    *(f'<p class="flush">{term}</p>' for term in TERMS),
    '<div class="signatures">',
    *(f"<p>{line}</p>" for line in SIGNATURES),
    "</div>",
    '<div class="sign"><p>文苑社区人民调解委员会（印）</p><p>2027年3月16日</p></div>',
])

CONSONANTS, VOWELS = "bcdfghjklmnprstvwz", "aeiou"
SYLLABLES = [c + v for c in CONSONANTS for v in VOWELS]  # 90
PUNCTUATION = {"，": ", ", "。": ". ", "、": ", ", "：": ": ", "；": "; ", "（": " (",
               "）": ") ", "〔": "[", "〕": "] ", "“": "'", "”": "' ", "《": "'", "》": "' ",
               "　": "\u00a0\u00a0", "＿": "_"}


def is_ideograph(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000


def latinise(text: str) -> str:
    """The Latin stand-in for ``text``: see the module's docstring."""
    out, run = [], 0
    for char in text:
        if is_ideograph(char):
            out.append(SYLLABLES[ord(char) % len(SYLLABLES)])
            run += 1
            if run % 3 == 0:
                out.append(" ")
            continue
        run = 0
        if char in PUNCTUATION and out and out[-1] == " ":
            out.pop()
        out.append(PUNCTUATION.get(char, char))
    return "".join(out).replace('lang="zh-Hans-CN"', 'lang="en"')


def page_template(app) -> str:
    """templates/pdf/_base.html with the agreement as its body, as one template source."""
    base = app.jinja_loader.get_source(app.jinja_env, "pdf/_base.html")[0]
    block = "{% block body %}{% endblock %}"
    if block not in base:
        raise SystemExit(f"templates/pdf/_base.html no longer has {block}")
    return base.replace(block, AGREEMENT)


def pages(data: bytes) -> int | None:
    """The page count, by pdfinfo (poppler-utils); None without it."""
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True,
                          check=False).stdout.decode()
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    return int(match[1]) if match else None


@cache
def latin_fonts() -> pdf.DocumentFonts:
    """What ``pdf._document_fonts`` gives, for DejaVu Serif alone: one configuration."""
    return pdf.DocumentFonts(
        families=[LATIN_FAMILY], stylesheets=[], font_config=FontConfiguration(),
        key=("latin",), faces=(), complete=True, created=time.monotonic())


def timed(renders, runs: int) -> list[tuple[float, float, bytes]]:
    """(first time, median time, PDF) of each render function, run in turn.

    The renders alternate, so that a busy machine slows all of them alike.
    """
    firsts, times, data = [], [[] for _ in renders], [None for _ in renders]
    for render in renders:  # warm-up, not counted
        started = time.perf_counter()
        render()
        firsts.append(time.perf_counter() - started)
    for _ in range(runs):
        for i, render in enumerate(renders):
            started = time.perf_counter()
            data[i] = render()
            times[i].append(time.perf_counter() - started)
    return [(first, statistics.median(spent), pdf_bytes)
            for first, spent, pdf_bytes in zip(firsts, times, data, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cold", action="store_true",
                        help="make the font cache in a new temporary folder")
    parser.add_argument("--keep", type=Path, help="write the PDFs to this folder")
    args = parser.parse_args()

    listing = subprocess.run(["fc-list", LATIN_FAMILY, "family"], capture_output=True,
                             text=True, check=False).stdout
    if LATIN_FAMILY not in listing:
        print(f"{LATIN_FAMILY} is not installed: sudo apt-get install fonts-dejavu-core")
        return 2

    cold = Path(tempfile.mkdtemp(prefix="pdf-font-cache-")) if args.cold else None
    overrides = {"PDF_FONT_CACHE_DIR": str(cold)} if cold else {}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)
    source = page_template(app)
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"pdf/bench-cjk.html": source, "pdf/bench-latin.html": latinise(source)}),
        app.jinja_env.loader])
    family = pdf.require_font()
    with app.app_context():
        cache_dir = Path(app.config.get("PDF_FONT_CACHE_DIR")
                         or Path(app.instance_path) / "font-cache")
        had_cache = any(cache_dir.glob("*.otf"))
    print(f"CJK font: {family}; Latin font: {LATIN_FAMILY}; font cache: {cache_dir} "
          f"({'present' if had_cache else 'made now'}); {args.runs} runs, median")

    failures = []
    results = {}
    with app.test_request_context():
        for variant in (None, "pdf/a-3b"):
            def cjk(variant=variant):
                return pdf.render_pdf("bench-cjk.html", title=TITLE, pdf_variant=variant)

            def latin(variant=variant):
                with mock.patch.object(pdf, "_document_fonts", lambda _family: latin_fonts()):
                    return pdf.render_pdf("bench-latin.html", title=latinise(TITLE),
                                          pdf_variant=variant)

            (cjk_first, cjk_time, cjk_pdf), (_, latin_time, latin_pdf) = timed(
                [cjk, latin], args.runs)
            results[variant] = cjk_pdf, latin_pdf
            ratio = cjk_time / latin_time
            name = variant or "plain PDF"
            print(f"\n{name}:")
            if variant is None:
                print(f"  first CJK render in this process: {cjk_first:.2f} s")
            print(f"  CJK    {cjk_time:6.3f} s  {pages(cjk_pdf)} pages  "
                  f"{len(cjk_pdf) / 1000:6.1f} KB")
            print(f"  Latin  {latin_time:6.3f} s  {pages(latin_pdf)} pages  "
                  f"{len(latin_pdf) / 1000:6.1f} KB")
            print(f"  ratio  {ratio:6.2f}  (limit {MAX_RATIO:g})")
            if ratio > MAX_RATIO:
                failures.append(f"{name}: CJK/Latin ratio {ratio:.2f} > {MAX_RATIO:g}")
            if len(cjk_pdf) >= MAX_BYTES:
                failures.append(f"{name}: CJK PDF {len(cjk_pdf)} bytes >= {MAX_BYTES}")
            if pages(cjk_pdf) != pages(latin_pdf) or pages(cjk_pdf) not in (2, None):
                failures.append(f"{name}: {pages(cjk_pdf)} pages in CJK, {pages(latin_pdf)} "
                                f"in Latin: not the same two-page document")

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for variant, (cjk_pdf, latin_pdf) in results.items():
            suffix = (variant or "plain").replace("/", "")
            (args.keep / f"agreement-cjk-{suffix}.pdf").write_bytes(cjk_pdf)
            (args.keep / f"agreement-latin-{suffix}.pdf").write_bytes(latin_pdf)
    if cold:
        shutil.rmtree(cold, ignore_errors=True)
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
