"""Upload limits (SPEC §4.2, §13 "Uploads"), checked before any cell is parsed.

An upload is refused with a Chinese reason when it is too large, when an .xlsx (a zip) would
unpack to too much or packs too tightly (a "zip bomb"), has too many members, or a sheet declares
more rows or columns than an import may have; an .xls when its cells span more than that. These
checks read the zip's directory, a few KB at the head of each sheet and the .xls record headers
— never the cells. The rest (rows, columns and cell length that a file does not declare truly) is
checked while streaming, in ``kehu.imports.sandbox``, in a child process with a memory ceiling.

This module needs no Django set-up: the child process imports it with the limits as JSON.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zipfile
from array import array
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import IO

from kehu.core.errors import ApplicationError

MB = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Rows above the header a sheet may have (a title, a blank line) on top of the data rows.
HEADER_ALLOWANCE = 20
# A zip member this small cannot hurt whatever its ratio (deflate tops out near 1:1000).
RATIO_FLOOR = 1 * MB


class SpreadsheetError(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="bad_file", errors={"file": [message]})


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * MB
    max_rows: int = 100_000
    max_columns: int = 100
    max_cell_chars: int = 2_000
    max_unzipped_bytes: int = 200 * MB
    max_ratio: int = 100
    max_members: int = 1_000
    max_shared_strings: int = 2_000_000
    memory_mb: int = 1_024
    cpu_seconds: int = 600

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        extra = getattr(settings, "KEHU_IMPORT_LIMITS", {})
        return cls(
            max_bytes=settings.KEHU_IMPORT_MAX_BYTES,
            max_rows=settings.KEHU_IMPORT_MAX_ROWS,
            **{k: v for k, v in extra.items() if k in cls.__dataclass_fields__},
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Limits:
        return cls(**json.loads(text))

    @property
    def max_lines(self) -> int:
        """The highest sheet row a file may use: the data rows, the header and a title above."""
        return self.max_rows + HEADER_ALLOWANCE


def mb(size: int) -> str:
    return f"{size / MB:.0f}MB" if size >= MB else f"{max(size, 1) // 1024}KB"


def check_upload(path: str, name: str, size: int, limits: Limits) -> str:
    """The file's kind (``.xlsx``, ``.xls``, ``.csv``) once its size and, for a workbook, its
    structure pass; raises ``SpreadsheetError`` with the reason otherwise."""
    ext = PurePath(name or "").suffix.lower()
    if ext not in {".xlsx", ".xls", ".csv"}:
        raise SpreadsheetError("只支持 .xlsx、.xls 或 .csv 文件")
    if size == 0:
        raise SpreadsheetError("文件是空的")
    if size > limits.max_bytes:
        raise SpreadsheetError(f"文件超过{mb(limits.max_bytes)}，请拆分后再导入")
    with open(path, "rb") as fh:
        head = fh.read(8)
        if ext == ".xlsx":
            if head.startswith(OLE_MAGIC):
                raise SpreadsheetError("文件设置了打开密码（已加密），请取消密码后再上传")
            if not head.startswith(ZIP_MAGIC):
                raise SpreadsheetError("文件无法读取：格式不正确或已损坏")
            check_xlsx(fh, limits)
        elif ext == ".xls" and not head.startswith(OLE_MAGIC):
            raise SpreadsheetError("文件无法读取：格式不正确或已损坏（不是 Excel 97-2003 工作簿）")
    return ext


# ---------------------------------------------------------------------------------------------
# .xlsx: the zip's directory and the sheets' declared dimension


@dataclass
class SheetEntry:
    name: str
    path: str
    visible: bool


def open_zip(fh: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc


def check_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise SpreadsheetError(
            f"文件内部包含{len(members)}个部件，超过{limits.max_members}个，可能是异常文件"
        )
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise SpreadsheetError("文件设置了打开密码（已加密），请取消密码后再上传")
        total += info.file_size
        if total > limits.max_unzipped_bytes:
            raise SpreadsheetError(
                f"文件解压后过大（超过{mb(limits.max_unzipped_bytes)}），可能是异常文件"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise SpreadsheetError(
                f"文件压缩比异常（{ratio}:1，上限{limits.max_ratio}:1），可能是异常文件"
            )


def read_member_head(archive: zipfile.ZipFile, path: str, size: int = 64 * 1024) -> bytes:
    try:
        with archive.open(path) as member:
            return member.read(size)
    except KeyError:
        return b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc


def read_member(archive: zipfile.ZipFile, path: str, limit: int = 16 * MB) -> bytes:
    """A small part (the workbook, its relationships) read whole, never more than ``limit``."""
    try:
        info = archive.getinfo(path)
    except KeyError:
        return b""
    if info.file_size > limit:
        raise SpreadsheetError(f"文件内部的 {path} 过大（超过{mb(limit)}），可能是异常文件")
    try:
        with archive.open(info) as member:
            return member.read(limit + 1)[:limit]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc


def parse_small_xml(data: bytes, start) -> None:
    """Feed a small XML part to expat with ``start(local_name, attrs)``; no DTDs, no entities."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_args):
        raise SpreadsheetError("文件包含不允许的 XML 声明（DTD/实体），可能是异常文件")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda tag, attrs: start(
        local(tag), {local(k): v for k, v in attrs.items()}
    )
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc


