"""Question specs and responses: validating them and grading one against the other. Pure functions,
no database: the quiz services, the GIFT importer and the tests all share them.

A spec is a question's answer key; a response is what a learner gave. Both are JSON objects, and
every index in them is a position in the spec's own list (options, items, pairs), so they stay valid
whatever order the options were shown in.

    single      {"options": [{"text", "correct", "feedback"}, ...]}     {"choice": i}
                exactly one option correct, at least two options; stored with multiple's
                "scoring": "all_or_nothing" and "penalty": 0, which one right option makes moot
    multiple    {"options": [...], "scoring": "all_or_nothing" | "per_option", "penalty": 0..1}
                                                                       {"choices": [i, ...]}
                at least one option correct. per_option: each correct option chosen earns 1/k of
                the points (k = correct options), each wrong option chosen costs penalty/w
                (w = wrong options); the sum is kept between 0 and 1, so choosing every option
                earns 1 - penalty.
    true_false  {"answer": bool, "feedback_true", "feedback_false"}    {"value": bool}
    numeric     {"answer": x, "tolerance": t, "tolerance_kind": "absolute" | "percent"}
                                                                       {"value": number or "3.5"}
                right when |value - x| <= t (absolute) or <= |x| * t / 100 (percent)
    short_text  {"accepted": [str, ...], "regex": "" | pattern, "case_sensitive": bool}
                                                                       {"text": str}
                right when the normalised text (Unicode NFKC, spaces collapsed, and unless
                case_sensitive case-folded) equals a normalised accepted answer, or the regex
                matches all of it
    ordering    {"items": [str, ...]} in the right order                {"order": [i, ...]}
                partial credit: the share of items in their right place
    matching    {"pairs": [[left, right], ...]}                          {"matches": {"i": j}}
                partial credit: the share of left items matched to their own right item
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, NoReturn

from academy_app.models import QuestionKind
from academy_app.services.errors import Invalid

MAX_OPTIONS = 30
MAX_OPTION_TEXT = 1_000
MAX_FEEDBACK = 2_000
MAX_ACCEPTED = 30
MAX_ANSWER_TEXT = 200  # a short answer; also what a regex ever runs on
MAX_REGEX = 200
MAX_REGEX_REPEAT = 100
MAX_NUMBER_TEXT = 40
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
SCORINGS = ("all_or_nothing", "per_option")
TOLERANCE_KINDS = ("absolute", "percent")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d{1,3})?")
_UNBOUNDED = sre_constants.MAXREPEAT
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


@dataclass(frozen=True)
class Grade:
    fraction: float  # 0..1 of the question's points
    feedback: tuple[str, ...] = ()  # what the spec says about the options the learner chose

    @property
    def correct(self) -> bool:
        return self.fraction >= 1


def validate_spec(kind: QuestionKind | str, spec: Any) -> dict[str, Any]:
    """The spec in its stored form (defaults filled in, text trimmed), or Invalid({"spec": why})
    with a message for the author."""
    kind = _kind(kind)
    if not isinstance(spec, dict):
        _refuse_spec("The answer key is missing")
    return _SPEC_VALIDATORS[kind](spec)


def validate_response(kind: QuestionKind | str, spec: dict[str, Any], response: Any
                      ) -> dict[str, Any]:
    """The response in its stored form, or Invalid({"response": why}): malformed, out of range or
    oversized answers are refused before anything is stored."""
    kind = _kind(kind)
    if not isinstance(response, dict) or len(response) != 1:
        _refuse_response("This answer is not in the expected form")
    return _RESPONSE_VALIDATORS[kind](spec, response)


def grade(kind: QuestionKind | str, spec: dict[str, Any], response: dict[str, Any] | None) -> Grade:
    """Grade a response (None: unanswered) against a spec. A response that does not fit the spec
    (the key was regraded to another shape, say) earns nothing rather than failing."""
    if response is None:
        return Grade(0.0)
    kind = _kind(kind)
    try:
        response = validate_response(kind, spec, response)
    except Invalid:
        return Grade(0.0)
    return _GRADERS[kind](spec, response)


def describe_key(kind: QuestionKind | str, spec: dict[str, Any]) -> str:
    """The right answer in words, for results shown after submitting."""
    kind = _kind(kind)
    if kind in CHOICE_KINDS:
        return "; ".join(o["text"] for o in spec["options"] if o["correct"])
    if kind is QuestionKind.TRUE_FALSE:
        return "True" if spec["answer"] else "False"
    if kind is QuestionKind.NUMERIC:
        suffix = "%" if spec["tolerance_kind"] == "percent" else ""
        tolerance = f" ± {spec['tolerance']:g}{suffix}" if spec["tolerance"] else ""
        return f"{spec['answer']:g}{tolerance}"
    if kind is QuestionKind.SHORT_TEXT:
        return "; ".join(spec["accepted"]) or f"text matching {spec['regex']}"
    if kind is QuestionKind.ORDERING:
        return " → ".join(spec["items"])
    return "; ".join(f"{left} → {right}" for left, right in spec["pairs"])


def choice_count(kind: QuestionKind | str, spec: dict[str, Any]) -> int:
    """How many things the learner sees to choose from, arrange or match: what an attempt shuffles."""
    kind = _kind(kind)
    if kind in CHOICE_KINDS:
        return len(spec["options"])
    if kind is QuestionKind.ORDERING:
        return len(spec["items"])
    if kind is QuestionKind.MATCHING:
        return len(spec["pairs"])
    return 0


def normalize_text(text: str, case_sensitive: bool = False) -> str:
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text if case_sensitive else text.casefold()


def parse_number(raw: Any) -> float | None:
    """A finite number from a number or what a person types ("3.5", "3,5", "-1e3"); None if not."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str) and len(raw) <= MAX_NUMBER_TEXT and _NUMBER.fullmatch(raw.strip()):
        value = float(raw.strip().replace(",", "."))
    else:
        return None
    return value if math.isfinite(value) else None


