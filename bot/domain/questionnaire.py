"""The onboarding questionnaire as data: loading, checking against Discord's limits, paging.

``data/questionnaire.toml`` holds the pages and questions; this module turns it into typed
objects, reports every problem at once, and answers the questions a conversation needs: which
page comes next for a role, whether a page may be skipped, which inputs a page shows (some depend
on earlier answers), and whether a submitted page is valid.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.areas import AREAS
from bot.domain.content import ContentError, QuestionnaireFileModel, validate
from bot.domain.profile import HERITAGE_PREFERENCES, ROLES, SHAREABLE, Profile
from bot.domain.text import clean_input, fit, safe_inline
from bot.domain.timezones import TimezoneResolver

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
QUESTIONNAIRE_FILE = DATA_DIR / "questionnaire.toml"

# Discord's limits, enforced when the questionnaire is loaded.
MAX_MODAL_INPUTS = 5
MAX_LABEL = 45
MAX_TITLE = 45
MAX_OPTIONS = 25
MAX_OPTION_TEXT = 100
MAX_CUSTOM_ID = 100
MAX_MESSAGE = 2000
MAX_TEXT_INPUT = 4000
MAX_PLACEHOLDER = 100
# The longest custom id prefix a page id is embedded in (``lantern:onb:open:<guild>:<page>``).
PAGE_ID_BUDGET = MAX_CUSTOM_ID - len("lantern:onb:answer:") - 20 - 1

KINDS = (
    "choice",
    "multi",
    "ranked",
    "details",
    "short",
    "paragraph",
    "timezone",
    "number",
    "yesno",
)
TEXT_KINDS = ("short", "paragraph", "timezone")
SELECT_KINDS = ("choice", "multi", "ranked", "details", "number", "yesno")

# The answer ids the rest of Lantern reads (see bot.domain.profile).
CONTRACT: tuple[str, ...] = tuple(
    name for name in Profile.__dataclass_fields__ if name != "user_id"
)
_FIXED_OPTIONS: dict[str, tuple[str, ...]] = {
    "role": ROLES,
    "heritage_preference": HERITAGE_PREFERENCES,
}


class QuestionnaireError(Exception):
    """The questionnaire file is broken; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("questionnaire problems:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Option:
    """One choice in a select."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One question; its id is the key its answer is stored under."""

    id: str
    kind: str
    label: str
    required: bool = False
    roles: frozenset[str] | None = None
    options: tuple[Option, ...] = ()
    placeholder: str | None = None
    max_length: int = 1000
    max_values: int = 1
    count: int = 1
    source: str | None = None

    def shown_to(self, role: str | None) -> bool:
        """Whether a member with ``role`` is asked this question."""
        return self.roles is None or (role is not None and role in self.roles)

    def option_label(self, value: str) -> str:
        """The human label of one of this question's option values."""
        return next((o.label for o in self.options if o.value == value), value)


@dataclass(frozen=True)
class Page:
    """One modal's worth of questions."""

    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]

    def questions_for(self, role: str | None) -> tuple[Question, ...]:
        """The questions a member with ``role`` sees on this page."""
        return tuple(q for q in self.questions if q.shown_to(role))

    def skippable(self, role: str | None) -> bool:
        """A page may be skipped when none of its questions (for this role) is required."""
        return not any(q.required for q in self.questions_for(role))


@dataclass(frozen=True)
class Consent:
    """The consent text and its version (recorded with the member's decision)."""

    version: str
    title: str
    text: str


@dataclass(frozen=True)
class Field:
    """One input as shown in a modal: a question, or one part of a ranked/details question."""

    custom_id: str
    question: Question
    label: str
    options: tuple[Option, ...] = ()
    min_values: int = 0
    max_values: int = 1
    required: bool = False
    part: str | None = None  # the rank ("1") or the source option (a region) this field covers

    @property
    def is_text(self) -> bool:
        return self.question.kind in TEXT_KINDS


