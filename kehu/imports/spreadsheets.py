"""Reading uploads (.xlsx, .xls, .csv in UTF-8 or GBK) row by row, and the import template.

Headers are matched by name in any order; the template's eleven columns come first (SPEC §4.1).
The reading itself happens in a child process (``sandbox``) within ``limits``.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .limits import Limits, SpreadsheetError
from .sandbox import ParsedFile, cell_text

__all__ = ["Limits", "SpreadsheetError", "cell_text", "open_sheet"]

TEMPLATE_COLUMNS = [
    ("客户名称", "name", True, "必填，一般为公司全称，最多100字"),
    ("法人/经营者", "legal_person", False, "选填"),
    (
        "统一社会信用代码",
        "credit_code",
        False,
        "选填；填写时须为18位有效代码，且不能与已有客户重复",
    ),
    ("开户银行", "bank_name", False, "选填"),
    ("收款账号", "bank_account", False, "选填；8至30位数字，可含空格"),
    ("生产产品", "products", False, "选填"),
    ("原材料类型", "raw_materials", False, "选填"),
    ("联系人", "contact_name", True, "必填"),
    ("联系电话", "contact_phone", True, "必填；11位手机号，或带区号的座机号（如 0592-1234567）"),
    ("备注", "remark", False, "选填"),
    ("详细地址", "address", False, "选填；未填省市区时，系统会从地址中识别省市区"),
]
OPTIONAL_COLUMNS = [
    ("客户等级", "level", "选填；须为系统中已启用的客户等级"),
    ("客户来源", "source", "选填；不填时为「导入」"),
    ("行业类型", "industry", "选填；须为系统中已启用的行业类型"),
    ("客户标签", "tags", "选填；多个标签用逗号或顿号分隔"),
    ("省", "province", "选填；如 福建省"),
    ("市", "city", "选填；如 厦门市"),
    ("区", "district", "选填；如 思明区"),
]
HEADER_FIELDS = {h: f for h, f, *_ in TEMPLATE_COLUMNS} | {h: f for h, f, _ in OPTIONAL_COLUMNS}
HEADER_ALIASES = {
    "省份": "province",
    "城市": "city",
    "区县": "district",
    "区/县": "district",
    "法人": "legal_person",
    "电话": "contact_phone",
    "手机": "contact_phone",
    "地址": "address",
    "标签": "tags",
}
REQUIRED_FIELDS = ("name", "contact_name", "contact_phone")
# The template's example row (the seed's 测试客户D); an upload that still has it gets it skipped
# with a notice (issue 14 point 12), recognised by the fields below together.
SAMPLE_ROW = [
    "测试客户D有限公司",
    "法人D",
    "",
    "建设银行",
    "111111111111",
    "食品",
    "食品",
    "客户D",
    "15263698652",
    "示例行，导入前请删除",
    "福建省厦门市思明区XXX路1号",
]
SAMPLE_KEYS = {"name": SAMPLE_ROW[0], "contact_name": SAMPLE_ROW[7], "remark": SAMPLE_ROW[9]}


def is_sample_row(values: dict[str, str]) -> bool:
    """The template's example row, left in the file (its name, contact and remark as given)."""
    return all((values.get(k) or "").strip() == v for k, v in SAMPLE_KEYS.items())


FORMULA_PREFIXES = ("=", "+", "-", "@")


def normalize_header(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    for marker in ("*", "（必填）", "(必填)", "必填"):
        text = text.replace(marker, "")
    return text.strip()


def header_columns(headers: list[str]) -> dict[str, int]:
    """Field → column index for the headers the template knows (the first of a repeated one)."""
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = HEADER_FIELDS.get(header) or HEADER_ALIASES.get(header)
        if field and field not in columns:
            columns[field] = index
    return columns


def missing_headers(columns: dict[str, int]) -> list[str]:
    return [h for h, f, required, _ in TEMPLATE_COLUMNS if required and f not in columns]


@dataclass
class Sheet:
    headers: list[str]
    columns: dict[str, int]  # field → column index
    rows: Iterator[tuple[int, list[str]]]  # (row number in the sheet, cells as text)
    parsed: ParsedFile

    def close(self) -> None:
        self.parsed.close()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_sheet(path: str, name: str, limits: Limits | None = None) -> Sheet:
    """The header row mapped to fields and the data rows, read by a child process with a memory
    ceiling (``sandbox``); the limits are checked before any cell is parsed. Close it after use."""
    parsed = ParsedFile(path, name, limits or Limits.from_settings())
    return Sheet(headers=parsed.headers, columns=parsed.columns, rows=parsed.rows(), parsed=parsed)


def row_values(sheet: Sheet, cells: list[str]) -> dict[str, str]:
    return {field: cells[index] for field, index in sheet.columns.items()}


def escape_formula(value):
    """Cells that begin with = + - @ are prefixed so no spreadsheet runs them (SPEC §4.5)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_cell(value):
    """A value as an exported cell: control characters a workbook cannot hold dropped (a legacy
    row with one must not break the export for everyone who sees it), formulas escaped."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return escape_formula(value)


def template_workbook() -> bytes:
    """The import template: headers A–K (required ones in red), an example row, optional columns
    with dropdowns, and a second sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from kehu.basics.models import DictEntry, DictKind

    wb = Workbook()
    ws = wb.active
    ws.title = "客户导入"
    headers = [h for h, *_ in TEMPLATE_COLUMNS] + [h for h, *_ in OPTIONAL_COLUMNS]
    ws.append(headers)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, (_header, _field, required, note) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = fill
        cell.comment = Comment(("【必填】" if required else "") + note, "Kehu")
    for col in range(len(TEMPLATE_COLUMNS) + 1, len(headers) + 1):
        ws.cell(row=1, column=col).font = Font(bold=True, color="808080")
    ws.append(SAMPLE_ROW + [""] * len(OPTIONAL_COLUMNS))
    for col, width in zip(
        "ABCDEFGHIJKLMNOPQR",
        [22, 12, 22, 12, 20, 12, 12, 10, 16, 16, 28, 10, 10, 10, 14, 8, 8, 8],
        strict=False,
    ):
        ws.column_dimensions[col].width = width
    lists = wb.create_sheet("选项")
    for index, kind in enumerate([DictKind.LEVEL, DictKind.SOURCE, DictKind.INDUSTRY], start=1):
        names = list(
            DictEntry.objects.filter(kind=kind, is_active=True)
            .order_by("sort")
            .values_list("name", flat=True)
        )
        for row, name in enumerate(names, start=1):
            lists.cell(row=row, column=index, value=name)
        if names:
            letter = "ABC"[index - 1]
            dv = DataValidation(
                type="list", formula1=f"=选项!${letter}$1:${letter}${len(names)}", allow_blank=True
            )
            ws.add_data_validation(dv)
            dv.add(f"{'LMN'[index - 1]}2:{'LMN'[index - 1]}100001")
    lists.sheet_state = "hidden"
    help_sheet = wb.create_sheet("填写说明")
    help_sheet.append(["列", "是否必填", "说明"])
    for header, _field, required, note in TEMPLATE_COLUMNS:
        help_sheet.append([header, "必填" if required else "选填", note])
    for header, _field, note in OPTIONAL_COLUMNS:
        help_sheet.append([header, "选填（可选列）", note])
    help_sheet.append([])
    help_sheet.append(["提示", "", "列的顺序可以调整，系统按列名识别；每个文件最多10万行、20MB。"])
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["C"].width = 70
    wb.move_sheet("填写说明", offset=-1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
