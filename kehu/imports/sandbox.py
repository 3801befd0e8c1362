"""Reading an upload in a child process with a memory ceiling (SPEC §13 "Uploads", issue 10).

The worker never parses a spreadsheet itself: ``ParsedFile`` starts
``python -m kehu.imports.sandbox`` with the limits, the child sets ``RLIMIT_AS`` and
``RLIMIT_CPU`` on itself, checks the file again (``limits.check_upload``), streams the cells —
its own expat reader for .xlsx (one row in memory, the shared strings and nothing else),
python-calamine for .xls once its extent passed, ``csv`` for .csv — finds the sheet and the
header row, and writes one JSON line per data row to its stdout. The parent reads the lines as
it goes (a full pipe pauses the child), so neither side holds the file; when the child ends,
whatever it used is given back to the system and the worker stays at its own size.

Every cell leaves the child as text with control characters dropped
(``customers.validation.strip_control_characters``): a NUL never reaches the database.

Lines: ``{"headers", "columns", "sheet", "line"}`` first, then ``[line, [cells…]]`` per data row
(``line`` is the row number in the sheet, the header's row counting), then ``{"end": {...}}`` —
or ``{"error": "中文原因"}`` at any point.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kehu.customers.validation import strip_control_characters

from .limits import (
    Limits,
    SpreadsheetError,
    check_upload,
    check_xls,
    check_xlsx,
    column_number,
    local,
    mb,
    read_member,
)

Row = tuple[int, list[str]]  # (line in the sheet, cells as text)
HEADER_SCAN_ROWS = 10  # non-empty rows looked at for the header before trying the next sheet
FORMULA_PREFIXES = ("=", "+", "-", "@")
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
CHILD_ENV = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONHASHSEED", "PYTHONIOENCODING"}


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def too_long(line: int, column: int, limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        f"第{line}行{column_letters(column)}列的内容超过{limits.max_cell_chars}个字符，"
        "可能是异常文件；请缩短后再导入"
    )


def cell_text(value) -> str:
    """A cell as the text the user typed: 15263698652.0 → "15263698652", escaped formulas
    unescaped, control characters dropped (tab and line breaks stay; single-line fields turn
    them into spaces when validated)."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    text = strip_control_characters(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    return text


# ---------------------------------------------------------------------------------------------
# .xlsx: expat over the zip members, one row at a time

CHUNK = 64 * 1024
# numFmt ids Excel shows as dates or times (ECMA-376 §18.8.30, with the CJK ones).
BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
QUOTED = re.compile(r"\"[^\"]*\"|\[[^\]]*\]|\\.")


XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """Excel's ``_x0000_`` escapes (how a workbook holds a control character) decoded, so the
    control character is then dropped rather than kept as visible text."""
    if "_x" not in text:
        return text
    return XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


class TooLong:
    """A shared string longer than a cell may be: refused if a customer row uses it."""


TOO_LONG = TooLong()


def _expat(start=None, end=None, chars=None):
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = CHUNK

    def refuse(*_args):
        raise SpreadsheetError("文件包含不允许的 XML 声明（DTD/实体），可能是异常文件")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if chars:
        parser.CharacterDataHandler = chars
    return parser


def _feed(archive: zipfile.ZipFile, path: str, parser, drain=None, finish=None) -> Iterator:
    from xml.parsers import expat

    try:
        with archive.open(path) as member:
            while True:
                chunk = member.read(CHUNK)
                parser.Parse(chunk, not chunk)
                if not chunk and finish is not None:
                    finish()
                if drain is not None:
                    yield from drain()
                if not chunk:
                    break
    except expat.ExpatError as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc


