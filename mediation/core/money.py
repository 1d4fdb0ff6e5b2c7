"""Money as integer fen: parsing what people type, showing it, and 大写 capital numerals."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from mediation.core.errors import OperationError

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万亿")
MAX_FEN = 10**16 - 1  # below 一百万亿元: the capital numerals stop at 万亿
MAX_YUAN = Decimal(MAX_FEN) / 100


def parse_yuan(text: str | None, *, field: str = "amount") -> int | None:
    """``"12,345.6"`` or ``"12345.60元"`` → 1234560 fen; empty → None; anything else refused."""
    cleaned = re.sub(r"[\s,，]|元$|^¥|^￥|^人民币", "", (text or "").strip())
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise OperationError(_("“%(text)s” is not an amount in yuan, e.g. 12000 or 12000.50.",
                               text=text), field=field)
    if value <= 0:
        raise OperationError(_("The amount must be more than zero."), field=field)
    # Before quantize: 1e30 has more digits than the decimal context holds and would raise.
    if value > MAX_YUAN:
        raise OperationError(_("The amount is too large."), field=field)
    if value != value.quantize(Decimal("0.01")):
        raise OperationError(_("An amount has at most two decimals (fen)."), field=field)
    return int(value * 100)


def format_yuan(fen: int | None) -> str:
    """1234560 → ``12,345.60``."""
    if fen is None:
        return ""
    return f"{fen // 100:,}.{fen % 100:02d}"


def _group(value: int) -> str:
    """1–9999 in capital numerals, with one 零 for any run of inner zeros."""
    out, zero = "", False
    for position in (3, 2, 1, 0):
        digit = value // 10**position % 10
        if digit == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + DIGITS[digit] + UNITS[position]
            zero = False
    return out


def _integer(value: int) -> str:
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    out, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += _group(group) + GROUP_UNITS[index]
        gap = False
    return out


def rmb_capital(fen: int) -> str:
    """The amount as agreements and cheques write it: 12345.60 → 人民币壹万贰仟叁佰肆拾伍元陆角."""
    if fen < 0 or fen > MAX_FEN:
        raise ValueError(f"amount out of range: {fen}")
    yuan, jiao, fen_digit = fen // 100, fen // 10 % 10, fen % 10
    if fen == 0:
        return "人民币零元整"
    out = _integer(yuan) + "元" if yuan else ""
    if not jiao and not fen_digit:
        return f"人民币{out}整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += "零"
    if fen_digit:
        out += DIGITS[fen_digit] + "分"
    return f"人民币{out}"
