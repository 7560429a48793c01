"""A report as HTML: tables, inline SVG charts, headline figures, footnotes, UTF-8.

``render_body`` is the report's part of a page (the desk puts it inside its own layout, with
its form and navigation, and says where a figure's calls are listed: ``drill_url``);
``render_html`` is a standalone page (archived and e-mailed editions).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from reports.document import Cell, Drill, ReportDocument, Table
from reports.render_svg import chart_svg

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f0f3f8}td.n{text-align:right}.notes{font-size:12px;color:#555}
nav a{margin-right:12px}.headline{display:flex;gap:12px;flex-wrap:wrap}
.headline div{border:1px solid #ccc;padding:6px 12px}.headline b{display:block;font-size:22px}
"""
DrillUrl = Callable[[Drill], str]


def render_html(doc: ReportDocument, *, downloads: dict[str, str] | None = None) -> str:
    out = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1><p>{escape(doc.subtitle)}</p>",
    ]
    if downloads:
        links = "".join(f'<a href="{escape(url)}">{escape(k)}</a>' for k, url in downloads.items())
        out.append(f"<nav>下载：{links}</nav>")
    out.append(render_body(doc))
    out.append("</body></html>")
    return "".join(out)


def render_body(doc: ReportDocument, drill_url: DrillUrl | None = None) -> str:
    """The report's headline, sections and footnotes; figures link to their calls when
    ``drill_url`` is given."""
    out = [_headline(doc, drill_url)]
    for section in doc.sections:
        out.append(f'<section class="report-section"><h2>{escape(section.title)}</h2>')
        for chart in section.charts:
            out.append(f'<figure class="chart">{chart_svg(chart)}<figcaption>')
            out.append(f"{escape(chart.title)}</figcaption></figure>")
        out.extend(_table(table, drill_url) for table in section.tables)
        out.extend(f'<p class="notes">{escape(n)}</p>' for n in section.notes)
        out.append("</section>")
    if doc.footnotes:
        out.append('<section class="report-section"><h2>口径说明</h2><ol class="notes">')
        out.extend(f"<li>{escape(n)}</li>" for n in doc.footnotes)
        out.append("</ol></section>")
    return "".join(out)


def _headline(doc: ReportDocument, drill_url: DrillUrl | None) -> str:
    if not doc.headline:
        return ""
    tiles = []
    for figure in doc.headline:
        value = escape(figure.value)
        if drill_url is not None and figure.drill is not None:
            value = f'<a href="{escape(drill_url(figure.drill))}">{value}</a>'
        tiles.append(f"<div><span>{escape(figure.label)}</span><b>{value}</b></div>")
    return f'<div class="headline">{"".join(tiles)}</div>'


def _table(table: Table, drill_url: DrillUrl | None) -> str:
    out = [f"<h3>{escape(table.title)}</h3>", f'<table data-title="{escape(table.title)}">']
    out.append("<thead><tr>")
    out.extend(f"<th>{escape(c)}</th>" for c in table.columns)
    out.append("</tr></thead><tbody>")
    kinds = [table.drill_columns.get(c) for c in table.columns]
    for index, row in enumerate(table.rows):
        scope = table.drill_rows.get(index) if drill_url is not None else None
        cells = []
        for kind, value in zip(kinds, row, strict=False):
            link = (
                drill_url({**scope, "kind": kind})
                if drill_url and scope is not None and kind
                else None
            )
            cells.append(_cell(value, link))
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(value: Cell, link: str | None) -> str:
    text = escape("" if value is None else str(value))
    if link is not None:
        text = f'<a class="drill" href="{escape(link)}">{text}</a>'
    if isinstance(value, int | float):
        return f'<td class="n">{text}</td>'
    return f"<td>{text}</td>"
