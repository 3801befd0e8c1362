"""Customer validation — the one place form, API and import share (SPEC §2.1, §12.2).

Every function raises ``FieldError`` with a Chinese message; ``clean_customer_data`` collects
them per field into one ApplicationError so nothing is saved on error.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import phonenumbers

from kehu.core.errors import ApplicationError, FieldError

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:(?:-|转|ext\.?|#)(\d{1,6}))?$", re.IGNORECASE)

MAX_LENGTHS = {
    "name": 100,
    "legal_person": 50,
    "bank_name": 100,
    "products": 500,
    "raw_materials": 500,
    "address": 200,
    "contact_name": 50,
    "remark": 2000,
}


def uscc_check_digit(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


# Dashes an IME, a word processor or a web page types instead of "-" (hyphen, non-breaking
# hyphen, figure dash, en/em dash, horizontal bar, minus sign, the katakana prolonged sound mark
# a Chinese IME offers for "-", full-width hyphen-minus after NFKC is "-" already).
DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\ufe58\ufe63\uff0d]")
MOBILE_WITH_PREFIX = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
LANDLINE_PREFIX = re.compile(r"^(?:\+86|0086)")


def halfwidth(value: Any) -> str:
    """全角 → 半角 and the other compatibility forms (NFKC: "１３８", "＋", "（", the ideographic
    space), and every kind of dash as "-": the first step of every normaliser below."""
    if value is None:
        return ""
    return DASHES.sub("-", unicodedata.normalize("NFKC", str(value)))


def normalize_phone(value: Any) -> str:
    """A phone as typed → its canonical spelling, without judging it (that is ``clean_phone``'s):
    半角, no spaces or brackets, no +86 / 0086 (nor 86 before a mobile); a mobile as its 11 digits
    (dashes dropped), a landline keeps its dashes and regains the 0 of its area code after
    +86 ("+86 592 1234567" → "0592-1234567" once validated). Form, API, import, search and 查重
    call this on their input."""
    compact = re.sub(r"[\s()]", "", halfwidth(value))
    mobile = MOBILE_WITH_PREFIX.fullmatch(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    stripped = LANDLINE_PREFIX.sub("", compact).lstrip("-")
    if stripped != compact.lstrip("-") and stripped and stripped[0] not in "01":
        stripped = "0" + stripped  # +86 592… is the landline 0592…
    return stripped


def normalize_credit_code(value: Any) -> str:
    """统一社会信用代码 as typed → 18 upper-case characters when it has them: 半角, upper case,
    spaces and dashes dropped (validated by ``clean_credit_code``)."""
    return re.sub(r"[\s\-]", "", halfwidth(value)).upper()


def clean_credit_code(value: str | None) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 chars of the national charset, valid check digit."""
    code = normalize_credit_code(value)
    if not code:
        return ""
    if len(code) != 18:
        raise FieldError("统一社会信用代码应为18位")
    if any(ch not in USCC_CHARSET for ch in code):
        raise FieldError("统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）")
    if not code[2:8].isdigit():
        raise FieldError("统一社会信用代码第3至8位应为行政区划码")
    if uscc_check_digit(code[:17]) != code[17]:
        raise FieldError("统一社会信用代码校验位不正确")
    return code


def clean_phone(value: str | None, *, required: bool = False, label: str = "联系电话") -> str:
    """Mainland mobile ``1[3-9]`` + 9 digits, or landline ``0xx(x)-xxxxxxx(x)`` with extension.

    Stored normalised: mobiles as 11 digits, landlines as ``区号-号码[-分机]``.
    """
    compact = normalize_phone(value)
    if not compact:
        if required:
            raise FieldError(f"请填写{label}")
        return ""
    if MOBILE_RE.match(compact):
        return compact
    match = LANDLINE_RE.match(compact)
    if match:
        area, number, ext = match.groups()
        try:
            parsed = phonenumbers.parse(area + number, "CN")
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise FieldError(f"{label}的区号或号码无效")
        return f"{area}-{number}" + (f"-{ext}" if ext else "")
    raise FieldError(f"{label}格式不正确，请输入11位手机号或带区号的座机号（如 0592-1234567）")


def clean_bank_account(value: str | None) -> str:
    account = halfwidth(value).strip()
    if not account:
        return ""
    if not re.fullmatch(r"[\d ]+", account):
        raise FieldError("收款账号只能包含数字和空格")
    digits = account.replace(" ", "")
    if not 8 <= len(digits) <= 30:
        raise FieldError("收款账号应为8至30位数字")
    return account


def clean_email(value: str | None) -> str:
    email = strip_control_characters(value, multiline=False).strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise FieldError("邮箱格式不正确")
    if len(email) > 254:
        raise FieldError("邮箱过长")
    return email


# C0 control characters and DEL, but tab and line breaks: invisible, and a workbook or an XML
# parser refuses them, so they are dropped at the door (SPEC §12.2). Also C1 controls, the two
# XML non-characters and lone surrogates (PostgreSQL refuses NUL and the surrogates outright).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")
# Fields of one line (names, titles): a tab or line break in them becomes a space.
SINGLE_LINE_FIELDS = frozenset(
    {
        "name",
        "legal_person",
        "bank_name",
        "contact_name",
        "address",
        "position",
        "opportunity_name",
        "document_name",
        "invalid_reason",
    }
)


def strip_control_characters(value: Any, *, multiline: bool = True) -> str:
    """The one door for free text (forms, API, import cells): control characters dropped; tab and
    line breaks kept only where the field holds several lines. Not stripped of spaces."""
    if value is None:
        return ""
    text = CONTROL_CHARACTERS.sub("", str(value))
    if not multiline:
        text = LINE_BREAKS.sub(" ", text)
    return text


def clean_text(
    value: Any,
    field: str,
    *,
    required: bool = False,
    label: str = "",
    multiline: bool | None = None,
) -> str:
    if multiline is None:
        multiline = field not in SINGLE_LINE_FIELDS
    text = strip_control_characters(value, multiline=multiline).strip()
    if required and not text:
        raise FieldError(f"请填写{label or field}")
    limit = MAX_LENGTHS.get(field)
    if limit and len(text) > limit:
        raise FieldError(f"{label or field}不能超过{limit}个字符")
    return text


def clean_dict_entry(entry, kind: str, label: str):
    """A dictionary value must exist, be of the right kind and be enabled."""
    if entry is None or entry == "":
        return None
    from kehu.basics.models import DictEntry

    if not isinstance(entry, DictEntry):
        entry = DictEntry.objects.filter(pk=entry).first() if str(entry).isdigit() else None
        if entry is None:
            raise FieldError(f"{label}不存在")
    if entry.kind != kind:
        raise FieldError(f"{label}不存在")
    if not entry.is_active:
        raise FieldError(f"{label}「{entry.name}」已停用")
    return entry


LABELS = {
    "name": "客户名称",
    "legal_person": "法人/经营者",
    "credit_code": "统一社会信用代码",
    "bank_name": "开户银行",
    "bank_account": "收款账号",
    "products": "生产产品",
    "raw_materials": "原材料类型",
    "address": "详细地址",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "remark": "备注",
    "industry": "行业类型",
    "level": "客户等级",
    "source": "客户来源",
    "tags": "客户标签",
}

TEXT_FIELDS = (
    "name",
    "legal_person",
    "bank_name",
    "products",
    "raw_materials",
    "address",
    "contact_name",
    "remark",
)
REQUIRED = ("name", "contact_name", "contact_phone")


def clean_customer_data(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise customer input; raises ApplicationError with per-field messages.

    ``partial`` (PATCH) validates only the keys present.
    """
    from kehu.basics.models import DictKind

    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def run(field, fn):
        if partial and field not in data:
            return
        try:
            cleaned[field] = fn(data.get(field))
        except FieldError as exc:
            errors.setdefault(field, []).append(str(exc))

    for field in TEXT_FIELDS:
        run(field, lambda v, f=field: clean_text(v, f, required=f in REQUIRED, label=LABELS[f]))
    run("credit_code", clean_credit_code)
    run("contact_phone", lambda v: clean_phone(v, required=True))
    run("bank_account", clean_bank_account)
    run("industry", lambda v: clean_dict_entry(v, DictKind.INDUSTRY, "行业类型"))
    run("level", lambda v: clean_dict_entry(v, DictKind.LEVEL, "客户等级"))
    run("source", lambda v: clean_dict_entry(v, DictKind.SOURCE, "客户来源"))
    if not partial or "tags" in data:
        tags = []
        for tag in data.get("tags") or []:
            try:
                tags.append(clean_dict_entry(tag, DictKind.TAG, "客户标签"))
            except FieldError as exc:
                errors.setdefault("tags", []).append(str(exc))
        cleaned["tags"] = tags
    for field in (
        "province",
        "city",
        "district",
        "longitude",
        "latitude",
        "referrer",
        "next_followup_at",
        "attachments",
    ):
        if field in data:
            cleaned[field] = data[field]
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return cleaned


def clean_regions(province, city, district) -> tuple:
    """省/市/区 must exist and nest: the city under the province, the district under either."""
    from kehu.basics.models import Region

    def get(value, level, label):
        if value in (None, ""):
            return None
        if isinstance(value, Region):
            region = value
        else:
            region = Region.objects.filter(adcode=str(value)).first()
        if region is None or region.level != level:
            raise FieldError(f"{label}不存在")
        return region

    errors: dict[str, list[str]] = {}
    regions = []
    for field, value, level, label in (
        ("province", province, Region.Level.PROVINCE, "省份"),
        ("city", city, Region.Level.CITY, "城市"),
        ("district", district, Region.Level.DISTRICT, "区县"),
    ):
        try:
            regions.append(get(value, level, label))
        except FieldError as exc:
            errors[field] = [str(exc)]
            regions.append(None)
    p, c, d = regions
    if not errors:
        if c and (p is None or c.parent_id != p.adcode):
            errors["city"] = ["所选城市不属于所选省份"]
        if d and (p is None or d.parent_id not in {p.adcode, c.adcode if c else None}):
            errors["district"] = ["所选区县不属于所选省市"]
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return p, c, d


def clean_coordinates(longitude, latitude) -> tuple:
    from decimal import Decimal, InvalidOperation

    errors: dict[str, list[str]] = {}
    out = []
    for field, value, limit in (("longitude", longitude, 180), ("latitude", latitude, 90)):
        if value in (None, ""):
            out.append(None)
            continue
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors[field] = ["请输入有效的经纬度"]
            out.append(None)
            continue
        if abs(number) > limit:
            errors[field] = [f"经纬度超出范围（±{limit}）"]
        out.append(number)
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return tuple(out)