def shared_strings(archive: zipfile.ZipFile, path: str | None, limits: Limits) -> list:
    """The workbook's shared strings; one longer than a cell may be is kept as ``TOO_LONG``."""
    strings: list[Any] = []
    if not path:
        return strings
    state = {"depth_rph": 0, "capture": False, "parts": [], "size": 0}

    def start(name, _attrs):
        tag = local(name)
        if tag == "si":
            state["parts"], state["size"] = [], 0
        elif tag == "rPh":
            state["depth_rph"] += 1
        elif tag == "t" and not state["depth_rph"]:
            state["capture"] = True

    def chars(data):
        if state["capture"] and state["size"] <= limits.max_cell_chars:
            state["size"] += len(data)
            state["parts"].append(data)

    def end(name):
        tag = local(name)
        if tag == "t":
            state["capture"] = False
        elif tag == "rPh":
            state["depth_rph"] -= 1
        elif tag == "si":
            if state["size"] > limits.max_cell_chars:
                strings.append(TOO_LONG)
            else:
                text = cell_text(unescape("".join(state["parts"])))
                strings.append(TOO_LONG if len(text) > limits.max_cell_chars else text)
            state["parts"] = []
            if len(strings) > limits.max_shared_strings:
                raise SpreadsheetError(
                    f"文件中的文字条目超过{limits.max_shared_strings}条，可能是异常文件"
                )

    for _ in _feed(archive, path, _expat(start, end, chars)):
        pass
    return strings


def date_styles(archive: zipfile.ZipFile, path: str | None) -> set[int]:
    """Indexes of the cell formats (``s="…"``) that show a number as a date or time."""
    if not path:
        return set()
    custom: dict[int, str] = {}
    formats: list[int] = []
    state = {"in_xfs": False}

    def start(tag, attrs):
        if tag == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_xfs"] = True
        elif tag == "xf" and state["in_xfs"]:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    from .limits import parse_small_xml

    parse_small_xml(read_member(archive, path), start)
    dates = set()
    for index, fmt in enumerate(formats):
        code = custom.get(fmt)
        if code is not None:
            if DATE_CODE.search(QUOTED.sub("", code.split(";")[0])):
                dates.add(index)
        elif fmt in BUILTIN_DATE_FORMATS:
            dates.add(index)
    return dates


def excel_date(serial: float, date1904: bool):
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    moment = base + timedelta(days=serial)
    moment = moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))
    if moment.hour == moment.minute == moment.second == 0:
        return moment.date()
    return moment


class SheetReader:
    """expat handlers for one worksheet: rows with at least one value, as (line, cells).

    A sheet of 100,000 rows is millions of calls, so: no end-element handler (a cell ends when
    the next cell or row starts, or the sheet ends), closures over local variables, names
    compared as written (``c`` or ``x:c``, the prefix taken from the root element). A cell's text
    is what its ``<v>`` or inline ``<t>`` holds: ``<v>`` drops a formula's text before it, and
    any other element (``<f>``, a phonetic run, whatever follows the cells) stops the capture."""

    def __init__(self, name, strings, dates, date1904, limits: Limits):
        self.done: list[Row] = []
        done = self.done
        max_columns, max_lines = limits.max_columns, limits.max_lines
        max_chars = limits.max_cell_chars
        columns_of: dict[str, int] = {}
        C, V, T, ROW, IS, R = "c", "v", "t", "row", "is", "r"  # noqa: N806
        line = column = 0
        kind, style = "n", -1
        in_cell = capture = False
        size = 0
        parts: list[str] = []
        values: list[tuple[int, str]] = []

        def start(name, attrs):
            nonlocal line, column, kind, style, in_cell, capture, size
            nonlocal C, V, T, ROW, IS, R
            if name == C:
                if in_cell:
                    finish_cell()
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    found = columns_of.get(letters)
                    if found is None:
                        found = columns_of[letters] = column_number(letters.lstrip("$"))
                    column = found
                else:
                    column += 1
                kind = attrs.get("t", "n")
                s = attrs.get("s")
                style = int(s) if s and s.isdigit() else -1
                in_cell = capture = True
                size = 0
                parts.clear()
            elif name == V:
                parts.clear()
                size = 0
                capture = in_cell
            elif name == T:
                capture = in_cell
            elif name == ROW:
                if in_cell:
                    finish_cell()
                finish_row()
                number = attrs.get("r", "")
                line = int(number) if number.isdigit() else line + 1
                column = 0
            elif name in (IS, R):
                pass
            else:
                capture = False
                if ":" in name and name.endswith(":worksheet"):
                    prefix = name[: -len("worksheet")]
                    C, V, T, ROW, IS, R = (prefix + n for n in ("c", "v", "t", "row", "is", "r"))

        def chars(data):
            nonlocal size
            if capture:
                size += len(data)
                if size > max_chars + 64:
                    raise too_long(line, column, limits)
                parts.append(data)

        def finish_cell():
            nonlocal in_cell, capture
            in_cell = capture = False
            text = value()
            if not text:
                return
            if column > max_columns:
                raise SpreadsheetError(
                    f"工作表「{sheet_name}」第{line}行在第{column}列还有数据，"
                    f"超过{max_columns}列的上限，可能是异常文件"
                )
            if line > max_lines:
                raise SpreadsheetError(
                    f"工作表「{sheet_name}」的数据超过{limits.max_rows}行的上限，请拆分后再导入"
                )
            if len(text) > max_chars:
                raise too_long(line, column, limits)
            values.append((column, text))

        def finish_row():
            if values:
                cells = [""] * max(c for c, _ in values)
                for at, text in values:
                    cells[at - 1] = text
                done.append((line, cells))
                values.clear()

        def finish():
            if in_cell:
                finish_cell()
            finish_row()

        def value() -> str:
            raw = parts[0] if len(parts) == 1 else "".join(parts)
            parts.clear()
            if kind == "s":
                try:
                    found = strings[int(raw)]
                except (ValueError, IndexError):
                    return ""
                if found is TOO_LONG:
                    raise too_long(line, column, limits)
                return found
            if kind == "n":
                raw = raw.strip()
                if not raw:
                    return ""
                dated = style in dates
                if raw.isdigit() and not dated:
                    return raw
                try:
                    number = float(raw)
                except ValueError:
                    return cell_text(raw)
                if dated and 0 <= number < 2_958_466:
                    return cell_text(excel_date(number, date1904))
                return cell_text(number)
            if kind == "b":
                flag = raw.strip()
                return ("TRUE" if flag in {"1", "true"} else "FALSE") if flag else ""
            return cell_text(unescape(raw))  # inlineStr, str (a formula's text), e, d

        sheet_name = name
        self.start, self.chars, self.finish = start, chars, finish

    def drain(self) -> Iterator[Row]:
        if self.done:
            rows = self.done[:]
            self.done.clear()
            yield from rows


