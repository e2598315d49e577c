"""Moodle's GIFT text format: read a question file into questions, write questions back out.

Pure text in, values out: no database, no models. The rules follow Moodle's own reader
(``question/format/gift/format.php``) so a file that imports there imports here:

- Questions are separated by blank lines; a line starting with ``//`` is a comment.
- ``::Title::`` names a question (without one, the title is the start of the stem); ``[markdown]``,
  ``[html]``, ``[plain]`` or ``[moodle]`` before a text names its format and is dropped (the text is
  kept as written: Markdown renders HTML and plain text as they are).
- ``\\~ \\= \\# \\{ \\} \\: \\\\`` are the characters themselves and ``\\n`` is a line break.
- Answers sit in ``{…}``; text after the braces makes a "missing word" stem (``_____`` marks the gap).
  ``#`` starts an answer's feedback and ``####`` the general feedback (our ``explanation``).
- ``$CATEGORY: $course$/top/Algebra/Linear`` gives the questions after it the tags
  ``("Algebra", "Linear")`` (``//`` in a category name is a literal ``/``).

How answers map to our kinds:

- ``{T}``/``{TRUE}``/``{F}``/``{FALSE}``, then ``#feedback for the wrong choice#feedback for the
  right one`` → ``true_false``.
- ``{#3.14:0.01}`` → ``numeric`` with an absolute tolerance; ``{#1..5}`` → 3 ± 2. With several
  answers (``{#=1822:0 =%50%1822:2}``) the full-credit one is kept.
- ``{=no one =nobody}`` → ``short_text`` (full-credit answers are the accepted ones, compared
  without case, as Moodle does).
- ``{=Canada -> Ottawa =Italy -> Rome}`` → ``matching``.
- Multiple choice, weights in percent: ``=right`` is 100, ``~wrong`` is 0, ``~%n%text`` is n.
  With a ``=`` answer → ``single`` (all or nothing); the one ``=`` option is correct. Without one,
  the options of positive weight are correct → ``multiple`` scored ``per_option`` (each correct
  option an equal share, as when the weights split 100 evenly). A negative weight is what choosing
  a wrong option costs: ``~%-50%`` → ``penalty`` 0.5.

What our kinds cannot hold (partial credit, feedback on numeric and short answers, uneven weights)
is dropped with a line-numbered warning, shown in the import preview. Essays (``{}``) and
descriptions (no braces) have no kind here and are line-numbered errors; a bad question is skipped
and the rest still import.

Export writes every question so that ``parse(export(qs))`` gives them back, except that GIFT has no
points (Moodle gives every question 1), no percent tolerance (it is written as the equivalent
absolute one), and an empty title comes back as the start of the stem. It refuses, naming the
questions, what GIFT would grade differently or cannot write: ordering, all-or-nothing multiple
choice, short answers with a regex or case sensitivity, ``->`` in a short answer or on the left of a
pair, and a tag that starts with ``/`` or holds a line break.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from academy_app.services import grading
from academy_app.services.errors import Invalid

MAX_BYTES = 1_000_000
MAX_QUESTIONS = 1_000
MAX_ANSWERS = 100  # per question: more is a broken file, and each costs time to read
TITLE_LENGTH = 80  # a title made from the stem, when the file gives none

_ESCAPE = re.compile(r"\\([\\~=#{}:n])")
_FORMAT = re.compile(r"\[(?:moodle|html|plain|markdown)\]")
_WEIGHT = re.compile(r"%(-?[0-9]+(?:\.[0-9]*)?)%", re.ASCII)
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_CATEGORY = "$CATEGORY:"
_GAP = "_____"


@dataclass(frozen=True)
class GiftQuestion:
    kind: str
    title: str
    stem: str
    points: float
    spec: dict
    explanation: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class GiftError:
    line: int
    message: str


@dataclass
class GiftImport:
    questions: list[GiftQuestion] = field(default_factory=list)
    errors: list[GiftError] = field(default_factory=list)
    warnings: list[GiftError] = field(default_factory=list)  # imported, but something was dropped


class _Bad(Exception):
    """One question cannot be read: skip it and say where."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class _Src:
    """A piece of a question as written, with escapes still in, and the line it starts on.

    ``mask`` is ``raw`` with every escape pair blanked to ``__``: searching the mask finds only the
    special characters that are meant, and its indices are the raw text's."""

    raw: str
    mask: str
    line: int

    @classmethod
    def of(cls, raw: str, line: int) -> _Src:
        return cls(raw, _ESCAPE.sub("__", raw), line)

    def cut(self, start: int, end: int | None = None) -> _Src:
        end = len(self.raw) if end is None else end
        return _Src(self.raw[start:end], self.mask[start:end], self.line + self.raw.count("\n", 0, start))

    def strip(self) -> _Src:
        start = len(self.raw) - len(self.raw.lstrip())
        return self.cut(start, start + len(self.raw.strip())) if start < len(self.raw) else self.cut(0, 0)

    def find(self, token: str, start: int = 0) -> int:
        return self.mask.find(token, start)

    def split_once(self, token: str, *, last: bool = False) -> tuple[_Src, _Src | None]:
        at = self.mask.rfind(token) if last else self.find(token)
        return (self, None) if at < 0 else (self.cut(0, at), self.cut(at + len(token)))

    def split_before(self, markers: str) -> Iterator[_Src]:
        """The text before the first marker, then each marker with the text up to the next one."""
        starts = [0, *(i for i, char in enumerate(self.mask) if char in markers)]
        line = self.line
        for start, end in zip(starts, [*starts[1:], len(self.raw)], strict=True):
            yield _Src(self.raw[start:end], self.mask[start:end], line)
            line += self.raw.count("\n", start, end)

    @property
    def text(self) -> str:
        return _unescape(self.raw).strip()

    @property
    def formatted(self) -> str:
        """The text without its ``[format]`` tag, which Moodle reads on stems, options and feedback."""
        raw = self.raw.strip()
        tag = _FORMAT.match(raw)
        return _unescape(raw[tag.end():] if tag else raw).strip()