def local(name: str) -> str:
    return name.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = [p for p in base_dir.split("/") if p]
    for part in target.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


@dataclass
class WorkbookParts:
    sheets: list[SheetEntry]
    shared_strings: str | None
    styles: str | None
    date1904: bool


MAX_SHEETS = 1_000
SMALL_PART = 4 * MB


def workbook_parts(archive: zipfile.ZipFile) -> WorkbookParts:
    """The sheets in workbook order (name, part, visible) and the shared strings and styles
    parts. The workbook and its relationships are small parts, read whole (at most 4 MB)."""
    workbook = "xl/workbook.xml"
    too_many = SpreadsheetError(f"文件中的工作表或部件超过{MAX_SHEETS}个，可能是异常文件")

    def root_rel(tag, attrs):
        nonlocal workbook
        if tag == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
            workbook = _resolve("", attrs.get("Target", workbook))

    parse_small_xml(read_member(archive, "_rels/.rels", SMALL_PART) or b"<r/>", root_rel)
    base = workbook.rsplit("/", 1)[0] if "/" in workbook else ""
    rels: dict[str, str] = {}
    kinds: dict[str, str] = {}

    def rel(tag, attrs):
        if len(rels) > MAX_SHEETS + 100:
            raise too_many
        if tag == "Relationship":
            target = _resolve(base, attrs.get("Target", ""))
            rels[attrs.get("Id", "")] = target
            kinds[attrs.get("Type", "").rsplit("/", 1)[-1]] = target

    rels_path = f"{base}/_rels/{workbook.rsplit('/', 1)[-1]}.rels" if base else "_rels/x.rels"
    parse_small_xml(read_member(archive, rels_path, SMALL_PART) or b"<r/>", rel)
    sheets: list[SheetEntry] = []
    date1904 = False

    def book(tag, attrs):
        nonlocal date1904
        if len(sheets) > MAX_SHEETS:
            raise too_many
        if tag == "sheet":
            path = rels.get(attrs.get("id", ""), "")
            sheets.append(
                SheetEntry(attrs.get("name", ""), path, attrs.get("state", "visible") == "visible")
            )
        elif tag == "workbookPr":
            date1904 = attrs.get("date1904", "").lower() in {"1", "true"}

    data = read_member(archive, workbook, SMALL_PART)
    if not data:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏（缺少工作簿）")
    parse_small_xml(data, book)
    names = set(archive.namelist())
    sheets = [s for s in sheets if s.path in names]
    if not sheets:
        raise SpreadsheetError("文件中没有工作表")
    shared = kinds.get("sharedStrings")
    styles = kinds.get("styles")
    return WorkbookParts(
        sheets=sheets,
        shared_strings=shared if shared in names else None,
        styles=styles if styles in names else None,
        date1904=date1904,
    )


DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref\s*=\s*[\"']([^\"']+)[\"']")
CELL_REF_RE = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,9})$")


def column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def parse_ref(ref: str) -> tuple[int, int] | None:
    """``"XFD1048576"`` → (row, column), 1-based."""
    match = CELL_REF_RE.match(ref.strip())
    if not match:
        return None
    return int(match.group(2)), column_number(match.group(1))


def check_dimension(sheet_name: str, head: bytes, limits: Limits) -> None:
    """The ``<dimension ref="A1:K101"/>`` a sheet declares before its cells."""
    match = DIMENSION_RE.search(head)
    if not match:
        return
    ref = match.group(1).decode("ascii", "replace")
    last = parse_ref(ref.split(":")[-1])
    if last is None:
        return
    rows, columns = last
    check_extent(sheet_name, rows, columns, limits)


def check_extent(sheet_name: str, rows: int, columns: int, limits: Limits) -> None:
    where = f"工作表「{sheet_name}」" if sheet_name else "表格"
    if columns > limits.max_columns:
        raise SpreadsheetError(
            f"{where}有{columns}列，超过{limits.max_columns}列的上限，可能是异常文件；"
            "请删除多余的列后再导入"
        )
    if rows > limits.max_lines:
        raise SpreadsheetError(f"{where}有{rows}行，超过{limits.max_rows}行的上限，请拆分后再导入")


def check_xlsx(fh: IO[bytes], limits: Limits) -> WorkbookParts:
    archive = open_zip(fh)
    check_zip(archive, limits)
    parts = workbook_parts(archive)
    for sheet in parts.sheets:
        if sheet.visible:
            check_dimension(sheet.name, read_member_head(archive, sheet.path), limits)
    return parts