@dataclass(frozen=True)
class Questionnaire:
    """The whole questionnaire: consent, pages in order, detail option sets."""

    version: int
    consent: Consent
    pages: tuple[Page, ...]
    details: Mapping[str, tuple[Option, ...]] = field(default_factory=dict)

    def page(self, page_id: str) -> Page:
        """The page with ``page_id`` (KeyError if unknown)."""
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def has_page(self, page_id: str) -> bool:
        return any(p.id == page_id for p in self.pages)

    def question(self, question_id: str) -> Question:
        """The question with ``question_id`` (KeyError if unknown)."""
        for page in self.pages:
            for question in page.questions:
                if question.id == question_id:
                    return question
        raise KeyError(question_id)

    def pages_for(self, role: str | None) -> tuple[Page, ...]:
        """Pages a member with ``role`` goes through (a page with no questions for them is not)."""
        return tuple(p for p in self.pages if p.questions_for(role) or p is self.pages[0])

    def first_page(self) -> Page:
        return self.pages[0]

    def next_page_id(self, role: str | None, current: str) -> str | None:
        """The page after ``current`` for this role, or ``None`` when the questionnaire is done."""
        ids = [p.id for p in self.pages_for(role)]
        if current not in ids:
            return ids[0]
        index = ids.index(current)
        return ids[index + 1] if index + 1 < len(ids) else None

    def previous_page_id(self, role: str | None, current: str) -> str | None:
        """The page before ``current`` for this role, or ``None`` on the first page."""
        ids = [p.id for p in self.pages_for(role)]
        if current not in ids or ids.index(current) == 0:
            return None
        return ids[ids.index(current) - 1]

    def progress(self, role: str | None, page_id: str) -> str:
        """``Step 2 of 7`` for ``page_id``."""
        ids = [p.id for p in self.pages_for(role or "mentee")]
        index = ids.index(page_id) + 1 if page_id in ids else 1
        return f"Step {index} of {len(ids)}"

    def fields(self, page: Page, role: str | None, answers: Mapping[str, Any]) -> list[Field]:
        """The inputs ``page`` shows to a member with ``role`` given their earlier answers."""
        out: list[Field] = []
        for question in page.questions_for(role):
            out.extend(_fields_for(self, question, answers))
        return out

    def answer_labels(self) -> dict[str, dict[str, str]]:
        """Question id -> option value -> label, for turning coded answers into words."""
        labels: dict[str, dict[str, str]] = {}
        for page in self.pages:
            for question in page.questions:
                if question.options:
                    labels.setdefault(question.id, {}).update(
                        {o.value: o.label for o in question.options}
                    )
        details = labels.setdefault("heritage_details", {})
        for options in self.details.values():
            details.update({o.value: o.label for o in options})
        return labels

    def stale_answers(self, role: str | None, answers: Mapping[str, Any]) -> list[str]:
        """Answer ids a member with ``role`` is no longer asked (after changing their role)."""
        asked = {q.id for p in self.pages for q in p.questions_for(role)}
        return [key for key in answers if key in CONTRACT and key not in asked]


def _fields_for(q: Questionnaire, question: Question, answers: Mapping[str, Any]) -> list[Field]:
    if question.kind == "ranked":
        ordinal = ("First choice", "Second choice", "Third choice", "Fourth", "Fifth")
        return [
            Field(
                custom_id=f"{question.id}:{i + 1}",
                question=question,
                label=f"{question.label}: {ordinal[i].lower()}"
                if len(question.label) + 16 <= MAX_LABEL
                else ordinal[i],
                options=question.options,
                min_values=0,
                max_values=1,
                required=question.required and i == 0,
                part=str(i + 1),
            )
            for i in range(question.count)
        ]
    if question.kind == "details":
        source = q.question(question.source or "")
        picked = [v for v in _as_list(answers.get(source.id)) if v in q.details]
        return [
            Field(
                custom_id=f"{question.id}:{value}",
                question=question,
                label=fit(f"{source.option_label(value)}: more detail", MAX_LABEL),
                options=q.details[value],
                min_values=0,
                max_values=len(q.details[value]),
                part=value,
            )
            for value in picked[: source.max_values]
        ]
    max_values = question.max_values if question.kind == "multi" else 1
    return [
        Field(
            custom_id=question.id,
            question=question,
            label=question.label,
            options=question.options,
            min_values=0,
            max_values=min(max_values, max(1, len(question.options))),
            required=question.required,
        )
    ]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def current_values(field_: Field, answers: Mapping[str, Any]) -> list[str]:
    """The values a field should show pre-filled from saved ``answers``."""
    question = field_.question
    stored = answers.get(question.id)
    if question.kind == "ranked":
        listed = _as_list(stored)
        index = int(field_.part or 1) - 1
        return [listed[index]] if index < len(listed) else []
    if question.kind == "details":
        options = {o.value for o in field_.options}
        return [v for v in _as_list(stored) if v in options]
    if question.kind == "yesno":
        if stored is None:
            return []
        return ["yes" if stored else "no"]
    if question.kind == "number":
        return [str(stored)] if stored not in (None, "") else []
    return _as_list(stored)