def _unescape(raw: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)


# ---- reading -----------------------------------------------------------------------------------


def parse(text: str) -> GiftImport:
    """Every question the file holds, and a line-numbered error for each one it cannot read."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return GiftImport(errors=[GiftError(1, f"The file is larger than {MAX_BYTES // 1_000_000} MB: "
                                               "split it into smaller files")])
    blocks = list(_blocks(text))
    bodies = [body for _, body in blocks if body is not None]
    if len(bodies) > MAX_QUESTIONS:
        return GiftImport(errors=[GiftError(bodies[MAX_QUESTIONS].line,
                                            f"More than {MAX_QUESTIONS} questions: split the file")])
    result = GiftImport()
    tags: tuple[str, ...] = ()
    for category, body in blocks:
        tags = tags if category is None else category
        if body is None:
            continue
        try:
            result.questions.append(_question(body, tags, result.warnings))
        except _Bad as bad:
            result.errors.append(GiftError(bad.line, bad.message))
    return result


def _blocks(text: str) -> Iterator[tuple[tuple[str, ...] | None, _Src | None]]:
    """(tags of a ``$CATEGORY:`` line or None, the question text or None) per blank-line block.
    Comment lines are blanked rather than removed so every offset keeps its line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block: list[str] = []
    first = 1
    for number, line in enumerate([*lines, ""], start=1):
        if not line.strip():
            if block:
                yield _block(block, first)
            block = []
            continue
        if not block:
            first = number
        block.append("" if line.lstrip().startswith("//") else line)


def _block(lines: list[str], first: int) -> tuple[tuple[str, ...] | None, _Src | None]:
    body = _Src.of("\n".join(lines), first).strip()
    if not body.raw.startswith(_CATEGORY):
        return None, body if body.raw else None
    category, rest = body.split_once("\n")
    tags = _category_tags(category.raw[len(_CATEGORY):])
    rest = rest.strip() if rest else None
    return tags, rest if rest and rest.raw else None


