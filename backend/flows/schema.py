"""The YAML schema of an IVR flow: prompts by id, and nodes of a small set of kinds.

Nodes point at each other by name; ``loader.load_flow`` checks those references after the
field-level validation here, so that every error names the file, the node and the field.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.lines import LineHours

DIGITS = "0123456789*#"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class PromptText:
    """A prompt to be spoken: the flow's text, or text made up during the call."""

    id: str | None  # "<flow>/<prompt>"; None for text made up during the call
    text: str
    voice: str | None = None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MenuOption(_Strict):
    next: str
    intent: str = ""
    # Spoken phrases that select this option in a speech node bound to the menu.
    phrases: tuple[str, ...] = ()


class PlayNode(_Strict):
    kind: Literal["play"]
    prompt: str
    next: str | None = None
    # The caller got what they called for (e.g. report-query information): ending the call
    # after this counts as self-service rather than an abandon.
    serves: bool = False
    # The first key stops the prompt (a welcome): the caller who knows his key need not
    # hear it out. Either way the key is kept for the next input node (type-ahead).
    barge_in: bool = False


class MenuNode(_Strict):
    kind: Literal["menu"]
    prompt: str
    options: dict[str, MenuOption]
    timeout_ms: int = Field(default=5000, ge=500, le=60000)
    retries: int = Field(default=3, ge=1, le=10)
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    fallback: str

    @field_validator("options")
    @classmethod
    def _keys_are_digits(cls, value: dict[str, MenuOption]) -> dict[str, MenuOption]:
        if not value:
            raise ValueError("a menu needs at least one option")
        for key in value:
            if len(key) != 1 or key not in DIGITS:
                raise ValueError(f"option key {key!r} is not one phone key (0-9, *, #)")
        return value


class CollectNode(_Strict):
    kind: Literal["collect"]
    prompt: str
    store_as: str
    max_digits: int = Field(ge=1, le=32)
    min_digits: int = Field(default=1, ge=1, le=32)
    # GET DATA ends input on '#' (Asterisk hard-wires it), or when max_digits are typed.
    terminator: Literal["#"] = "#"
    timeout_ms: int = Field(default=10000, ge=1000, le=120000)
    validator: str = "digits"
    retries: int = Field(default=3, ge=1, le=10)
    invalid_prompt: str | None = None
    # Personal data (ID numbers) is masked in the call's IVR path.
    sensitive: bool = False
    next: str
    fallback: str


class SpeechNode(_Strict):
    kind: Literal["speech"]
    prompt: str
    # The menu whose options (keys, phrases, intents, next nodes) this node recognises.
    menu: str
    max_seconds: int = Field(default=6, ge=1, le=30)
    silence_seconds: int = Field(default=2, ge=1, le=10)
    min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    # Phrases that select nothing. A grammar recogniser forces whatever it hears onto some
    # phrase of its grammar (models without "[unk]" always do): decoys give off-menu speech
    # ("你好", "喂") a place to land other than a menu option.
    decoys: tuple[str, ...] = ()
    fallback: str


class TimeBranchNode(LineHours):
    """Open or closed by days, opens and closes: its own, or its line's (the loader fills
    those of the line registry into a time branch that gives none)."""

    kind: Literal["time_branch"]
    open: str
    closed: str


class CallerBranchNode(_Strict):
    kind: Literal["caller_branch"]
    blacklisted: str
    # A caller who called the line in the last 24 h (e.g. past the welcome).
    repeat: str | None = None
    # A caller known to be 65+ by real-name registration (敬老: straight to a person).
    elderly: str | None = None
    otherwise: str


class ElderlyModeNode(_Strict):
    kind: Literal["elderly_mode"]
    prompt: str | None = None
    next: str