def xlsx_sheets(path: str, limits: Limits) -> Iterator[tuple[str, Iterator[Row]]]:
    with open(path, "rb") as fh:
        parts = check_xlsx(fh, limits)
        archive = zipfile.ZipFile(fh)
        strings = shared_strings(archive, parts.shared_strings, limits)
        dates = date_styles(archive, parts.styles)
        for sheet in parts.sheets:
            if not sheet.visible:
                continue
            reader = SheetReader(sheet.name, strings, dates, parts.date1904, limits)
            parser = _expat(reader.start, None, reader.chars)
            yield sheet.name, _feed(archive, sheet.path, parser, reader.drain, reader.finish)


# ---------------------------------------------------------------------------------------------
# .xls: python-calamine, once the cells' extent passed (calamine lays a sheet out in full)


def xls_sheets(path: str, limits: Limits) -> Iterator[tuple[str, Iterator[Row]]]:
    check_xls(path, limits)
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine reports corrupt, encrypted and foreign files alike
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise SpreadsheetError("文件设置了打开密码（已加密），请取消密码后再上传") from exc
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc
    for index, meta in enumerate(workbook.sheets_metadata):
        if str(meta.visible).rsplit(".", 1)[-1] != "Visible":
            continue
        if str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
            continue
        yield meta.name, _xls_rows(workbook, index, meta.name, limits)


def _xls_rows(workbook, index: int, name: str, limits: Limits) -> Iterator[Row]:
    try:
        sheet = workbook.get_sheet_by_index(index)
    except Exception as exc:
        raise SpreadsheetError("文件无法读取：格式不正确或已损坏") from exc
    first_row, first_column = sheet.start or (0, 0)
    if sheet.width > limits.max_columns or sheet.height > limits.max_lines:
        from .limits import check_extent

        check_extent(name, sheet.height, sheet.width, limits)
    for offset, raw in enumerate(sheet.iter_rows()):
        line = first_row + offset + 1
        cells = [cell_text(value) for value in raw]
        for column, text in enumerate(cells, start=first_column + 1):
            if len(text) > limits.max_cell_chars:
                raise too_long(line, column, limits)
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield line, cells


# ---------------------------------------------------------------------------------------------
# .csv: UTF-8 or GBK, one record at a time


def csv_sheets(path: str, limits: Limits) -> Iterator[tuple[str, Iterator[Row]]]:
    yield "", _csv_rows(path, limits)