def _category_tags(path: str) -> tuple[str, ...]:
    """``$course$/top/A/B`` → ("A", "B"): the context and Moodle's "top" are not tags."""
    parts, part = [], ""
    for token in re.findall(r"//|/|[^/]+", path.strip()):
        if token == "/":
            parts.append(part)
            part = ""
        else:
            part += "/" if token == "//" else token
    parts = [name.strip() for name in [*parts, part]]
    if parts and re.fullmatch(r"\$\w*\$", parts[0]):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return tuple(name for name in parts if name)


def _question(body: _Src, tags: tuple[str, ...], warnings: list[GiftError]) -> GiftQuestion:
    title, rest = _title(body)
    before, answers, after = _answer_block(rest, body.line)
    stem = _Src.of(before.raw + (_GAP + after.raw if after.raw.strip() else ""), before.line).formatted
    if not stem:
        raise _Bad(body.line, "The question has no text")
    answers, general = answers.split_once("####", last=True)  # as Moodle: "{T#####x}" explains "x"
    answers = answers.strip()
    kind, spec = _answers(answers, body.line, warnings)
    return GiftQuestion(kind=kind, title=title or title_from(stem), stem=stem, points=1.0, spec=spec,
                        explanation=general.formatted if general else "", tags=tags)


def _title(body: _Src) -> tuple[str, _Src]:
    if not body.mask.startswith("::"):
        return "", body
    end = body.find("::", 2)
    if end < 0:
        raise _Bad(body.line, "The title has no closing :: (write \\: for a colon inside it)")
    return body.cut(2, end).text, body.cut(end + 2)


def title_from(stem: str) -> str:
    words = " ".join(stem.split())
    return words if len(words) <= TITLE_LENGTH else words[:TITLE_LENGTH - 1].rstrip() + "…"


def _answer_block(src: _Src, start_line: int) -> tuple[_Src, _Src, _Src]:
    """(text before, inside, text after) the one ``{…}``, or an error naming the brace's line."""
    opening, closing = src.find("{"), src.find("}")
    if opening < 0 and closing < 0:
        raise _Bad(start_line, "A description (text without {…}) is not a question type here")
    if closing < 0:
        raise _Bad(src.cut(opening).line, "This { is never closed with }")
    if opening < 0 or closing < opening:
        raise _Bad(src.cut(closing).line, "This } closes no {")
    nested = src.find("{", opening + 1)
    if 0 <= nested < closing:
        raise _Bad(src.cut(nested).line, "A { inside the answers: write \\{ for a brace in the text")
    after = src.cut(closing + 1)
    stray = min((at for at in (after.find("{"), after.find("}")) if at >= 0), default=-1)
    if stray >= 0:
        raise _Bad(after.cut(stray).line,
                   "A second {…} in one question: leave a blank line between questions")
    return src.cut(0, opening), src.cut(opening + 1, closing), after


def _answers(src: _Src, line: int, warnings: list[GiftError]) -> tuple[str, dict]:
    """The kind and spec the answers describe, recognised in Moodle's order."""
    mask = src.mask
    if not mask:
        raise _Bad(line, "An essay ({} with no answers) is not a question type here")
    if mask.count("~") + mask.count("=") > MAX_ANSWERS:
        raise _Bad(line, f"More than {MAX_ANSWERS} answers in one question")
    if mask.startswith("#"):
        return "numeric", _numeric(src.cut(1), warnings)
    if "~" in mask:
        return _choice(src, warnings)
    if "=" in mask and "->" in mask:
        return "matching", _matching(src)
    verdict = src.split_once("#")[0].raw.strip()
    if verdict in _TRUE_FALSE:
        return "true_false", _true_false(src, _TRUE_FALSE[verdict])
    if mask.startswith("="):
        return "short_text", _short_text(src, warnings)
    raise _Bad(src.line, "Unknown question type: answers start with = or ~, a number with #, "
                         "true/false is {T} or {F}")


