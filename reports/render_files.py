"""Downloads of a report: CSV (UTF-8 with BOM so that Excel reads Chinese), XLSX and PDF."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from reports.document import Cell, Chart, ReportDocument, Table
from reports.render_charts import add_xlsx_chart, chart_drawing
from reports.xlsx_text import xlsx_safe

CJK_FONT = "STSong-Light"  # reportlab's built-in CID font: no font file needed


def _tables(doc: ReportDocument) -> Iterator[tuple[str, Table]]:
    for section in doc.sections:
        for table in section.tables:
            yield section.title, table


def _charts(doc: ReportDocument) -> Iterator[Chart]:
    for section in doc.sections:
        yield from section.charts


def render_csv(doc: ReportDocument) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_text(doc.title)])
    writer.writerow([_text(doc.subtitle)])
    for section_title, table in _tables(doc):
        writer.writerow([])
        writer.writerow([_text(f"{section_title} / {table.title}")])
        writer.writerow([_text(c) for c in table.columns])
        writer.writerows([_text(v) for v in row] for row in table.rows)
    writer.writerow([])
    writer.writerows([_text(note)] for note in doc.footnotes)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# A spreadsheet opening a CSV runs a cell beginning with one of these as a formula
# (=HYPERLINK(...), +cmd|..., @SUM(...)); citizens' work-order titles reach the exports, so such
# a cell is written with a leading apostrophe, which spreadsheets show as text and do not run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Cell) -> str:
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _xlsx_value(value: Cell) -> Cell:
    return xlsx_safe(value)


def _append(sheet: Worksheet, cells: list[Cell]) -> None:
    """One row; text stays text: openpyxl would store a string beginning with "=" as a
    formula, which Excel then runs (a citizen's work-order title must never be code)."""
    sheet.append([_xlsx_value(c) for c in cells])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def render_xlsx(doc: ReportDocument) -> bytes:
    """One sheet per table, one per chart (its figures and a native chart), plus a sheet of
    footnotes; numbers stay numbers."""
    book = Workbook()
    first = True
    used: set[str] = set()
    for _section, table in _tables(doc):
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = _sheet_name(table.title, used)
        _append(sheet, [doc.title])
        _append(sheet, [table.title])
        _append(sheet, list(table.columns))
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            _append(sheet, list(row))
    for chart in _charts(doc):
        add_xlsx_chart(book.create_sheet(_sheet_name("图_" + chart.title, used)), chart)
    notes = book.create_sheet("口径说明")
    _append(notes, [doc.subtitle])
    for note in doc.footnotes:
        _append(notes, [note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", xlsx_safe(title))[:28] or "表"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base[:25]}_{n}"
    used.add(name)
    return name


def render_pdf(doc: ReportDocument) -> bytes:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    h1 = ParagraphStyle("h1", fontName=CJK_FONT, fontSize=16, leading=22)
    h2 = ParagraphStyle("h2", fontName=CJK_FONT, fontSize=12, leading=18, spaceBefore=8)
    body = ParagraphStyle("body", fontName=CJK_FONT, fontSize=8, leading=11)
    story: list[object] = [Paragraph(doc.title, h1), Paragraph(doc.subtitle, body)]
    for section in doc.sections:
        story.append(Paragraph(section.title, h2))
        for table in section.tables:
            story.append(Paragraph(table.title, body))
            data = [table.columns] + [[_text(v) for v in row] for row in table.rows]
            pdf_table = PdfTable(data, repeatRows=1)
            pdf_table.setStyle(
                TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), CJK_FONT),
                        ("FONTSIZE", (0, 0), (-1, -1), 7),
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f3f8")),
                    ]
                )
            )
            story += [pdf_table, Spacer(1, 6)]
        for chart in section.charts:
            story += [chart_drawing(chart, CJK_FONT), Spacer(1, 6)]
        story.extend(Paragraph(note, body) for note in section.notes)
    story.append(Paragraph("口径说明", h2))
    story.extend(Paragraph(note, body) for note in doc.footnotes)
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=doc.title).build(story)
    return out.getvalue()
