"""The charts of a report in its files: a reportlab drawing in the PDF, a native chart (with
its figures beside it) in the XLSX. The HTML page draws the same ``Chart`` as SVG
(``render_svg``); all three read the same plain data, so they show the same numbers."""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from reports.document import Chart
from reports.render_svg import PALETTE
from reports.xlsx_text import xlsx_safe

PDF_WIDTH, PDF_HEIGHT = 480, 220
# Category labels are thinned out past this many, as on the page, so that they stay legible.
PDF_MAX_LABELS = 16


def chart_drawing(chart: Chart, font: str) -> Drawing:
    """The chart as a reportlab drawing (vector graphics inside the PDF)."""
    drawing = Drawing(PDF_WIDTH, PDF_HEIGHT)
    plot = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 40, 50, PDF_WIDTH - 60, PDF_HEIGHT - 80
    names = list(chart.series)
    plot.data = [tuple(chart.series[name]) or (0,) for name in names] or [(0,)]
    every = max(1, -(-len(chart.labels) // PDF_MAX_LABELS))
    plot.categoryAxis.categoryNames = [
        label if i % every == 0 else "" for i, label in enumerate(chart.labels)
    ] or [""]
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 6
    plot.valueAxis.labels.fontSize = 6
    plot.valueAxis.valueMin = 0
    for i in range(len(names)):
        colour = colors.HexColor(PALETTE[i % len(PALETTE)])
        if isinstance(plot, VerticalBarChart):
            plot.bars[i].fillColor = colour
        else:
            plot.lines[i].strokeColor = colour
    drawing.add(plot)
    title = f"{chart.title}（{chart.unit}）" if chart.unit else chart.title
    drawing.add(String(40, PDF_HEIGHT - 16, title, fontName=font, fontSize=9))
    drawing.add(_legend(names, font))
    return drawing


def _legend(names: list[str], font: str) -> Legend:
    legend = Legend()
    legend.x, legend.y = 40, 18
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[i % len(PALETTE)]), name) for i, name in enumerate(names)
    ]
    return legend


def add_xlsx_chart(sheet: Worksheet, chart: Chart) -> None:
    """Write the chart's figures (labels down column A, one column per series) at the top of
    ``sheet`` and a native Excel chart over them beside the figures."""
    sheet.append(["", *(xlsx_safe(name) for name in chart.series)])
    for i, label in enumerate(chart.labels):
        sheet.append([xlsx_safe(label), *(values[i] for values in chart.series.values())])
    rows = len(chart.labels)
    native = BarChart() if chart.kind == "bar" else LineChart()
    native.title = xlsx_safe(chart.title)
    native.y_axis.title = xlsx_safe(chart.unit) or None
    native.width, native.height = 22, 10
    if rows and chart.series:
        last_col, last_row = 1 + len(chart.series), 1 + rows
        data = Reference(sheet, min_col=2, max_col=last_col, min_row=1, max_row=last_row)
        native.add_data(data, titles_from_data=True)
        native.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last_row))
    sheet.add_chart(native, f"{get_column_letter(len(chart.series) + 3)}2")
