"""The few prompts the dialplan itself plays (the controller may be down when they are needed)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

FIXED_PROMPTS = {
    "fallback-sorry": "您好，系统正在维护，正在为您转接人工服务，请稍候。",
    "fallback-retry": "非常抱歉，现在无法为您服务，请稍后再拨。谢谢。",
}


def render_fixed_prompts(target_dir: Path, voice: str = "cmn") -> None:
    """Render each fixed prompt once (espeak-ng, then sox to 8 kHz mono 16-bit)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for name, text in FIXED_PROMPTS.items():
        target = target_dir / f"{name}.wav"
        if target.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
            subprocess.run(
                ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)], check=True
            )