def within_tolerance(value: float, answer: float, tolerance: float, tolerance_kind: str) -> bool:
    bound = tolerance if tolerance_kind == "absolute" else abs(answer) * tolerance / 100
    # A hair of slack so that 0.1 + 0.2 "is" 0.3: typed decimals are not exact binary fractions.
    return abs(value - answer) <= bound + 1e-9 * max(1.0, abs(answer))


def check_regex(pattern: str) -> re.Pattern[str]:
    """Compile an author's regex, refusing what could take exponential time on a short input
    (a repeat inside a repeat, alternatives under a repeat, back-references) or is too large.
    Learners' answers are also capped at MAX_ANSWER_TEXT characters before it ever runs."""
    if len(pattern) > MAX_REGEX:
        _refuse_spec(f"Keep the pattern under {MAX_REGEX} characters")
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        _refuse_spec(f"The pattern is not a valid regular expression: {exc}")
    _check_regex_nodes(parsed, inside_repeat=False)
    return compiled


def _check_regex_nodes(nodes: Any, *, inside_repeat: bool) -> None:
    for op, value in nodes:
        if op in _REPEATS:
            low, high, body = value
            if (high is not _UNBOUNDED and high > MAX_REGEX_REPEAT) or low > MAX_REGEX_REPEAT:
                _refuse_spec(f"Keep repeat counts in the pattern under {MAX_REGEX_REPEAT}")
            repeats = high is _UNBOUNDED or high > 1
            if repeats and inside_repeat:
                _refuse_spec("The pattern repeats inside a repeat, which can take forever to "
                             "check: simplify it")
            _check_regex_nodes(body, inside_repeat=inside_repeat or repeats)
        elif op is sre_constants.BRANCH:
            if inside_repeat:
                _refuse_spec("The pattern repeats a choice of alternatives, which can take "
                             "forever to check: simplify it")
            for branch in value[1]:
                _check_regex_nodes(branch, inside_repeat=inside_repeat)
        elif op is sre_constants.SUBPATTERN:
            _check_regex_nodes(value[-1], inside_repeat=inside_repeat)
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            _refuse_spec("Back-references are not allowed in the pattern")
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.ATOMIC_GROUP):
            _check_regex_nodes(value[-1], inside_repeat=inside_repeat)