# ---------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class PageOutcome:
    """What a submitted page means: answers to save, or kind errors; plus notes to show."""

    answers: dict[str, Any]
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


_MENTION = re.compile(r"<(@[!&]?|#)\d+>")


def _has_mention(text: str) -> bool:
    lowered = text.casefold()
    if "@everyone" in lowered or "@here" in lowered:
        return True
    return _MENTION.search(text) is not None


def validate_page(
    q: Questionnaire,
    page: Page,
    role: str | None,
    raw: Mapping[str, Any],
    *,
    answers: Mapping[str, Any],
    zones: TimezoneResolver,
) -> PageOutcome:
    """Check one submitted page. ``raw`` maps field custom ids to text or lists of values.

    Required answers that are empty, text over its limit, unknown time zones, mentions in free
    text and repeated ranked choices become kind errors; nothing is saved unless all is well.
    """
    errors: list[str] = []
    notes: list[str] = []
    out: dict[str, Any] = {}
    # The role can change on this very page, which changes the questions that follow.
    effective_role = role
    if any(question.id == "role" for question in page.questions):
        picked = _as_list(raw.get("role"))
        effective_role = picked[0] if picked else role
    fields = q.fields(page, effective_role, answers)
    by_question: dict[str, list[Field]] = {}
    for f in fields:
        by_question.setdefault(f.question.id, []).append(f)
    for question_id, group in by_question.items():
        question = group[0].question
        label = question.label
        if question.kind in TEXT_KINDS:
            typed = str(raw.get(question_id) or "")
            text = clean_input(typed)
            if text != typed.strip() and text:
                notes.append(f"I removed some invisible or stacked characters from “{label}”.")
            if not text:
                if question.required:
                    errors.append(f"“{label}” needs an answer. Even one short sentence is plenty.")
                else:
                    out[question_id] = None
                continue
            if len(text) > question.max_length:
                errors.append(
                    f"“{label}” is {len(text):,} characters; please keep it to "
                    f"{question.max_length:,} or fewer."
                )
                continue
            if _has_mention(text):
                errors.append(
                    f"Please leave @everyone, @here and role, member or channel mentions out of "
                    f"“{label}”. Your answers may be shown to a match, and Lantern never lets "
                    "them ping anyone."
                )
                continue
            if question.kind == "timezone":
                match = zones.resolve(text)
                if match.zone is None:
                    shown = safe_inline(text, limit=60)
                    if match.candidates:
                        named = [f"`{z}`" for z in match.candidates[:5]]
                        listed = (
                            ", ".join(named[:-1]) + " or " + named[-1] if named[1:] else named[0]
                        )
                        errors.append(
                            f"“{shown}” could be more than one time zone: {listed}. "
                            "Press **Try again** and type the one you mean as shown "
                            "(or a nearby big city)."
                        )
                    else:
                        errors.append(
                            f"I couldn't find a time zone for “{shown}”. Try a nearby big "
                            "city (like Vancouver, Manila or London), an abbreviation like JST "
                            "or PST, or a zone name like Asia/Manila."
                        )
                    continue
                out[question_id] = match.zone
                continue
            out[question_id] = text
            continue
        values: list[str] = []
        for f in group:
            allowed = {o.value for o in f.options}
            chosen = [v for v in _as_list(raw.get(f.custom_id)) if v in allowed]
            values.extend(chosen[: f.max_values])
        if question.kind == "ranked":
            if len(set(values)) != len(values):
                errors.append(f"Please pick each area only once in “{label}”.")
                continue
        if question.required and not values:
            errors.append(f"“{label}” needs an answer: please pick at least one option.")
            continue
        if question.kind == "choice":
            out[question_id] = values[0] if values else None
        elif question.kind == "number":
            out[question_id] = int(values[0]) if values else None
        elif question.kind == "yesno":
            out[question_id] = (values[0] == "yes") if values else None
        else:
            out[question_id] = values or None
    if errors:
        return PageOutcome(answers={}, errors=tuple(errors), notes=tuple(notes))
    if "role" in out:
        merged = {**answers, **{k: v for k, v in out.items() if v is not None}}
        for stale in q.stale_answers(out["role"], merged):
            out.setdefault(stale, None)
    return PageOutcome(answers=out, notes=tuple(notes))


