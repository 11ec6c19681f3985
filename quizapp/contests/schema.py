"""The contest file (`contests create FILE.yaml`): its schema, checked with line numbers."""

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from quizapp.text import CONTROL_CHARACTERS
from quizapp.yamlfile import LinedYAML, YAMLFileError, load_lined_yaml

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RankingStep = Literal["score", "prediction", "duration", "submitted_at", "attempt_id"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def no_control_characters(cls, value):
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and CONTROL_CHARACTERS.search(text) for text in texts):
            raise ValueError("control characters (such as NUL) are not allowed")
        return value


class DrawSpec(Strict):
    bank: str = Field(min_length=1)
    category: str = Field(min_length=1)
    count: int = Field(ge=1, le=200)
    difficulty: int | None = Field(default=None, ge=1, le=3)


class PredictionSpec(Strict):
    question: str = Field(min_length=1)
    target: Literal["participants", "perfect_scores"] = "participants"


class RoundSpec(Strict):
    title: str = Field(min_length=1, max_length=255)
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: int = Field(default=20, ge=1, le=600)
    max_attempts: int = Field(default=3, ge=1, le=100)
    daily_limit: int | None = Field(default=None, ge=1, le=100)
    counting: Literal["best", "last", "first"] = "best"
    review: Literal["none", "score", "after_close", "immediate"] = "after_close"
    grace_seconds: int = Field(default=15, ge=0, le=600)
    prediction: PredictionSpec | None = None
    draw: list[DrawSpec] = Field(min_length=1, max_length=50)

    @field_validator("opens_at", "closes_at")
    @classmethod
    def vietnam_time_unless_said(cls, value: datetime) -> datetime:
        """A time without an offset is Vietnam time."""
        return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value

    @model_validator(mode="after")
    def window_is_forward(self):
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class ContestSettings(Strict):
    """A contest without its rounds: what the contest page edits."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,98}$")
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    rules: str | None = None
    audience: list[str] = Field(default_factory=list)
    # Logins of organizer accounts who run the contest (whoever creates it is added).
    organizers: list[str] = Field(default_factory=list)
    self_registration: bool = False
    unit_rank_threshold: float = Field(default=0.5, ge=0, le=1)
    public_leaderboard: bool = False
    ranking: list[RankingStep] | None = None
    # Entered once by each participant before their first attempt; only its hash is stored.
    password: str | None = Field(default=None, min_length=4, max_length=128)

    @field_validator("ranking")
    @classmethod
    def steps_once(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each ranking step may appear only once")
        return value


class ContestSpec(ContestSettings):
    """A whole contest as its YAML file describes it."""

    rounds: list[RoundSpec] = Field(min_length=1)


class ContestFileError(ValueError):
    """Everything wrong with a contest file, each problem as "file:line: key: what"."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_contest_file(text: str, filename: str) -> tuple[ContestSpec, LinedYAML]:
    """Validate a contest file; raise ContestFileError naming each bad key and its line."""
    try:
        lined = load_lined_yaml(text)
    except YAMLFileError as error:
        raise ContestFileError([f"{filename}:{error.line or '?'}: {error.message}"]) from None
    if not isinstance(lined.data, dict):
        raise ContestFileError(
            [f"{filename}:1: the file must be a mapping with slug, title, rounds"]
        )
    try:
        return ContestSpec.model_validate(lined.data), lined
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            key = ".".join(str(part) for part in loc) or "(top)"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{filename}:{lined.line_of(loc) or '?'}: {key}: {message}")
        raise ContestFileError(problems) from None