def _csv_rows(path: str, limits: Limits) -> Iterator[Row]:
    with open(path, "rb") as fh:
        sample = fh.read(64 * 1024)
    encoding = "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        encoding = "gb18030"  # GBK and its superset
    # A field longer than this stops the reader before it is held (a file with no separators).
    csv.field_size_limit(limits.max_cell_chars * 2 + 16)
    line = 0
    with open(path, "rb") as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
        reader = csv.reader(text)
        try:
            for record in reader:
                line += 1
                while record and not record[-1].strip():
                    record.pop()
                if not record:
                    continue
                if len(record) > limits.max_columns:
                    raise SpreadsheetError(
                        f"第{line}行有{len(record)}列，超过{limits.max_columns}列的上限，"
                        "可能是异常文件"
                    )
                if line > limits.max_lines:
                    raise SpreadsheetError(f"数据超过{limits.max_rows}行的上限，请拆分后再导入")
                cells = [cell_text(value) for value in record]
                for column, value in enumerate(cells, start=1):
                    if len(value) > limits.max_cell_chars:
                        raise too_long(line, column, limits)
                yield line, cells
        except UnicodeDecodeError as exc:
            raise SpreadsheetError("CSV 文件编码无法识别，请另存为 UTF-8 或 GBK 编码") from exc
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise SpreadsheetError(
                    f"第{line + 1}行有单元格超过{limits.max_cell_chars}个字符，"
                    "可能是异常文件；请缩短后再导入"
                ) from exc
            raise SpreadsheetError(f"CSV 文件第{line + 1}行格式不正确") from exc


# ---------------------------------------------------------------------------------------------
# The sheet and its header row


def find_table(sheets: Iterable[tuple[str, Iterator[Row]]], limits: Limits) -> Iterator[Any]:
    """The header message, then the data rows, of the first sheet whose first rows hold the
    template's required headers (a title row above them is fine; so is an instructions sheet
    before it); the message names the sheet and the header's row, which the preview shows.
    Refused only when no sheet has them: the reason names the sheets looked at and what the
    closest row lacked."""
    from .spreadsheets import header_columns, missing_headers, normalize_header

    looked: list[str] = []
    best: list[str] | None = None  # the missing headers of the closest row
    for name, rows in sheets:
        looked.append(name)
        for seen, (line, cells) in enumerate(rows, start=1):
            headers = [normalize_header(c) for c in cells]
            columns = header_columns(headers)
            missing = missing_headers(columns)
            if not missing:
                yield {"headers": headers, "columns": columns, "sheet": name, "line": line}
                yield from _data(rows, len(headers), limits)
                return
            if best is None or len(missing) < len(best):
                best = missing
            if seen >= HEADER_SCAN_ROWS:
                break
        close = getattr(rows, "close", None)
        if close:
            close()
    if best is None:
        raise SpreadsheetError("文件中没有数据")
    named = [n for n in looked if n]
    where = f"工作表「{'」「'.join(named)}」的" if named else ""
    raise SpreadsheetError(
        f"不是客户导入模板：{where}前{HEADER_SCAN_ROWS}行中没有找到表头"
        f"（缺少「{'」「'.join(best)}」列），请下载模板后填写"
    )


def _data(rows: Iterator[Row], width: int, limits: Limits) -> Iterator[Any]:
    count = 0
    for line, cells in rows:
        cells = cells[:width]
        if not any(cells):
            continue
        count += 1
        if count > limits.max_rows:
            raise SpreadsheetError(f"数据行超过{limits.max_rows}行，请拆分后再导入")
        cells += [""] * (width - len(cells))
        yield [line, cells]


READERS = {".xlsx": xlsx_sheets, ".xls": xls_sheets, ".csv": csv_sheets}


def messages(path: str, name: str, limits: Limits) -> Iterator[Any]:
    ext = check_upload(path, name, os.path.getsize(path), limits)
    yield from find_table(READERS[ext](path, limits), limits)


# ---------------------------------------------------------------------------------------------
# The child


