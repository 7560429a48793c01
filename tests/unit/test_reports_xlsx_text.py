"""Free text in exports (citizens' work-order titles): control characters dropped, formulas
kept as text so that a spreadsheet never runs them."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from reports.document import ReportDocument, Section, Table
from reports.render_files import render_csv, render_xlsx


def test_control_characters_are_dropped_and_the_rest_kept() -> None:
    table = Table("工单\x01明细", ["标题", "数量"], [["医保\x00报销\x1f咨询", 3]])
    doc = ReportDocument("工单报表", "2026年11月", [Section("明细", [table])], ["说明\x0b"])
    book = load_workbook(io.BytesIO(render_xlsx(doc)))
    sheet = book.worksheets[0]
    assert sheet.title == "工单明细"
    assert sheet.cell(row=4, column=1).value == "医保报销咨询"
    assert sheet.cell(row=4, column=2).value == 3


FORMULAS = ['=HYPERLINK("http://x","看")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"]


def test_formulas_in_free_text_stay_text_in_xlsx() -> None:
    table = Table("热点", ["标题", "数量"], [[text, 1] for text in FORMULAS] + [["正常", -4]])
    doc = ReportDocument("=1+1", "说明", [Section("明细", [table])], [])
    sheet = load_workbook(io.BytesIO(render_xlsx(doc))).worksheets[0]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == [*FORMULAS, "正常"]  # the text as written, not evaluated
    assert all(c.data_type == "s" for c in sheet["A"])  # no cell is a formula
    assert sheet.cell(row=1, column=1).value == "=1+1"
    assert rows[-1][1] == -4  # numbers stay numbers, negative ones too


def test_formulas_in_free_text_are_neutralised_in_csv() -> None:
    table = Table("热点", ["标题", "数量"], [[text, 1] for text in FORMULAS] + [["正常", -4]])
    doc = ReportDocument("工单报表", "=1+1", [Section("明细", [table])], ["@note"])
    rows = list(csv.reader(io.StringIO(render_csv(doc).decode("utf-8-sig"))))
    titles = [row[0] for row in rows if len(row) == 2][1:]  # after the column header
    assert titles == [*("'" + t for t in FORMULAS), "正常"]
    assert ["正常", "-4"] in rows  # a number is not a formula: written as it is
    assert rows[1] == ["'=1+1"] and rows[-1] == ["'@note"]
