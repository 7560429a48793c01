"""Free text with control characters (citizens' work-order titles) still exports to XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from reports.document import ReportDocument, Section, Table
from reports.render_files import render_xlsx


def test_control_characters_are_dropped_and_the_rest_kept() -> None:
    table = Table("工单\x01明细", ["标题", "数量"], [["医保\x00报销\x1f咨询", 3]])
    doc = ReportDocument("工单报表", "2026年11月", [Section("明细", [table])], ["说明\x0b"])
    book = load_workbook(io.BytesIO(render_xlsx(doc)))
    sheet = book.worksheets[0]
    assert sheet.title == "工单明细"
    assert sheet.cell(row=4, column=1).value == "医保报销咨询"
    assert sheet.cell(row=4, column=2).value == 3
