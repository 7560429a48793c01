"""A report page: tables, inline SVG charts, footnotes and download links, UTF-8."""

from __future__ import annotations

from html import escape

from reports.document import ReportDocument
from reports.render_svg import chart_svg

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f0f3f8}td.n{text-align:right}.notes{font-size:12px;color:#555}
nav a{margin-right:12px}
"""


def render_html(doc: ReportDocument, *, downloads: dict[str, str] | None = None) -> str:
    out = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1><p>{escape(doc.subtitle)}</p>",
    ]
    if downloads:
        links = "".join(f'<a href="{escape(url)}">{escape(k)}</a>' for k, url in downloads.items())
        out.append(f"<nav>下载：{links}</nav>")
    for section in doc.sections:
        out.append(f"<h2>{escape(section.title)}</h2>")
        for chart in section.charts:
            out.append(f"<figure>{chart_svg(chart)}<figcaption>{escape(chart.title)}")
            out.append("</figcaption></figure>")
        for table in section.tables:
            out.append(f"<h3>{escape(table.title)}</h3><table><thead><tr>")
            out.extend(f"<th>{escape(c)}</th>" for c in table.columns)
            out.append("</tr></thead><tbody>")
            for row in table.rows:
                cells = "".join(
                    f'<td class="n">{escape(str(v))}</td>'
                    if isinstance(v, int | float)
                    else f"<td>{escape('' if v is None else str(v))}</td>"
                    for v in row
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
        out.extend(f'<p class="notes">{escape(n)}</p>' for n in section.notes)
    if doc.footnotes:
        out.append('<h2>口径说明</h2><ol class="notes">')
        out.extend(f"<li>{escape(n)}</li>" for n in doc.footnotes)
        out.append("</ol>")
    out.append("</body></html>")
    return "".join(out)
