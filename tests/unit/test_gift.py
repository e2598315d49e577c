"""GIFT import and export: Moodle's documented examples, line-numbered errors, escapes, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from academy_app.services import gift
from academy_app.services.errors import Invalid
from academy_app.services.gift import GiftError, GiftQuestion

# Examples from Moodle's "GIFT format" page, one of each supported type, with comments, titles,
# formats, feedback, weights and a category.
SAMPLE = """\
// Examples from docs.moodle.org, GIFT format
$CATEGORY: $course$/top/History/Grant

// multiple choice with feedback for right and wrong answers
::Q2:: What's between orange and green in the spectrum?
{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }

::Missing word::Grant is {~buried =entombed ~living} in Grant's tomb.

::Q1:: 1+1=2 {T}

::Tomb::Grant is buried in Grant's tomb.{FALSE#No, he lies there.#Right: he does not.}

// fill-in-the-blank
::Q3:: Two plus {=two =2} equals four.

::Q4:: Which animal eats which food? { =cat -> cat food =dog -> dog food }

::Q5:: What is a number from 1 to 5? {#3:2}

::Q6:: What is a number from 1 to 5? {#1..5}

::Pi::[markdown]What is the value of *pi* (to 3 decimal places)? {#3.14159:0.0005####Remember 3.14}

$CATEGORY: $course$/top/Grant's family

::Two people::What two people are entombed in Grant's tomb? {
   ~%-100%No one
   ~%50%Grant
   ~%50%Grant's wife
   ~%-100%Grant's father
}

[html]Match the countries with their capitals. {
   =Canada -> Ottawa
   =Italy  -> Rome
   =Japan  -> Tokyo
   ####It's good to know the capitals
}
"""


def mc(text: str, correct: bool, feedback: str = "") -> dict:
    return {"text": text, "correct": correct, "feedback": feedback}


def question(kind: str, title: str, stem: str, spec: dict, explanation: str = "",
             tags: tuple[str, ...] = ()) -> GiftQuestion:
    return GiftQuestion(kind=kind, title=title, stem=stem, points=1.0, spec=spec,
                        explanation=explanation, tags=tags)


GRANT = ("History", "Grant")
EXPECTED = [
    question("single", "Q2", "What's between orange and green in the spectrum?",
             {"options": [mc("yellow", True, "right; good!"), mc("red", False, "wrong, it's yellow"),
                          mc("blue", False, "wrong, it's yellow")],
              "scoring": "all_or_nothing", "penalty": 0.0}, tags=GRANT),
    question("single", "Missing word", "Grant is _____ in Grant's tomb.",
             {"options": [mc("buried", False), mc("entombed", True), mc("living", False)],
              "scoring": "all_or_nothing", "penalty": 0.0}, tags=GRANT),
    question("true_false", "Q1", "1+1=2", {"answer": True, "feedback_true": "", "feedback_false": ""},
             tags=GRANT),
    question("true_false", "Tomb", "Grant is buried in Grant's tomb.",
             {"answer": False, "feedback_true": "No, he lies there.",
              "feedback_false": "Right: he does not."}, tags=GRANT),
    question("short_text", "Q3", "Two plus _____ equals four.",
             {"accepted": ["two", "2"], "regex": "", "case_sensitive": False}, tags=GRANT),
    question("matching", "Q4", "Which animal eats which food?",
             {"pairs": [["cat", "cat food"], ["dog", "dog food"]]}, tags=GRANT),
    question("numeric", "Q5", "What is a number from 1 to 5?",
             {"answer": 3.0, "tolerance": 2.0, "tolerance_kind": "absolute"}, tags=GRANT),
    question("numeric", "Q6", "What is a number from 1 to 5?",
             {"answer": 3.0, "tolerance": 2.0, "tolerance_kind": "absolute"}, tags=GRANT),
    question("numeric", "Pi", "What is the value of *pi* (to 3 decimal places)?",
             {"answer": 3.14159, "tolerance": 0.0005, "tolerance_kind": "absolute"},
             explanation="Remember 3.14", tags=GRANT),
    question("multiple", "Two people", "What two people are entombed in Grant's tomb?",
             {"options": [mc("No one", False), mc("Grant", True), mc("Grant's wife", True),
                          mc("Grant's father", False)],
              "scoring": "per_option", "penalty": 1.0}, tags=("Grant's family",)),
    question("matching", "Match the countries with their capitals.",
             "Match the countries with their capitals.",
             {"pairs": [["Canada", "Ottawa"], ["Italy", "Rome"], ["Japan", "Tokyo"]]},
             explanation="It's good to know the capitals", tags=("Grant's family",)),
]


def test_moodle_documentation_examples_import_as_our_question_kinds():
    imported = gift.parse(SAMPLE)
    assert imported.errors == []
    assert imported.warnings == []
    assert imported.questions == EXPECTED


def test_exported_sample_imports_to_the_same_questions():
    assert gift.parse(gift.export(EXPECTED)).questions == EXPECTED


def test_export_writes_the_syntax_moodle_reads():
    two_people = EXPECTED[9]
    assert gift.export([two_people, EXPECTED[2]]) == (
        "$CATEGORY: $course$/top/Grant's family\n\n"
        "::Two people::[markdown]What two people are entombed in Grant's tomb?{\n"
        "\t~%-100%No one\n\t~%50%Grant\n\t~%50%Grant's wife\n\t~%-100%Grant's father\n}\n\n"
        "$CATEGORY: $course$/top/History/Grant\n\n"
        "::Q1::[markdown]1+1\\=2{TRUE}\n\n")


def test_windows_line_endings_read_the_same():
    assert gift.parse(SAMPLE.replace("\n", "\r\n")).questions == EXPECTED


def test_escaped_characters_are_text_and_a_backslash_n_is_a_line_break():
    text = r"::A\:B:: Is 1\+1 \= 2 \{really\} \# \~ a\\b\nnext line? {=yes\: sure \~ \#1 ~no}"
    [imported] = gift.parse(text).questions
    assert imported.title == "A:B"
    assert imported.stem == "Is 1\\+1 = 2 {really} # ~ a\\b\nnext line?"
    assert imported.spec["options"] == [mc("yes: sure ~ #1", True), mc("no", False)]


def test_a_format_tag_is_dropped_from_stems_options_and_feedback_but_not_titles():
    text = "::[html]T::[plain]Stem{=[markdown]right#[html]<b>yes</b> ~[moodle]wrong}"
    [imported] = gift.parse(text).questions
    assert (imported.title, imported.stem) == ("[html]T", "Stem")
    assert imported.spec["options"] == [mc("right", True, "<b>yes</b>"), mc("wrong", False)]


def test_a_category_without_context_gives_its_path_as_tags_and_double_slash_is_a_slash():
    text = "$CATEGORY: Maths/Input//Output/ Sets \nQ{T}\n\n$CATEGORY: $course$/top\n\nR{F}"
    first, second = gift.parse(text).questions
    assert first.tags == ("Maths", "Input/Output", "Sets")
    assert second.tags == ()


def test_general_feedback_and_true_false_feedback_go_to_the_right_choice():
    [true] = gift.parse("Sky is blue{TRUE#Look up#Yes####Rayleigh}").questions
    assert true.spec == {"answer": True, "feedback_true": "Yes", "feedback_false": "Look up"}
    assert true.explanation == "Rayleigh"


def test_single_choice_penalty_comes_from_negative_weights():
    [imported] = gift.parse("Pick{=a ~%-25%b ~%-25%c}").questions
    assert imported.spec["penalty"] == 0.25


@pytest.mark.parametrize(("text", "warning"), [
    ("::Q7:: Grant born? {#\n =1822:0 # Correct!\n =%50%1822:2 # Close.\n}", "Only the full-credit number"),
    ("Who? {=no one =%50%nobody}", "Only full-credit answers"),
    ("Best? {=best ~%50%good ~bad}", "Partial credit in a single-choice"),
    ("Which? {~%70%a ~%30%b ~c}", "Uneven weights"),
    ("Which? {~%50%a ~%50%b ~%-50%c ~%-100%d}", "Different negative weights"),
])
def test_what_our_kinds_cannot_hold_imports_with_a_line_numbered_warning(text, warning):
    imported = gift.parse("// first\n\n" + text)
    assert len(imported.questions) == 1
    [note] = imported.warnings
    assert note.line >= 3
    assert note.message.startswith(warning)


def test_multiple_numeric_answers_keep_the_full_credit_one():
    [imported] = gift.parse("Born? {#\n=%50%1822:2\n=1822:0\n}").questions
    assert imported.spec == {"answer": 1822.0, "tolerance": 0.0, "tolerance_kind": "absolute"}


def test_numbers_are_read_as_a_learners_answer_is():
    """One reader of typed numbers (grading.parse_number): a decimal comma works in GIFT too, and
    what a learner could not type as a number is not a number here either."""
    [comma] = gift.parse("Pi? {#3,14:0,01}").questions
    assert comma.spec == {"answer": 3.14, "tolerance": 0.01, "tolerance_kind": "absolute"}
    [spaced] = gift.parse("From 1 to 2? {# 1 .. 2 }").questions
    assert spaced.spec["answer"] == 1.5 and spaced.spec["tolerance"] == 0.5
    for text in ("Huge? {#1e999}", "Empty margin? {#3:}", "Negative margin? {#3:-1}"):
        assert not gift.parse(text).questions and gift.parse(text).errors


BAD = """\
::Good::One {T}

// an unclosed brace
::Unclosed::Two {=a ~b

::Unknown:: Three {maybe}

::Empty:: Four {
  =a
  ~
}

::Essay:: Five {}

Just a description line.

::Closer:: Six } oops

::Two blocks:: Seven {T}
::Eight:: {F}

::Number:: Nine {#twelve}

::Backwards:: Ten {#5..1}

::Untitled Eleven {T}

::Pairs:: Twelve {=a -> 1 =b}

::Twice:: Thirteen {=a =b ~c}

::NoRight:: Fourteen {~a ~b}

::Weight:: Fifteen {~%150%a ~b}

::Last:: Sixteen {F}
"""


EXPECTED_ERRORS = [
    (4, "This { is never closed with }"),
    (6, "Unknown question type"),
    (10, "An answer is empty"),
    (13, "An essay"),
    (15, "A description"),
    (17, "This } closes no {"),
    (20, "A second {…} in one question"),
    (22, "“twelve” is not a number, number"),
    (24, "The range 5..1 runs backwards"),
    (26, "The title has no closing ::"),
    (28, "Each matching pair is written =left -> right"),
    (30, "Only one answer may start with ="),
    (32, "No answer is right"),
    (34, "The weight %150% is not between -100% and 100%"),
]


def test_malformed_questions_are_skipped_with_the_line_that_is_wrong():
    imported = gift.parse(BAD)
    assert [q.title for q in imported.questions] == ["Good", "Last"]
    for error, (line, start) in zip(imported.errors, EXPECTED_ERRORS, strict=True):
        assert (error.line, error.message[:len(start)]) == (line, start)


def test_a_question_with_only_text_before_its_answers_names_the_line_with_the_brace():
    [error] = gift.parse("::T::\nLong stem\non lines\n{\n=a\n~b").errors
    assert error == GiftError(4, "This { is never closed with }")


def test_a_question_with_too_many_answers_is_refused_before_they_are_read():
    [error] = gift.parse("\n\nQ{" + "~a\n" * (gift.MAX_ANSWERS + 1) + "=b}").errors
    assert error == GiftError(3, f"More than {gift.MAX_ANSWERS} answers in one question")


def test_a_file_over_the_size_limit_is_refused_whole():
    imported = gift.parse("Q{T}\n\n" * (gift.MAX_BYTES // 6 + 1))
    assert imported.questions == []
    assert imported.errors == [GiftError(1, "The file is larger than 1 MB: split it into smaller files")]


def test_a_file_with_too_many_questions_is_refused_naming_the_first_one_over():
    imported = gift.parse("Q{T}\n\n" * (gift.MAX_QUESTIONS + 1))
    assert imported.questions == []
    assert imported.errors == [GiftError(2 * gift.MAX_QUESTIONS + 1,
                                         f"More than {gift.MAX_QUESTIONS} questions: split the file")]


def test_export_refuses_what_gift_would_grade_differently_naming_each_question():
    ordering = question("ordering", "Put in order", "Sort", {"items": ["a", "b"]})
    strict = question("short_text", "Capital", "France?",
                      {"accepted": ["Paris"], "regex": "", "case_sensitive": True})
    with pytest.raises(Invalid) as refused:
        gift.export([EXPECTED[0], ordering, strict])
    assert refused.value.message == (
        "Cannot export to GIFT: “Put in order”: GIFT has no ordering questions; "
        "“Capital”: GIFT short answers have no regex and ignore case")


def test_percent_tolerance_is_written_as_the_same_absolute_one():
    percent = question("numeric", "g", "Gravity?",
                       {"answer": -9.8, "tolerance": 10.0, "tolerance_kind": "percent"})
    [imported] = gift.parse(gift.export([percent])).questions
    assert imported.spec == {"answer": -9.8, "tolerance": pytest.approx(0.98), "tolerance_kind": "absolute"}


# ---- properties ---------------------------------------------------------------------------------

# Text with GIFT's special characters in it, as a stem, option or feedback may hold. Stripped and
# without \r, since GIFT trims every text and has no way to write a carriage return.
AWKWARD = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    [*"~=#{}:\\%->.[]/$_ \n", "[html]", "[markdown]", "%50%", "->", "####", "::", "//", "\\n", "{#"])
TEXT = st.lists(AWKWARD, min_size=1, max_size=12).map("".join).map(str.strip).filter(bool)
OPTIONAL_TEXT = st.just("") | TEXT
LINE = TEXT.map(lambda text: " ".join(text.split())).filter(bool)
TAG = LINE.filter(lambda tag: not tag.startswith("/"))
FINITE = st.floats(allow_nan=False, allow_infinity=False)


def options(draw: st.DrawFn, correct: list[bool]) -> list[dict]:
    return [mc(draw(TEXT), right, draw(OPTIONAL_TEXT)) for right in correct]


@st.composite
def single_specs(draw: st.DrawFn) -> dict:
    size = draw(st.integers(2, 6))
    right = draw(st.integers(0, size - 1))
    return {"options": options(draw, [i == right for i in range(size)]), "scoring": "all_or_nothing",
            "penalty": draw(st.integers(0, 100)) / 100}


@st.composite
def multiple_specs(draw: st.DrawFn) -> dict:
    correct = draw(st.lists(st.booleans(), min_size=2, max_size=7).filter(any))
    return {"options": options(draw, correct), "scoring": "per_option",
            "penalty": draw(st.integers(0, 100)) / 100 if not all(correct) else 0.0}


SPECS = {
    "single": single_specs(),
    "multiple": multiple_specs(),
    "true_false": st.fixed_dictionaries({"answer": st.booleans(), "feedback_true": OPTIONAL_TEXT,
                                         "feedback_false": OPTIONAL_TEXT}),
    "numeric": st.fixed_dictionaries({"answer": FINITE, "tolerance": FINITE.map(abs),
                                      "tolerance_kind": st.just("absolute")}),
    "short_text": st.fixed_dictionaries({
        "accepted": st.lists(TEXT.filter(lambda text: "->" not in text), min_size=1, max_size=4),
        "regex": st.just(""), "case_sensitive": st.just(False)}),
    "matching": st.fixed_dictionaries({"pairs": st.lists(
        st.tuples(TEXT.filter(lambda text: "->" not in text), TEXT).map(list), min_size=2, max_size=5)}),
}


@st.composite
def questions(draw: st.DrawFn) -> GiftQuestion:
    kind = draw(st.sampled_from(sorted(SPECS)))
    return GiftQuestion(kind=kind, title=draw(TEXT), stem=draw(TEXT), points=1.0, spec=draw(SPECS[kind]),
                        explanation=draw(OPTIONAL_TEXT), tags=tuple(draw(st.lists(TAG, max_size=3))))


@settings(max_examples=400)
@given(questions())
def test_every_exportable_question_survives_export_and_import(original):
    imported = gift.parse(gift.export([original]))
    assert imported.errors == []
    assert imported.questions == [original]


@given(st.lists(questions(), max_size=6))
def test_a_bank_survives_export_and_import_in_order_with_its_tags(originals):
    assert gift.parse(gift.export(originals)).questions == originals


GIFTISH = st.lists(st.sampled_from(
    [*"{}~=#:%->.\\/$[]TFab01 \t\n\r", "::", "//", "####", "$CATEGORY:", "[html]", "..", "->"]
)).map("".join)


@settings(max_examples=300)
@given(st.text() | GIFTISH)
def test_any_text_imports_without_raising(text):
    imported = gift.parse(text)
    last_line = text.count("\n") + text.count("\r") + 1
    assert all(1 <= problem.line <= last_line for problem in imported.errors + imported.warnings)
