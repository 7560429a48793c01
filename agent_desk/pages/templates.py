"""The pages' Jinja templates, with what every page may use: the lines of the line registry
(``lines``: the line selects)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from backend.lines import LINES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def page_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["lines"] = LINES
    return templates
