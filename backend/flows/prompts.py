"""The production flows: the lines' flows with the prompt texts administrators edited."""

from __future__ import annotations

from backend.flows.loader import load_line_flows
from backend.flows.prompt_texts import apply_overrides, load_overrides, overrides_path
from backend.flows.schema import Flow
from backend.settings import Settings


def production_flows(settings: Settings) -> dict[str, Flow]:
    """The lines' flows with the prompt texts administrators edited in the desk."""
    overrides = load_overrides(overrides_path(settings))
    return {line: apply_overrides(flow, overrides) for line, flow in load_line_flows().items()}


def overrides_version(settings: Settings) -> tuple[int, int, int]:
    """Changes whenever an administrator saves a prompt text ((0, 0, 0) when none was ever
    saved). The file's inode with its time and size: a save replaces the file, so two saves
    within one tick of the file system's clock still differ."""
    try:
        stat = overrides_path(settings).stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)