# Specs

def _options(spec: dict[str, Any]) -> list[dict[str, Any]]:
    options = spec.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        _refuse_spec(f"Give between 2 and {MAX_OPTIONS} options")
    cleaned = []
    for number, option in enumerate(options, start=1):
        if not isinstance(option, dict):
            _refuse_spec(f"Option {number} is not in the expected form")
        text = _text(option.get("text"), MAX_OPTION_TEXT, f"Option {number}")
        if not text:
            _refuse_spec(f"Option {number} needs a text")
        if not isinstance(option.get("correct", False), bool):
            _refuse_spec(f"Say whether option {number} is correct (true or false)")
        cleaned.append({"text": text, "correct": option.get("correct", False),
                        "feedback": _text(option.get("feedback", ""), MAX_FEEDBACK,
                                          f"The feedback of option {number}")})
    if len({o["text"] for o in cleaned}) != len(cleaned):
        _refuse_spec("Two options have the same text")
    return cleaned


def _single_spec(spec: dict[str, Any]) -> dict[str, Any]:
    options = _options(spec)
    if sum(o["correct"] for o in options) != 1:
        _refuse_spec("A single-choice question needs exactly one correct option")
    # Stored in multiple choice's shape (one spec format for both kinds, as GIFT writes them):
    # with one right option, every scoring gives the same, all or nothing.
    return {"options": options, "scoring": "all_or_nothing", "penalty": 0.0}


def _multiple_spec(spec: dict[str, Any]) -> dict[str, Any]:
    options = _options(spec)
    if not any(o["correct"] for o in options):
        _refuse_spec("Mark at least one option correct")
    scoring = spec.get("scoring", "all_or_nothing")
    if scoring not in SCORINGS:
        _refuse_spec("Score it all or nothing, or per option")
    penalty = parse_number(spec.get("penalty", 0))
    if penalty is None or not 0 <= penalty <= 1:
        _refuse_spec("The penalty for a wrong option is between 0 and 1")
    return {"options": options, "scoring": scoring, "penalty": penalty}