@dataclass(frozen=True)
class _Answer:
    marker: str
    weight: float | None
    body: _Src
    feedback: str


def _pieces(src: _Src, markers: str) -> list[_Src]:
    """Each answer with its marker in front; text before the first marker is a mistake."""
    first, *pieces = src.split_before(markers)
    if first.raw.strip():
        raise _Bad(first.strip().line, f"Text before the first answer: each answer starts with "
                                       f"{' or '.join(markers)}")
    return pieces


def _answer(marker: str, src: _Src, *, weighted: bool) -> _Answer:
    """An answer's ``%weight%`` (where the kind has weights), text and ``#feedback``."""
    src = src.strip()
    weight = None
    match = _WEIGHT.match(src.raw) if weighted else None
    if match:
        weight = float(match.group(1))
        if not -100 <= weight <= 100:
            raise _Bad(src.line, f"The weight {match.group(0)} is not between -100% and 100%")
        src = src.cut(match.end())
    text, feedback = src.split_once("#")
    if not text.text:
        raise _Bad(src.line, "An answer is empty")
    return _Answer(marker, weight, text, feedback.formatted if feedback else "")


def _choice(src: _Src, warnings: list[GiftError]) -> tuple[str, dict]:
    # Moodle reads a weight after ~ only: "=%50%x" is a right answer whose text is "%50%x".
    answers = [_answer(piece.raw[0], piece.cut(1), weighted=piece.raw[0] == "~")
               for piece in _pieces(src, "~=")]
    if len(answers) < 2:
        raise _Bad(src.line, "A multiple-choice question needs at least two answers")
    single = any(answer.marker == "=" for answer in answers)
    weights = [100.0 if a.marker == "=" else a.weight or 0.0 for a in answers]
    if single:
        _one_right_answer(answers, weights, warnings)
        correct = [a.marker == "=" for a in answers]
    else:
        correct = [weight > 0 for weight in weights]
        if not any(correct):
            raise _Bad(src.line, "No answer is right: mark one with = or give weights like ~%50%")
        _even_shares([w for w in weights if w > 0], src.line, warnings)
    options = [{"text": a.body.formatted, "correct": right, "feedback": a.feedback}
               for a, right in zip(answers, correct, strict=True)]
    return ("single" if single else "multiple"), {
        "options": options, "scoring": "all_or_nothing" if single else "per_option",
        "penalty": _penalty([w for w in weights if w < 0], src.line, warnings)}


def _one_right_answer(answers: list[_Answer], weights: list[float], warnings: list[GiftError]) -> None:
    rights = [a for a in answers if a.marker == "="]
    if len(rights) > 1:
        raise _Bad(rights[1].body.line, "Only one answer may start with =: for several right answers, "
                                        "give each a weight like ~%50%")
    partial = [a for a, w in zip(answers, weights, strict=True) if a.marker == "~" and w > 0]
    if partial:
        warnings.append(GiftError(partial[0].body.line,
                                  "Partial credit in a single-choice question is not kept: "
                                  "those answers count as wrong"))


def _even_shares(weights: list[float], line: int, warnings: list[GiftError]) -> None:
    if abs(sum(weights) - 100) > 0.01 or max(weights) - min(weights) > 0.01:
        warnings.append(GiftError(line, "Uneven weights are not kept: each right answer counts "
                                        "the same share"))


def _penalty(negatives: list[float], line: int, warnings: list[GiftError]) -> float:
    if not negatives:
        return 0.0
    if max(negatives) - min(negatives) > 0.01:
        warnings.append(GiftError(line, "Different negative weights are not kept: every wrong "
                                        "answer costs the largest"))
    return round(-min(negatives) / 100, 7)


def _true_false(src: _Src, answer: bool) -> dict:
    _, rest = src.split_once("#")
    wrong, right = rest.split_once("#") if rest else (None, None)
    feedback_wrong = wrong.formatted if wrong else ""
    feedback_right = right.formatted if right else ""
    return {"answer": answer,
            "feedback_true": feedback_right if answer else feedback_wrong,
            "feedback_false": feedback_wrong if answer else feedback_right}


