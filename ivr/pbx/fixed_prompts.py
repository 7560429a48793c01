"""The few prompts the dialplan itself plays (the controller may be down when they are needed).

They are rendered like every other prompt, then copied to the fixed names the dialplan uses.
"""

from __future__ import annotations

import shutil

from backend.flows.schema import PromptText
from backend.settings import Settings
from backend.speech.tts import TtsRenderer

FIXED_PROMPTS = {
    "fallback-sorry": "您好，系统正在维护，正在为您转接人工服务，请稍候。",
    "fallback-retry": "非常抱歉，现在无法为您服务，请稍后再拨。谢谢。",
    "outbound-unavailable": "外呼暂时无法使用，请稍后再拨。",
}


def render_fixed_prompts(settings: Settings) -> None:
    """Write ``<sounds>/cc/<name>.wav`` for each fixed prompt that is not there yet."""
    target_dir = settings.effective_sounds_dir / "cc"
    renderer = TtsRenderer(settings)
    for name, text in FIXED_PROMPTS.items():
        target = target_dir / f"{name}.wav"
        if not target.exists():
            rendered = renderer.host_file(renderer.render(PromptText(None, text)))
            shutil.copyfile(rendered, target)