class QueueNode(_Strict):
    kind: Literal["queue"]
    skill: str = Field(min_length=1, max_length=32)
    priority: int = Field(default=0, ge=0, le=100)
    elderly_priority: int | None = Field(default=None, ge=0, le=100)
    repeat_priority: int | None = Field(default=None, ge=0, le=100)
    intent: str = ""
    prompt: str | None = None
    # Where the caller goes when the agent hangs up first (the survey), and when no agent
    # could take the call (e.g. leave a message).
    after_agent: str | None = None
    fallback: str | None = None


class MessageNode(_Strict):
    kind: Literal["message"]
    prompt: str
    topic: str = Field(min_length=1, max_length=64)
    max_seconds: int = Field(default=120, ge=5, le=600)
    silence_seconds: int = Field(default=5, ge=1, le=30)
    saved_prompt: str | None = None
    next: str | None = None


class SurveyOutcome(enum.StrEnum):
    """How a survey node ended (call_records.survey_outcome; docs/survey.md)."""

    SCORED = "scored"  # a key 1..scale: the score is kept as the call's satisfaction
    NO_ANSWER = "no_answer"  # no key before the timeout
    INVALID = "invalid"  # a key outside 1..scale: no score kept
    HUNG_UP = "hung_up"  # the caller hung up during the survey


class SurveyNode(_Strict):
    kind: Literal["survey"]
    prompt: str
    # Keys 1..scale are the score; scale is the best.
    scale: int = Field(default=5, ge=2, le=9)
    timeout_ms: int = Field(default=8000, ge=1000, le=60000)
    thanks_prompt: str | None = None
    next: str | None = None


class BookingLookupNode(_Strict):
    kind: Literal["booking_lookup"]
    id_from: str
    code_from: str
    not_found_prompt: str
    found: str
    not_found: str


class BookingCancelNode(_Strict):
    kind: Literal["booking_cancel"]
    id_from: str
    code_from: str
    done_prompt: str
    refused_prompt: str
    next: str


class BookingSmsNode(_Strict):
    """The booking's text message sent again (rate-limited by the SMS requests), or, with
    ``action: opt_out``, no more reminders to the patient's registered number."""

    kind: Literal["booking_sms"]
    action: Literal["resend", "opt_out"] = "resend"
    id_from: str
    code_from: str
    done_prompt: str
    refused_prompt: str
    next: str


class HangupNode(_Strict):
    kind: Literal["hangup"]
    prompt: str | None = None


Node = Annotated[
    PlayNode
    | MenuNode
    | CollectNode
    | SpeechNode
    | TimeBranchNode
    | CallerBranchNode
    | ElderlyModeNode
    | QueueNode
    | MessageNode
    | SurveyNode
    | BookingLookupNode
    | BookingCancelNode
    | BookingSmsNode
    | HangupNode,
    Field(discriminator="kind"),
]


class Flow(_Strict):
    """One line's flow. ``name`` is also the folder of its recorded prompts."""

    name: str
    line: str
    description: str = ""
    # espeak-ng voice; None uses the setting CC_TTS_VOICE.
    voice: str | None = None
    # None: the centre's time zone (CC_TIMEZONE), which the controller hands the engine.
    timezone: str | None = None
    start: str
    prompts: dict[str, str]
    nodes: dict[str, Node]
    # How the desk names each node in the caller's IVR path (node id -> Chinese label).
    labels: dict[str, str] = {}

    def label(self, node: str) -> str:
        return self.labels.get(node, node)

    @field_validator("name", "line")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", value):
            raise ValueError("use letters, digits, '-' and '_' only")
        return value

    @field_validator("prompts")
    @classmethod
    def _prompt_texts(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not _NAME.match(key):
                raise ValueError(f"prompt id {key!r} must be a plain identifier")
            if not text.strip():
                raise ValueError(f"prompt {key!r} has no text")
        return value

    @field_validator("nodes")
    @classmethod
    def _node_names(cls, value: dict[str, Node]) -> dict[str, Node]:
        for key in value:
            if not _NAME.match(key):
                raise ValueError(f"node name {key!r} must be a plain identifier")
        return value