def _numeric(src: _Src, warnings: list[GiftError]) -> dict:
    answers_src, wrong_feedback = src.split_once("~")
    answers = _split_numeric_answers(answers_src)
    full = [a for a in answers if a.weight in (None, 100.0)]
    if not full:
        raise _Bad(src.line, "No numeric answer has full credit")
    if len(full) > 1:
        raise _Bad(full[1].body.line, "Only one numeric answer may have full credit")
    if len(answers) > 1 or wrong_feedback or any(a.feedback for a in answers):
        warnings.append(GiftError(src.line, "Only the full-credit number is kept: partial credit "
                                            "and feedback are dropped"))
    value, tolerance = _number_and_tolerance(full[0].body)
    return {"answer": value, "tolerance": tolerance, "tolerance_kind": "absolute"}


def _split_numeric_answers(src: _Src) -> list[_Answer]:
    first, *rest = src.split_before("=")
    pieces = ([first] if first.raw.strip() else []) + [piece.cut(1) for piece in rest]
    if not pieces:
        raise _Bad(src.line, "A numeric question needs a number after {#")
    return [_answer("=", piece, weighted=True) for piece in pieces]


def _number_and_tolerance(src: _Src) -> tuple[float, float]:
    """number, number:tolerance or low..high; each number read by grading.parse_number, the one
    reader of numbers a person types (an author here, a learner answering)."""
    text = src.raw.strip()
    if ".." in text:
        low, high = (grading.parse_number(part) for part in text.split("..", 1))
        value = tolerance = None
        if low is not None and high is not None:
            if low > high:
                raise _Bad(src.line, f"The range {src.text} runs backwards")
            value, tolerance = low / 2 + high / 2, high / 2 - low / 2
    else:
        number, colon, margin = text.partition(":")
        value = grading.parse_number(number)
        tolerance = grading.parse_number(margin) if colon else 0.0
    if value is None or tolerance is None:
        raise _Bad(src.line, f"“{src.text}” is not a number, number:tolerance or low..high")
    if tolerance < 0:
        raise _Bad(src.line, f"“{src.text}” is not a finite number with a tolerance of 0 or more")
    return value, tolerance


def _short_text(src: _Src, warnings: list[GiftError]) -> dict:
    answers = [_answer("=", piece.cut(1), weighted=True) for piece in _pieces(src, "=")]
    accepted = [a.body.formatted for a in answers if a.weight in (None, 100.0)]
    if not accepted:
        raise _Bad(src.line, "No answer has full credit")
    if len(accepted) < len(answers) or any(a.feedback for a in answers):
        warnings.append(GiftError(src.line, "Only full-credit answers are kept: partial credit and "
                                            "feedback are dropped"))
    return {"accepted": accepted, "regex": "", "case_sensitive": False}


def _matching(src: _Src) -> dict:
    pairs = []
    for piece in _pieces(src, "="):
        left, right = piece.cut(1).split_once("->")
        if right is None or not left.text or not right.text:
            raise _Bad(piece.strip().line, "Each matching pair is written =left -> right")
        pairs.append([left.formatted, right.text])
    if len(pairs) < 2:
        raise _Bad(src.line, "A matching question needs at least two pairs")
    return {"pairs": pairs}


# ---- writing -----------------------------------------------------------------------------------


def export(questions: Iterable[GiftQuestion]) -> str:
    """The questions as a GIFT file, each under the ``$CATEGORY:`` of its tags. Raises Invalid
    naming every question GIFT cannot express without changing how it is graded."""
    questions = list(questions)
    refusals = [f"“{q.title}”: {reason}" for q in questions if (reason := _refusal(q))]
    if refusals:
        raise Invalid({"questions": "Cannot export to GIFT: " + "; ".join(refusals)})
    blocks: list[str] = []
    tags: tuple[str, ...] = ()
    for question in questions:
        if question.tags != tags:
            tags = question.tags
            blocks.append(_CATEGORY + " $course$/top" + "".join("/" + t.replace("/", "//") for t in tags))
        blocks.append(_write_question(question))
    return "".join(block + "\n\n" for block in blocks)