# ---------------------------------------------------------------------------- loading


def _options(raw: Any, where: str, problems: list[str]) -> tuple[Option, ...]:
    if raw == "areas":
        return tuple(Option(k, v) for k, v in AREAS.items())
    if raw == "shareable":
        return tuple(Option(k, v) for k, v in SHAREABLE.items())
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: options must be a list or 'areas'/'shareable'")
        return ()
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "value" not in item or "label" not in item:
            problems.append(f"{where}: option {i + 1} needs a value and a label")
            continue
        out.append(Option(str(item["value"]), str(item["label"])))
    return tuple(out)


def parse_questionnaire(data: Mapping[str, Any]) -> tuple[Questionnaire | None, list[str]]:
    """Build the questionnaire from parsed TOML; returns it with every problem found."""
    problems: list[str] = []
    consent_raw = data.get("consent") or {}
    consent = Consent(
        version=str(consent_raw.get("version") or ""),
        title=str(consent_raw.get("title") or ""),
        text=str(consent_raw.get("text") or "").strip(),
    )
    details: dict[str, tuple[Option, ...]] = {}
    for region, entries in (data.get("heritage_details") or {}).items():
        if not isinstance(entries, dict):
            problems.append(f"heritage_details.{region}: must be a table of value = label")
            continue
        details[str(region)] = tuple(Option(str(k), str(v)) for k, v in entries.items())
    pages: list[Page] = []
    for p_index, page_raw in enumerate(data.get("pages") or []):
        page_id = str(page_raw.get("id") or f"<page {p_index + 1}>")
        questions: list[Question] = []
        for q_index, q_raw in enumerate(page_raw.get("questions") or []):
            qid = str(q_raw.get("id") or f"<question {q_index + 1}>")
            where = f"page {page_id}, question {qid}"
            roles = q_raw.get("roles")
            kind = str(q_raw.get("kind") or "")
            try:
                questions.append(
                    Question(
                        id=qid,
                        kind=kind,
                        label=str(q_raw.get("label") or ""),
                        required=bool(q_raw.get("required", False)),
                        roles=frozenset(roles) if roles else None,
                        options=_options(q_raw.get("options"), where, problems),
                        placeholder=q_raw.get("placeholder"),
                        max_length=int(q_raw.get("max_length", 1000)),
                        max_values=int(q_raw.get("max_values", 1)),
                        count=int(q_raw.get("count", 1)),
                        source=q_raw.get("source"),
                    )
                )
            except (TypeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
        pages.append(
            Page(
                id=page_id,
                title=str(page_raw.get("title") or ""),
                intro=str(page_raw.get("intro") or "").strip(),
                questions=tuple(questions),
            )
        )
    try:
        version = int(data.get("version", 0))
    except (TypeError, ValueError):
        version = 0
        problems.append("version must be a whole number")
    questionnaire = Questionnaire(
        version=version, consent=consent, pages=tuple(pages), details=details
    )
    problems.extend(check_questionnaire(questionnaire))
    return (questionnaire if not problems else None), problems


def check_questionnaire(q: Questionnaire) -> list[str]:
    """Every problem with ``q``: Discord's limits, stable ids, the answer-id contract."""
    problems: list[str] = []
    if not q.consent.version:
        problems.append("consent: needs a version")
    if len(q.consent.version) > 16:
        problems.append("consent: version must be at most 16 characters")
    if not q.consent.text:
        problems.append("consent: needs a text")
    if len(q.consent.title) + len(q.consent.text) + 100 > MAX_MESSAGE:
        problems.append(f"consent: title and text must fit one {MAX_MESSAGE}-character message")
    if not q.pages:
        problems.append("the questionnaire has no pages")
        return problems
    seen_pages: set[str] = set()
    seen_questions: set[str] = set()
    for page in q.pages:
        where = f"page {page.id}"
        if page.id in seen_pages:
            problems.append(f"{where}: page id used twice")
        seen_pages.add(page.id)
        if not page.id.isidentifier():
            problems.append(f"{where}: page id must be letters, digits and underscores")
        if len(page.id) > PAGE_ID_BUDGET:
            problems.append(f"{where}: page id longer than {PAGE_ID_BUDGET} characters")
        if not page.title or len(page.title) > MAX_TITLE:
            problems.append(f"{where}: title must be 1-{MAX_TITLE} characters")
        if len(page.intro) > 1500:
            problems.append(f"{where}: intro must be at most 1500 characters")
        if not page.questions:
            problems.append(f"{where}: has no questions")
        for role in ROLES:
            inputs = 0
            for question in page.questions_for(role):
                if question.kind == "ranked":
                    inputs += question.count
                elif question.kind == "details":
                    source = _find(q, question.source)
                    inputs += source.max_values if source else 1
                else:
                    inputs += 1
            if inputs > MAX_MODAL_INPUTS:
                problems.append(
                    f"{where}: shows {inputs} inputs to a {role}; a modal holds at most "
                    f"{MAX_MODAL_INPUTS}"
                )
        for question in page.questions:
            problems.extend(_check_question(q, page, question, seen_questions))
    for contract_id in CONTRACT:
        if contract_id not in seen_questions:
            problems.append(f"answer id {contract_id!r} (bot/domain/profile.py) is never asked")
    if q.pages and any(x.id == "role" for x in q.pages[0].questions) is False:
        problems.append("the first page must ask 'role' (later pages depend on it)")
    return problems


def _find(q: Questionnaire, question_id: str | None) -> Question | None:
    for page in q.pages:
        for question in page.questions:
            if question.id == question_id:
                return question
    return None


def _check_question(q: Questionnaire, page: Page, question: Question, seen: set[str]) -> list[str]:
    problems: list[str] = []
    where = f"page {page.id}, question {question.id}"
    if question.id in seen:
        problems.append(f"{where}: question id used twice")
    seen.add(question.id)
    if question.id not in CONTRACT:
        problems.append(f"{where}: id is not an answer id of bot/domain/profile.py")
    if question.kind not in KINDS:
        problems.append(f"{where}: unknown kind {question.kind!r} (one of {', '.join(KINDS)})")
    if not question.label or len(question.label) > MAX_LABEL:
        problems.append(f"{where}: label must be 1-{MAX_LABEL} characters")
    if question.placeholder is not None and len(question.placeholder) > MAX_PLACEHOLDER:
        problems.append(f"{where}: placeholder longer than {MAX_PLACEHOLDER} characters")
    if question.roles is not None and not question.roles <= set(ROLES):
        problems.append(f"{where}: roles must be among {', '.join(ROLES)}")
    if len(question.id) + 40 > MAX_CUSTOM_ID:
        problems.append(f"{where}: id too long for a {MAX_CUSTOM_ID}-character custom id")
    if question.kind in TEXT_KINDS:
        if not 1 <= question.max_length < MAX_TEXT_INPUT:
            problems.append(f"{where}: max_length must be 1-{MAX_TEXT_INPUT - 1}")
        if question.options:
            problems.append(f"{where}: a text question has no options")
    if question.kind in SELECT_KINDS and question.kind != "details":
        problems.extend(_check_options(where, question.options))
        if question.kind == "multi" and not 1 <= question.max_values <= len(question.options):
            problems.append(f"{where}: max_values must be between 1 and the number of options")
    if question.kind == "ranked" and not 1 <= question.count <= MAX_MODAL_INPUTS:
        problems.append(f"{where}: count must be 1-{MAX_MODAL_INPUTS}")
    if question.kind == "number":
        for option in question.options:
            if not option.value.isdigit():
                problems.append(f"{where}: option {option.value!r} is not a whole number")
    if question.kind == "yesno" and {o.value for o in question.options} != {"yes", "no"}:
        problems.append(f"{where}: a yesno question has exactly the options 'yes' and 'no'")
    if question.kind == "details":
        source = _find(q, question.source)
        if source is None:
            problems.append(f"{where}: source {question.source!r} is not a question")
        else:
            for option in source.options:
                if option.value not in q.details:
                    problems.append(f"{where}: no detail options for {option.value!r}")
            for region, options in q.details.items():
                problems.extend(_check_options(f"{where}, detail {region}", options))
            values = [o.value for opts in q.details.values() for o in opts]
            if len(values) != len(set(values)):
                problems.append(f"{where}: detail values must be unique across regions")
    fixed = _FIXED_OPTIONS.get(question.id)
    if fixed is not None and tuple(o.value for o in question.options) != fixed:
        problems.append(f"{where}: options must be exactly {', '.join(fixed)}")
    if question.id in ("areas_wanted", "areas_offered") and {
        o.value for o in question.options
    } != set(AREAS):
        problems.append(f'{where}: options must be the seven areas (options = "areas")')
    if question.id == "share" and not {o.value for o in question.options} <= set(SHAREABLE):
        problems.append(f'{where}: options must be shareable fields (options = "shareable")')
    if question.id == "capacity" and not {o.value for o in question.options} <= {
        str(n) for n in range(1, 6)
    }:
        problems.append(f"{where}: capacity options must be 1-5")
    return problems


def _check_options(where: str, options: Iterable[Option]) -> list[str]:
    problems: list[str] = []
    listed = list(options)
    if not listed:
        problems.append(f"{where}: needs at least one option")
    if len(listed) > MAX_OPTIONS:
        problems.append(f"{where}: {len(listed)} options; a select holds at most {MAX_OPTIONS}")
    values = [o.value for o in listed]
    if len(values) != len(set(values)):
        problems.append(f"{where}: option values must be unique")
    for option in listed:
        if not option.value or len(option.value) > MAX_OPTION_TEXT:
            problems.append(f"{where}: option value {fit(option.value, 20)!r} must be 1-100 chars")
        if not option.label or len(option.label) > MAX_OPTION_TEXT:
            problems.append(f"{where}: option label {fit(option.label, 20)!r} must be 1-100 chars")
    return problems


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Load and check the questionnaire; raises ``QuestionnaireError`` listing every problem."""
    path = path or QUESTIONNAIRE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionnaireError([f"{path}: {exc}"]) from None
    try:  # the schema first: an unknown key or a wrong type, with its line
        _, data = validate(QuestionnaireFileModel, text, path.name)
    except ContentError as exc:
        raise QuestionnaireError(exc.problems) from None
    questionnaire, problems = parse_questionnaire(data)
    if questionnaire is None:
        raise QuestionnaireError([f"{path.name}: {p}" for p in problems])
    return questionnaire


@functools.lru_cache(maxsize=1)
def shipped_labels() -> Mapping[str, Mapping[str, str]]:
    """Labels of the shipped questionnaire's options (read once; the file never changes)."""
    return load_questionnaire().answer_labels()
