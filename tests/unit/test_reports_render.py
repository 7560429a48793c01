"""Every renderer draws the same document: HTML escapes what people typed, CSV opens in
Excel with Chinese intact, XLSX keeps numbers as numbers, PDF carries the Chinese text."""

from __future__ import annotations

import io

import openpyxl
from pypdf import PdfReader

from reports.document import Chart, ReportDocument, Section, Table
from reports.render_files import render_csv, render_pdf, render_xlsx
from reports.render_html import render_html
from reports.render_svg import HEIGHT, PAD_BOTTOM, PAD_TOP, chart_svg


def sample() -> ReportDocument:
    return ReportDocument(
        "工单统计周报",
        "2025-07-07 至 2025-07-13",
        sections=[
            Section(
                "热点",
                tables=[
                    Table("热点问题", ["热点", "工单数"], [["<script>alert(1)</script>", 3]]),
                    Table("热点问题", ["热点", "工单数"], [["门诊报销慢", 2]]),
                ],
                charts=[Chart("工单数", ["周一", "周二"], {"工单数": [3.0, 2.0]})],
            )
        ],
        footnotes=["按北京时间统计。"],
    )


def test_html_escapes_text_typed_by_citizens_and_carries_an_inline_chart() -> None:
    page = render_html(sample(), downloads={"CSV": "/reports/x?format=csv&a=1"})
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<meta charset="utf-8">' in page and "<svg" in page
    assert 'href="/reports/x?format=csv&amp;a=1"' in page
    assert "按北京时间统计。" in page


def test_bar_chart_draws_one_bar_per_value_scaled_to_a_round_axis() -> None:
    svg = chart_svg(Chart("c", ["a", "b", "c"], {"n": [4.0, 2.0, 0.0]}))
    bars = svg.split('<rect class="bar"')[1:]
    heights = [float(part.split('height="')[1].split('"')[0]) for part in bars]
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    assert heights == [plot * 4 / 5, plot * 2 / 5, 0.0]  # the axis runs to 5
    assert ">5</text>" in svg and ">4</text>" in svg  # the top tick; the value on its bar


def test_csv_has_a_byte_order_mark_for_excel() -> None:
    body = render_csv(sample())
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert "热点 / 热点问题" in text and "门诊报销慢,2" in text


def test_xlsx_sheets_are_unique_and_numbers_stay_numbers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(sample())))
    assert book.sheetnames == ["热点问题", "热点问题_2", "图_工单数", "口径说明"]
    assert book["热点问题_2"].cell(row=4, column=2).value == 2
    # The chart's own sheet: its figures, and a native chart drawn over them.
    chart_sheet = book["图_工单数"]
    assert len(chart_sheet._charts) == 1
    assert chart_sheet.cell(row=2, column=1).value is not None


def test_pdf_carries_the_chinese_text() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(sample())))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "工单统计周报" in text and "门诊报销慢" in text
