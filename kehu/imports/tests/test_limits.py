"""Uploads that could exhaust the server (issue 10, "Spreadsheet memory bombs"): each file is
generated here, refused with a Chinese reason before or while its cells stream, and the
parsing child's peak memory stays far below 300 MB. The web request's own checks read only the
zip's directory and the sheets' first KB."""

from __future__ import annotations

import dataclasses
import io
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.imports.limits import Limits, SpreadsheetError, check_upload
from kehu.imports.models import ImportJob
from kehu.imports.sandbox import ParsedFile

from .bombs import MAIN, data_row, header_row, padded_sheet, sheet_xml, write_xlsx

PEAK_LIMIT_KB = 300 * 1024
REQUEST_PEAK_BYTES = 5 * 1024 * 1024

# name → (writer, where it is refused: "request" or "worker", the reason)
XLSX_BOMBS = {
    # ~300 KB on disk, 300 MB of sheet XML once unpacked.
    "unzips-to-300mb": (
        lambda p: write_xlsx(p, padded_sheet(300)),
        "request",
        "文件解压后过大（超过200MB），可能是异常文件",
    ),
    # ~50 KB packing 50 MB at 1000:1.
    "ratio-1000-to-1": (lambda p: write_xlsx(p, padded_sheet(50)), "request", "文件压缩比异常"),
    "declares-1048576-rows": (
        lambda p: write_xlsx(p, sheet_xml(header_row() + data_row(2), dimension="A1:C1048576")),
        "request",
        "有1048576行，超过100000行的上限",
    ),
    "declares-16384-columns": (
        lambda p: write_xlsx(p, sheet_xml(header_row() + data_row(2), dimension="A1:XFD3")),
        "request",
        "有16384列，超过100列的上限",
    ),
    "1001-members": (
        lambda p: write_xlsx(p, sheet_xml(header_row() + data_row(2)), extra_members=1001),
        "request",
        "个部件，超过1000个",
    ),
    # 1.6 KB: a small declared dimension, one cell at XFD1048576 (the reader used before laid
    # the sheet out as one 17-billion-cell rectangle: 550 GB).
    "lying-dimension-cell-at-XFD1048576": (
        lambda p: write_xlsx(
            p,
            sheet_xml(
                header_row()
                + data_row(2)
                + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
                dimension="A1:C2",
            ),
        ),
        "worker",
        "第1048576行在第16384列还有数据，超过100列的上限",
    ),
    "cell-at-row-1048576": (
        lambda p: write_xlsx(
            p,
            sheet_xml(
                header_row() + data_row(2) + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'
            ),
        ),
        "worker",
        "的数据超过100000行的上限",
    ),
    "cell-of-100000-characters": (
        lambda p: write_xlsx(p, sheet_xml(header_row() + data_row(2, "长" * 100_000))),
        "worker",
        "第2行A列的内容超过2000个字符",
    ),
    "shared-string-of-100000-characters": (
        lambda p: write_xlsx(
            p,
            sheet_xml(header_row() + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'),
            shared=["长" * 100_000],
        ),
        "worker",
        "第2行A列的内容超过2000个字符",
    ),
    "row-of-300-cells": (
        lambda p: write_xlsx(
            p,
            sheet_xml(
                header_row()
                + '<row r="2">'
                + '<c t="inlineStr"><is><t>x</t></is></c>' * 300
                + "</row>"
            ),
        ),
        "worker",
        "第2行在第101列还有数据",
    ),
    "entity-expansion": (
        lambda p: write_xlsx(
            p,
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row r="1">'
            b'<c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>',
        ),
        "worker",
        "不允许的 XML 声明",
    ),
}


def child_parse(path: Path, name: str, limits: Limits | None = None):
    """(refusal or None, rows, the child's peak KB)."""
    try:
        with ParsedFile(str(path), name, limits or Limits.from_settings()) as parsed:
            rows = list(parsed.rows())
            return None, rows, parsed.peak_kb
    except SpreadsheetError as exc:
        return exc.message, None, exc.peak_kb


def request_check(path: Path, name: str):
    """(refusal or None, Python heap peak in bytes) of the web request's pre-parse check."""
    tracemalloc.start()
    try:
        check_upload(str(path), name, path.stat().st_size, Limits.from_settings())
        message = None
    except SpreadsheetError as exc:
        message = exc.message
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return message, peak


@pytest.mark.parametrize("bomb", list(XLSX_BOMBS))
def test_xlsx_bombs_are_refused_in_chinese_with_bounded_memory(bomb, tmp_path, org, create, capsys):
    make, where, reason = XLSX_BOMBS[bomb]
    path = make(tmp_path / f"{bomb}.xlsx")
    assert path.stat().st_size < 400 * 1024

    message, request_peak = request_check(path, path.name)
    assert request_peak < REQUEST_PEAK_BYTES
    if where == "request":
        assert message and reason in message
    else:
        assert message is None  # only the cells tell

    refusal, rows, peak_kb = child_parse(path, path.name)
    assert refusal and reason in refusal and rows is None
    assert peak_kb is not None and peak_kb < PEAK_LIMIT_KB
    with capsys.disabled():
        print(f"\n  {bomb}: {path.stat().st_size:,} bytes, parser peak {peak_kb / 1024:.1f} MB")

    upload = SimpleUploadedFile(path.name, path.read_bytes())
    kwargs = {"actor": org["sales1"], "target": "users", "user_ids": [org["sales1"].pk]}
    if where == "request":
        with pytest.raises(ApplicationError) as exc:
            create(upload=upload, **kwargs)
        assert exc.value.status == 400 and reason in exc.value.message
        assert ImportJob.objects.count() == 0
    else:
        job = create(upload=upload, **kwargs)
        assert job.status == "failed" and reason in job.message
        assert ImportJob.objects.count() == 1
    assert Customer.objects.count() == 0


def xls_bytes(cells: list[tuple[int, int, object]]) -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("客户")
    for row, column, value in cells:
        ws.write(row, column, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEAD = [(0, 0, "客户名称"), (0, 1, "联系人"), (0, 2, "联系电话")]
OTHER_BOMBS = {
    # The old reader laid this out as 65,536 × 256 cells (537 MB) before reading one.
    "corner-cell.xls": (xls_bytes([*HEAD, (65535, 255, "x")]), "有256列，超过100列的上限"),
    "long-cell.xls": (xls_bytes([*HEAD, (1, 0, "长" * 30_000)]), "第2行A列的内容超过2000个字符"),
    "wide.csv": (
        ("客户名称,联系人,联系电话\n" + ",".join("x" * 101) + "\n").encode(),
        "第2行有101列",
    ),
    "long-field.csv": (
        ("客户名称,联系人,联系电话\n" + "长" * 100_000 + ",张三,13900000000\n").encode(),
        "第2行有单元格超过2000个字符",
    ),
    "no-separators.csv": (b"x" * 5_000_000, "第1行有单元格超过2000个字符"),
}


@pytest.mark.parametrize("bomb", list(OTHER_BOMBS))
def test_xls_and_csv_bombs_are_refused_while_streaming(bomb, tmp_path, org, create, capsys):
    content, reason = OTHER_BOMBS[bomb]
    path = tmp_path / bomb
    path.write_bytes(content)
    refusal, rows, peak_kb = child_parse(path, bomb)
    assert refusal and reason in refusal
    assert peak_kb is not None and peak_kb < PEAK_LIMIT_KB
    with capsys.disabled():
        print(f"\n  {bomb}: {len(content):,} bytes, parser peak {peak_kb / 1024:.1f} MB")
    job = create(
        actor=org["sales1"],
        upload=SimpleUploadedFile(bomb, content),
        target="users",
        user_ids=[org["sales1"].pk],
    )
    assert job.status == "failed" and reason in job.message and not job.resumable
    assert Customer.objects.count() == 0


def test_csv_rows_and_columns_are_counted_while_streaming(tmp_path, settings):
    path = tmp_path / "rows.csv"
    path.write_bytes(("客户名称,联系人,联系电话\n" + "甲公司,张三,13900000000\n" * 12).encode())
    limits = dataclasses.replace(Limits.from_settings(), max_rows=10)
    refusal, _rows, _peak = child_parse(path, "rows.csv", limits)
    assert refusal == "数据行超过10行，请拆分后再导入"
    # Trailing empty columns (a sheet saved with formatting) are not columns of data.
    path.write_bytes(
        ("客户名称,联系人,联系电话" + "," * 500 + "\n甲公司,张三,13900000000,,\n").encode()
    )
    refusal, rows, _peak = child_parse(path, "rows.csv")
    assert refusal is None and rows == [(2, ["甲公司", "张三", "13900000000"])]


def test_the_parser_has_a_memory_ceiling(tmp_path):
    """Whatever a file does that no check foresaw, the child cannot take the server's memory:
    past its address-space ceiling it stops, and the user reads why."""
    rows = "".join(data_row(n, f"公司{n}", f"139{n:08d}") for n in range(2, 3000))
    path = write_xlsx(tmp_path / "ok.xlsx", sheet_xml(header_row() + rows))
    refusal, parsed, _peak = child_parse(path, "ok.xlsx")
    assert refusal is None and len(parsed) == 2998
    tiny = dataclasses.replace(Limits.from_settings(), memory_mb=1)
    refusal, parsed, _peak = child_parse(path, "ok.xlsx", tiny)
    assert refusal == "文件解析时超出内存上限（1MB），可能是异常文件，已停止处理"


def test_prefixed_names_shared_strings_title_row_and_a_later_sheet_are_read(tmp_path):
    """Workbooks written by other programs: ``x:`` prefixes, shared strings, Excel's ``_x0000_``
    escapes (dropped like any control character), a title row, the customer sheet not first."""
    rows = header_row(2) + data_row(3, "甲公司") + data_row(4, "乙_x0000_公司", "13900000001")
    path = write_xlsx(
        tmp_path / "x.xlsx",
        sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>客户导入表</t></is></c></row>' + rows,
            prefix="x",
        ),
    )
    refusal, parsed, _peak = child_parse(path, "x.xlsx")
    assert refusal is None
    assert parsed == [
        (3, ["甲公司", "张三", "13900000000"]),
        (4, ["乙公司", "张三", "13900000001"]),
    ]

    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="s"><v>3</v></c>'
        '<c r="B2" t="s"><v>4</v></c><c r="C2"><v>1.5263698652E10</v></c></row>'
    )
    path = write_xlsx(
        tmp_path / "s.xlsx",
        sheet_xml(sheet),
        shared=["客户名称", "联系人", "联系电话", "丙_x0001_公司", "李四"],
    )
    refusal, parsed, _peak = child_parse(path, "s.xlsx")
    assert refusal is None and parsed == [(2, ["丙公司", "李四", "15263698652"])]

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "填写说明"
    wb.active.append(["列", "说明"])
    customers = wb.create_sheet("客户")
    customers.append(["2026年客户名单"])
    customers.append(["客户名称", "联系人", "联系电话"])
    customers.append(["丁公司", "王五", "13900000002"])
    wb.save(tmp_path / "later.xlsx")
    refusal, parsed, _peak = child_parse(tmp_path / "later.xlsx", "later.xlsx")
    assert refusal is None and parsed == [(3, ["丁公司", "王五", "13900000002"])]


def test_a_large_file_is_read_in_the_child_and_the_worker_stays_small(
    tmp_path, org, create, run, capsys
):
    """The worker (here, the test process) holds one batch at a time and gets back to where it
    started; the cells are parsed by the child."""
    rows = "".join(data_row(n, f"大文件客户{n}有限公司", f"139{n:08d}") for n in range(2, 5002))
    path = write_xlsx(tmp_path / "big.xlsx", sheet_xml(header_row() + rows))
    upload = SimpleUploadedFile("big.xlsx", path.read_bytes())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    job = create(actor=org["admin"], upload=upload, target="pool")
    job = run(job, org["admin"])
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (job.status, job.total, job.created) == ("finished", 5000, 5000)
    with capsys.disabled():
        print(
            f"\n  5,000 rows preview + run: worker heap peak +{(peak - before) / 2**20:.1f} MB, "
            f"after the job +{(after - before) / 2**20:.1f} MB"
        )
    assert peak - before < 60 * 1024 * 1024
    assert after - before < 8 * 1024 * 1024