def _true_false_spec(spec: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(spec.get("answer"), bool):
        _refuse_spec("Say whether the statement is true or false")
    return {"answer": spec["answer"],
            "feedback_true": _text(spec.get("feedback_true", ""), MAX_FEEDBACK, "The feedback"),
            "feedback_false": _text(spec.get("feedback_false", ""), MAX_FEEDBACK, "The feedback")}


def _numeric_spec(spec: dict[str, Any]) -> dict[str, Any]:
    answer = parse_number(spec.get("answer"))
    if answer is None:
        _refuse_spec("Give the right answer as a number")
    tolerance = parse_number(spec.get("tolerance", 0))
    if tolerance is None or tolerance < 0:
        _refuse_spec("The tolerance is a number, 0 or more")
    tolerance_kind = spec.get("tolerance_kind", "absolute")
    if tolerance_kind not in TOLERANCE_KINDS:
        _refuse_spec("The tolerance is absolute or a percentage")
    return {"answer": answer, "tolerance": tolerance, "tolerance_kind": tolerance_kind}


def _short_text_spec(spec: dict[str, Any]) -> dict[str, Any]:
    accepted = spec.get("accepted", [])
    if not isinstance(accepted, list) or len(accepted) > MAX_ACCEPTED:
        _refuse_spec(f"Give up to {MAX_ACCEPTED} accepted answers")
    accepted = [_text(answer, MAX_ANSWER_TEXT, "An accepted answer") for answer in accepted]
    accepted = [answer for answer in accepted if answer]
    regex = spec.get("regex", "")
    if not isinstance(regex, str):
        _refuse_spec("The pattern is text")
    if regex:
        check_regex(regex)
    if not accepted and not regex:
        _refuse_spec("Give at least one accepted answer or a pattern")
    case_sensitive = spec.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        _refuse_spec("Say whether case matters (true or false)")
    return {"accepted": accepted, "regex": regex, "case_sensitive": case_sensitive}


def _ordering_spec(spec: dict[str, Any]) -> dict[str, Any]:
    items = spec.get("items")
    if not isinstance(items, list) or not 2 <= len(items) <= MAX_OPTIONS:
        _refuse_spec(f"Give between 2 and {MAX_OPTIONS} items to put in order")
    items = [_text(item, MAX_OPTION_TEXT, f"Item {n}") for n, item in enumerate(items, start=1)]
    if not all(items) or len(set(items)) != len(items):
        _refuse_spec("Every item needs a text, different from the others")
    return {"items": items}


def _matching_spec(spec: dict[str, Any]) -> dict[str, Any]:
    pairs = spec.get("pairs")
    if not isinstance(pairs, list) or not 2 <= len(pairs) <= MAX_OPTIONS:
        _refuse_spec(f"Give between 2 and {MAX_OPTIONS} pairs to match")
    cleaned = []
    for number, pair in enumerate(pairs, start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            _refuse_spec(f"Pair {number} needs a left and a right side")
        cleaned.append([_text(pair[0], MAX_OPTION_TEXT, f"Pair {number}"),
                        _text(pair[1], MAX_OPTION_TEXT, f"Pair {number}")])
    lefts, rights = [p[0] for p in cleaned], [p[1] for p in cleaned]
    if not all(lefts + rights):
        _refuse_spec("Every pair needs both sides")
    if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
        _refuse_spec("Each side of the pairs must be different from the others on that side")
    return {"pairs": cleaned}


# Responses

def _index(raw: Any, count: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < count:
        _refuse_response("This answer names an option that is not in the question")
    return raw


def _single_response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {"choice": _index(response.get("choice"), len(spec["options"]))}


def _multiple_response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    choices = response.get("choices")
    count = len(spec["options"])
    if not isinstance(choices, list) or len(choices) > count:
        _refuse_response("This answer is not in the expected form")
    chosen = sorted({_index(choice, count) for choice in choices})
    if len(chosen) != len(choices):
        _refuse_response("This answer chooses an option twice")
    return {"choices": chosen}


def _true_false_response(_spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(response.get("value"), bool):
        _refuse_response("Answer true or false")
    return {"value": response["value"]}


def _numeric_response(_spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    value = parse_number(response.get("value"))
    if value is None:
        _refuse_response("Enter a number, like 42 or 3.14")
    return {"value": value}


def _short_text_response(_spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    text = response.get("text")
    if not isinstance(text, str) or len(text) > MAX_ANSWER_TEXT:
        _refuse_response(f"Answer in text of up to {MAX_ANSWER_TEXT} characters")
    if "\x00" in text:  # PostgreSQL cannot store it; the API passes text as it is sent
        _refuse_response("Answer in text without control characters")
    return {"text": text.strip()}


def _ordering_response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    order = response.get("order")
    count = len(spec["items"])
    if not isinstance(order, list) or len(order) != count:
        _refuse_response("Put every item in the order, once")
    if sorted(_index(i, count) for i in order) != list(range(count)):
        _refuse_response("Put every item in the order, once")
    return {"order": list(order)}


def _matching_response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    matches = response.get("matches")
    count = len(spec["pairs"])
    if not isinstance(matches, dict) or len(matches) > count:
        _refuse_response("This answer is not in the expected form")
    cleaned = {}
    for left, right in matches.items():
        # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
        if not isinstance(left, str) or not (left.isascii() and left.isdigit()) or len(left) > 3:
            _refuse_response("This answer matches an item that is not in the question")
        cleaned[str(_index(int(left), count))] = _index(right, count)
    return {"matches": cleaned}


# Grading

def _single_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    option = spec["options"][response["choice"]]
    return Grade(1.0 if option["correct"] else 0.0, _said(option["feedback"]))


def _multiple_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    options = spec["options"]
    chosen = set(response["choices"])
    right = {i for i, option in enumerate(options) if option["correct"]}
    feedback = tuple(options[i]["feedback"] for i in sorted(chosen) if options[i]["feedback"])
    if spec["scoring"] == "all_or_nothing":
        return Grade(1.0 if chosen == right else 0.0, feedback)
    wrong_count = len(options) - len(right)
    earned = len(chosen & right) / len(right)
    lost = spec["penalty"] * len(chosen - right) / wrong_count if wrong_count else 0.0
    return Grade(min(1.0, max(0.0, earned - lost)), feedback)


def _true_false_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    said = spec["feedback_true"] if response["value"] else spec["feedback_false"]
    return Grade(1.0 if response["value"] is spec["answer"] else 0.0, _said(said))


def _numeric_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    right = within_tolerance(response["value"], spec["answer"], spec["tolerance"],
                             spec["tolerance_kind"])
    return Grade(1.0 if right else 0.0)


def _short_text_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    case_sensitive = spec["case_sensitive"]
    given = normalize_text(response["text"], case_sensitive)
    if any(given == normalize_text(answer, case_sensitive) for answer in spec["accepted"]):
        return Grade(1.0)
    if spec["regex"]:
        flags = 0 if case_sensitive else re.IGNORECASE
        if re.fullmatch(spec["regex"], " ".join(response["text"].split()), flags):
            return Grade(1.0)
    return Grade(0.0)


def _ordering_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    order = response["order"]
    return Grade(sum(item == place for place, item in enumerate(order)) / len(order))


def _matching_grade(spec: dict[str, Any], response: dict[str, Any]) -> Grade:
    matches = response["matches"]
    return Grade(sum(int(left) == right for left, right in matches.items()) / len(spec["pairs"]))


_SPEC_VALIDATORS = {
    QuestionKind.SINGLE: _single_spec, QuestionKind.MULTIPLE: _multiple_spec,
    QuestionKind.TRUE_FALSE: _true_false_spec, QuestionKind.NUMERIC: _numeric_spec,
    QuestionKind.SHORT_TEXT: _short_text_spec, QuestionKind.ORDERING: _ordering_spec,
    QuestionKind.MATCHING: _matching_spec}
_RESPONSE_VALIDATORS = {
    QuestionKind.SINGLE: _single_response, QuestionKind.MULTIPLE: _multiple_response,
    QuestionKind.TRUE_FALSE: _true_false_response, QuestionKind.NUMERIC: _numeric_response,
    QuestionKind.SHORT_TEXT: _short_text_response, QuestionKind.ORDERING: _ordering_response,
    QuestionKind.MATCHING: _matching_response}
_GRADERS = {
    QuestionKind.SINGLE: _single_grade, QuestionKind.MULTIPLE: _multiple_grade,
    QuestionKind.TRUE_FALSE: _true_false_grade, QuestionKind.NUMERIC: _numeric_grade,
    QuestionKind.SHORT_TEXT: _short_text_grade, QuestionKind.ORDERING: _ordering_grade,
    QuestionKind.MATCHING: _matching_grade}


def _kind(kind: QuestionKind | str) -> QuestionKind:
    if kind not in QuestionKind._value2member_map_:
        raise Invalid({"kind": "Choose a question type from the list"})
    return QuestionKind(kind)


def _text(raw: Any, limit: int, what: str) -> str:
    if not isinstance(raw, str):
        _refuse_spec(f"{what} must be text")
    text = raw.strip()
    if len(text) > limit:
        _refuse_spec(f"{what} is too long: keep it under {limit} characters")
    return text


def _said(feedback: str) -> tuple[str, ...]:
    return (feedback,) if feedback else ()


def _refuse_spec(message: str) -> NoReturn:
    raise Invalid({"spec": message})


def _refuse_response(message: str) -> NoReturn:
    raise Invalid({"response": message})