# ---------------------------------------------------------------------------------------------
# .xls: the compound file's Workbook stream and the cells' extent per sheet

FREE_SECTORS = {0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC}
BIFF_BOF = {0x0809, 0x0409, 0x0209, 0x0009}
BIFF_EOF = 0x000A
# NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA, RSTRING: a cell with a value at (row, column).
BIFF_CELLS = {0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x0406, 0x00D6}
BIFF_MULRK = 0x00BD


def _u16(data: bytes, offset: int) -> int:
    return struct.unpack_from("<H", data, offset)[0]


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def ole_stream(data: bytes, names: tuple[str, ...] = ("workbook", "book")) -> bytes:
    """One stream of a compound (OLE2) file, read by hand so nothing else is parsed."""
    bad = SpreadsheetError("文件无法读取：格式不正确或已损坏")
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        raise bad
    shift, mini_shift = _u16(data, 0x1E), _u16(data, 0x20)
    if shift not in (9, 12) or mini_shift != 6:
        raise bad
    size = 1 << shift
    count = len(data) // size

    def sector(index: int) -> bytes:
        offset = (index + 1) * size  # the header fills the first sector
        return data[offset : offset + size]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    following, extra = _u32(data, 0x44), _u32(data, 0x48)
    for _ in range(min(extra, count)):
        if following in FREE_SECTORS or following >= count:
            break
        block = sector(following)
        links = struct.unpack(f"<{size // 4}I", block)
        difat.extend(links[:-1])
        following = links[-1]
    fat = array("I")
    for index in difat[: _u32(data, 0x2C)]:
        if index in FREE_SECTORS or index >= count:
            continue
        fat.frombytes(sector(index))
    if fat.itemsize != 4:
        raise bad
    if sys.byteorder == "big":
        fat.byteswap()

    def chain(start: int, table: array) -> list[int]:
        out: list[int] = []
        current = start
        while current not in FREE_SECTORS:
            if current >= len(table) or len(out) > len(table):
                raise bad
            out.append(current)
            current = table[current]
        return out

    directory = b"".join(sector(i) for i in chain(_u32(data, 0x30), fat))
    entries: list[tuple[str, int, int, int]] = []
    for offset in range(0, len(directory) - 127, 128):
        length = _u16(directory, offset + 0x40)
        name = directory[offset : offset + max(length - 2, 0)].decode("utf-16-le", "replace")
        kind = directory[offset + 0x42]
        start, stream_size = _u32(directory, offset + 0x74), _u32(directory, offset + 0x78)
        entries.append((name, kind, start, stream_size))
    if not entries:
        raise bad
    wanted = next((e for e in entries if e[1] == 2 and e[0].lower() in names), None)
    if wanted is None:
        raise SpreadsheetError("文件无法读取：不是 Excel 工作簿")
    _name, _kind, start, stream_size = wanted
    if stream_size >= _u32(data, 0x38):
        return b"".join(sector(i) for i in chain(start, fat))[:stream_size]
    root = entries[0]
    mini_stream = b"".join(sector(i) for i in chain(root[2], fat))
    mini_fat = array("I")
    for index in chain(_u32(data, 0x3C), fat) if _u32(data, 0x40) else []:
        mini_fat.frombytes(sector(index))
    if sys.byteorder == "big":
        mini_fat.byteswap()
    return b"".join(mini_stream[i * 64 : i * 64 + 64] for i in chain(start, mini_fat))[:stream_size]


def check_xls(path: str, limits: Limits) -> None:
    """The extent of every sheet's cells (what a reader lays out as one rectangle in memory)."""
    with open(path, "rb") as fh:
        data = fh.read(limits.max_bytes + 1)
    stream = ole_stream(data)
    del data
    # One extent per open substream (BOF … EOF; a chart's may sit inside a sheet's):
    # [first row, last row, first column, last column], or None before the first cell.
    stack: list[list[int] | None] = []
    extent: list[int] | None = None
    position, end = 0, len(stream)
    while position + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        position = body + length
        if kind in BIFF_BOF:
            stack.append(extent)
            extent = None
        elif kind == BIFF_EOF:
            if extent is not None:
                _check_xls_extent(extent, limits)
            extent = stack.pop() if stack else None
        elif (kind in BIFF_CELLS or kind == BIFF_MULRK) and length >= 6:
            row, column = _u16(stream, body), _u16(stream, body + 2)
            last = _u16(stream, body + length - 2) if kind == BIFF_MULRK else column
            if extent is None:
                extent = [row, row, column, last]
            else:
                extent[0], extent[1] = min(extent[0], row), max(extent[1], row)
                extent[2], extent[3] = min(extent[2], column), max(extent[3], last)
    for pending in [extent, *stack]:
        if pending is not None:
            _check_xls_extent(pending, limits)


def _check_xls_extent(extent: list[int], limits: Limits) -> None:
    first_row, last_row, first_column, last_column = extent
    check_extent("", last_row - first_row + 1, last_column - first_column + 1, limits)