def _refusal(question: GiftQuestion) -> str | None:
    spec = question.spec
    if question.kind not in _WRITERS:
        return f"GIFT has no {question.kind.replace('_', ' ')} questions"
    if question.kind == "multiple" and spec["scoring"] != "per_option":
        return "GIFT scores multiple choice per option, not all or nothing"
    if question.kind == "short_text" and (spec["regex"] or spec["case_sensitive"]):
        return "GIFT short answers have no regex and ignore case"
    if question.kind == "short_text" and any("->" in answer for answer in spec["accepted"]):
        return "an accepted answer contains ->, which GIFT reads as a matching pair"
    if question.kind == "matching" and any("->" in left for left, _ in spec["pairs"]):
        return "a left-hand item contains ->, which GIFT reads as the pair's arrow"
    if any(tag.startswith("/") or "\n" in tag for tag in question.tags):
        return "a tag starts with / or holds a line break, which a Moodle category cannot"
    return None


def _write_question(question: GiftQuestion) -> str:
    title = f"::{_escape(question.title)}::" if question.title else ""
    answers = _WRITERS[question.kind](question.spec)
    general = f"####{_formatted(question.explanation)}" if question.explanation else ""
    if "\n" in answers:
        general = f"\t{general}\n" if general else ""
    return f"{title}[markdown]{_escape(question.stem)}{{{answers}{general}}}"


def _escape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\\~=#{}:\n]", lambda m: "\\n" if m.group() == "\n" else "\\" + m.group(), text)


def _formatted(text: str) -> str:
    """A text Moodle reads a ``[format]`` tag from: one it starts with is kept by naming a format."""
    return ("[markdown]" if _FORMAT.match(text) else "") + _escape(text)


def _lines(answers: Iterable[str]) -> str:
    return "\n" + "".join(f"\t{answer}\n" for answer in answers)


def _weight(percent: float) -> str:
    return f"%{f'{percent:.5f}'.rstrip('0').rstrip('.')}%"


def _write_choice(spec: dict) -> str:
    options = spec["options"]
    share = _weight(100 / max(1, sum(option["correct"] for option in options)))
    cost = _weight(-100 * spec["penalty"]) if spec["penalty"] else ""
    single = spec["scoring"] != "per_option"

    def marker(option: dict) -> str:
        if option["correct"]:
            return "=" if single else "~" + share
        # An option text that itself starts like a weight needs an explicit one before it.
        return "~" + (cost or (_weight(0) if _WEIGHT.match(option["text"]) else ""))

    return _lines(marker(option) + _formatted(option["text"])
                  + (f"#{_formatted(option['feedback'])}" if option["feedback"] else "")
                  for option in options)


def _write_true_false(spec: dict) -> str:
    answer = spec["answer"]
    right = spec["feedback_true"] if answer else spec["feedback_false"]
    wrong = spec["feedback_false"] if answer else spec["feedback_true"]
    written = ("TRUE" if answer else "FALSE") + (f"#{_formatted(wrong)}" if wrong or right else "")
    return written + (f"#{_formatted(right)}" if right else "")


def _write_numeric(spec: dict) -> str:
    value, tolerance = float(spec["answer"]), float(spec["tolerance"])
    if spec["tolerance_kind"] == "percent":
        tolerance = abs(value) * tolerance / 100
    return f"#{value!r}:{tolerance!r}"


def _write_short_text(spec: dict) -> str:
    return _lines("=" + (_weight(100) if _WEIGHT.match(answer) else "") + _formatted(answer)
                  for answer in spec["accepted"])


def _write_matching(spec: dict) -> str:
    return _lines(f"={_formatted(left)} -> {_escape(right)}" for left, right in spec["pairs"])


_WRITERS = {"single": _write_choice, "multiple": _write_choice, "true_false": _write_true_false,
            "numeric": _write_numeric, "short_text": _write_short_text, "matching": _write_matching}