def peak_kb() -> int:
    """This process's peak resident memory (KB): ``VmHWM``, which belongs to this program alone
    (``ru_maxrss`` would also count the parent that forked it)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_main(argv: list[str]) -> int:
    import resource

    limits = Limits.from_json(argv[0])
    path, name = argv[1], argv[2]
    # Everything the readers load, loaded before the ceiling (it limits address space).
    import xml.parsers.expat  # noqa: F401

    if name.lower().endswith(".xls"):
        import python_calamine  # noqa: F401
    ceiling = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    out = sys.stdout.buffer
    rows = 0

    def write(message) -> None:
        out.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    try:
        for message in messages(path, name, limits):
            if isinstance(message, list):
                rows += 1
            write(message)
        write({"end": {"rows": rows, "peak_kb": peak_kb()}})
    except SpreadsheetError as exc:
        write({"error": exc.message, "peak_kb": peak_kb()})
    except MemoryError:
        write({"error": memory_message(limits), "peak_kb": peak_kb()})
    except BrokenPipeError:
        return 0  # the parent stopped reading
    except Exception as exc:  # an unreadable file of another kind; the detail goes to the log
        write(
            {
                "error": "文件无法读取：格式不正确或已损坏",
                "detail": repr(exc)[:500],
                "peak_kb": peak_kb(),
            }
        )
    with contextlib.suppress(BrokenPipeError):
        out.flush()
    return 0


def memory_message(limits: Limits) -> str:
    return (
        f"文件解析时超出内存上限（{mb(limits.memory_mb * 1024 * 1024)}），"
        "可能是异常文件，已停止处理"
    )


# ---------------------------------------------------------------------------------------------
# The parent


class ParsedFile:
    """The child's answer: ``headers``, ``columns`` and ``rows()``; close it (or use ``with``)."""

    def __init__(self, path: str, name: str, limits: Limits):
        self.limits = limits
        self.summary: dict[str, Any] = {}
        self.child_peak_kb: int | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        # Only what Python needs: the parser sees no database URL, key or token.
        env = {k: v for k, v in os.environ.items() if k in CHILD_ENV}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "kehu.imports.sandbox", limits.to_json(), path, name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=str(PROJECT_ROOT),
        )
        try:
            head = self._next()
            if not isinstance(head, dict) or "headers" not in head:
                raise SpreadsheetError("文件无法读取：格式不正确或已损坏")
        except BaseException:
            self.close()
            raise
        self.headers: list[str] = head["headers"]
        self.columns: dict[str, int] = head["columns"]
        self.sheet: str = head["sheet"]
        self.header_line: int = head["line"]

    def _next(self):
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._reap()
            raise self._error(self._death())
        message = json.loads(line)
        if isinstance(message, dict):
            if "error" in message:
                self.summary = message
                if message.get("detail"):
                    import logging

                    logging.getLogger(__name__).warning("import file refused: %s", message)
                self._reap()
                raise self._error(message["error"])
            if "end" in message:
                self.summary = message["end"]
                self._reap()
        return message

    def _error(self, message: str) -> SpreadsheetError:
        error = SpreadsheetError(message)
        error.peak_kb = self.peak_kb  # type: ignore[attr-defined]
        return error

    def _reap(self) -> None:
        """Wait for the child with ``wait4``: its own peak memory, even if it was killed."""
        if self._proc.returncode is not None:
            return
        _pid, status, usage = os.wait4(self._proc.pid, 0)
        self._proc.returncode = os.waitstatus_to_exitcode(status)
        self.child_peak_kb = usage.ru_maxrss

    def _death(self) -> str:
        code = self._proc.returncode
        if code is not None and code < 0 and -code in (signal.SIGXCPU, signal.SIGKILL):
            return "文件解析耗时过长，可能是异常文件，已停止处理"
        self._stderr.seek(0)
        detail = self._stderr.read()[-2000:].decode("utf-8", "replace")
        import logging

        logging.getLogger(__name__).warning("import parser ended with %s: %s", code, detail)
        return memory_message(self.limits)

    def rows(self) -> Iterator[Row]:
        while True:
            message = self._next()
            if isinstance(message, list):
                yield message[0], message[1]
            elif "end" in message:
                return

    def close(self) -> None:
        if self._proc.returncode is None:
            self._proc.kill()
            self._reap()
        if self._proc.stdout:
            self._proc.stdout.close()
        self._stderr.close()

    @property
    def peak_kb(self) -> int | None:
        """The child's peak resident memory (KB) once it has ended: its own report, or else (it
        was killed) ``wait4``'s figure, which also counts the parent's size at the fork."""
        return self.summary.get("peak_kb") or self.child_peak_kb

    def __enter__(self) -> ParsedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
