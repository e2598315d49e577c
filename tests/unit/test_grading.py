"""Grading: every question type's spec, response and score, with no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academy_app.services import grading
from academy_app.services.errors import Invalid

OPTIONS = [{"text": "A", "correct": True, "feedback": "A is right"},
           {"text": "B", "correct": True, "feedback": ""},
           {"text": "C", "correct": False, "feedback": "C is a trap"},
           {"text": "D", "correct": False, "feedback": ""}]


def score(kind: str, spec: dict, response: dict) -> float:
    return grading.grade(kind, grading.validate_spec(kind, spec), response).fraction


def test_single_choice_scores_the_one_right_option_and_gives_its_feedback():
    spec = grading.validate_spec("single", {"options": [
        {"text": "Paris", "correct": True, "feedback": "Yes"},
        {"text": "Lyon", "correct": False, "feedback": "A city, not the capital"},
        {"text": "Nice"}]})
    assert grading.grade("single", spec, {"choice": 0}) == grading.Grade(1.0, ("Yes",))
    assert grading.grade("single", spec, {"choice": 1}) == grading.Grade(
        0.0, ("A city, not the capital",))
    assert grading.grade("single", spec, None).fraction == 0
    assert grading.describe_key("single", spec) == "Paris"


@pytest.mark.parametrize(("choices", "all_or_nothing", "per_option"), [
    ([0, 1], 1.0, 1.0),
    ([0], 0.0, 0.5),
    ([0, 2], 0.0, 0.25),  # +1/2 for A, -0.5/2 for C
    ([0, 1, 2, 3], 0.0, 0.5),  # everything: 1 - penalty
    ([2, 3], 0.0, 0.0),  # never below 0
    ([], 0.0, 0.0),
])
def test_multiple_choice_all_or_nothing_and_per_option_with_penalty(choices, all_or_nothing,
                                                                     per_option):
    strict = {"options": OPTIONS, "scoring": "all_or_nothing"}
    partial = {"options": OPTIONS, "scoring": "per_option", "penalty": 0.5}
    assert score("multiple", strict, {"choices": choices}) == all_or_nothing
    assert score("multiple", partial, {"choices": choices}) == pytest.approx(per_option)


def test_multiple_choice_feedback_is_that_of_the_chosen_options():
    spec = grading.validate_spec("multiple", {"options": OPTIONS})
    assert grading.grade("multiple", spec, {"choices": [2, 0]}).feedback == ("A is right",
                                                                             "C is a trap")


def test_true_false_with_feedback_for_the_answer_given():
    spec = grading.validate_spec("true_false", {"answer": False, "feedback_true": "No: it sinks"})
    assert grading.grade("true_false", spec, {"value": False}).correct
    assert grading.grade("true_false", spec, {"value": True}) == grading.Grade(0.0,
                                                                               ("No: it sinks",))


def test_numeric_accepts_typed_numbers_within_absolute_or_percent_tolerance():
    absolute = {"answer": 3.14, "tolerance": 0.01}
    assert score("numeric", absolute, {"value": "3,145"}) == 1
    assert score("numeric", absolute, {"value": 3.13}) == 1
    assert score("numeric", absolute, {"value": "3.2"}) == 0
    percent = {"answer": 200, "tolerance": 5, "tolerance_kind": "percent"}
    assert score("numeric", percent, {"value": 210}) == 1
    assert score("numeric", percent, {"value": 211}) == 0
    assert score("numeric", {"answer": 0.3}, {"value": 0.1 + 0.2}) == 1


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(answer=finite, tolerance=st.floats(min_value=0, max_value=1e3),
       share=st.floats(min_value=0, max_value=0.999), sign=st.sampled_from([-1, 1]),
       kind=st.sampled_from(["absolute", "percent"]))
def test_numeric_tolerance_holds_inside_and_refuses_outside(answer, tolerance, share, sign, kind):
    bound = tolerance if kind == "absolute" else abs(answer) * tolerance / 100
    spec = {"answer": answer, "tolerance": tolerance, "tolerance_kind": kind}
    assert score("numeric", spec, {"value": answer + sign * bound * share}) == 1
    assert score("numeric", spec, {"value": answer + sign * (bound * 1.01 + 1e-3)}) == 0


def test_short_text_normalises_case_and_spaces_and_full_matches_a_regex():
    spec = {"accepted": ["Guido van Rossum"], "regex": r"(guido )?van rossum"}
    assert score("short_text", spec, {"text": "  guido   VAN rossum "}) == 1
    assert score("short_text", spec, {"text": "Van Rossum"}) == 1
    assert score("short_text", spec, {"text": "Mr van Rossum"}) == 0  # the regex is full-match
    strict = {"accepted": ["SQL"], "case_sensitive": True}
    assert score("short_text", strict, {"text": "sql"}) == 0
    assert score("short_text", strict, {"text": " SQL "}) == 1


words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéßİ0123456789", min_size=1,
                         max_size=8), min_size=1, max_size=4)


@given(words=words, gaps=st.lists(st.sampled_from([" ", "  ", "\t", " \n "]), min_size=4,
                                  max_size=4), upper=st.booleans())
def test_short_text_answers_match_whatever_their_case_and_spacing(words, gaps, upper):
    accepted = " ".join(words)
    typed = gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:] * 2, strict=False)).strip()
    typed = typed.upper() if upper else typed
    assert grading.normalize_text(typed) == grading.normalize_text(accepted.upper())
    assert score("short_text", {"accepted": [accepted]}, {"text": typed}) == 1


def test_ordering_and_matching_give_partial_credit():
    items = {"items": ["one", "two", "three", "four"]}
    assert score("ordering", items, {"order": [0, 1, 2, 3]}) == 1
    assert score("ordering", items, {"order": [0, 1, 3, 2]}) == 0.5
    pairs = {"pairs": [["cat", "meow"], ["dog", "woof"], ["cow", "moo"], ["owl", "hoot"]]}
    assert score("matching", pairs, {"matches": {"0": 0, "1": 1, "2": 3}}) == 0.5
    assert score("matching", pairs, {"matches": {"0": 0, "1": 1, "2": 2, "3": 3}}) == 1
    assert grading.describe_key("ordering", items) == "one → two → three → four"


@pytest.mark.parametrize(("kind", "spec", "message"), [
    ("single", {"options": [{"text": "a", "correct": True}, {"text": "b", "correct": True}]},
     "exactly one correct"),
    ("single", {"options": [{"text": "a", "correct": True}]}, "between 2"),
    ("multiple", {"options": [{"text": "a"}, {"text": "a", "correct": True}]}, "same text"),
    ("multiple", {"options": [{"text": "a"}, {"text": "b"}]}, "at least one option"),
    ("multiple", {"options": OPTIONS, "penalty": 2}, "penalty"),
    ("multiple", {"options": [{"text": "a", "correct": "yes"}, {"text": "b"}]}, "true or false"),
    ("true_false", {"answer": "true"}, "true or false"),
    ("numeric", {"answer": "nan"}, "as a number"),
    ("numeric", {"answer": 1, "tolerance": -1}, "0 or more"),
    ("short_text", {"accepted": []}, "at least one"),
    ("short_text", {"accepted": [], "regex": "(a+)+$"}, "repeats inside a repeat"),
    ("short_text", {"accepted": [], "regex": "(ab|a)*"}, "alternatives"),
    ("short_text", {"accepted": [], "regex": r"(a)\1"}, "Back-references"),
    ("short_text", {"accepted": [], "regex": "a{1000}"}, "repeat counts"),
    ("short_text", {"accepted": [], "regex": "(unclosed"}, "not a valid"),
    ("short_text", {"accepted": [], "regex": "x" * 300}, "under 200"),
    ("ordering", {"items": ["a", "a"]}, "different"),
    ("matching", {"pairs": [["a", "1"], ["b"]]}, "left and a right"),
    ("matching", {"pairs": [["a", "1"], ["b", "1"]]}, "different"),
    ("essay", {}, "question type"),
])
def test_a_bad_spec_is_refused_with_a_message_for_the_author(kind, spec, message):
    with pytest.raises(Invalid) as refused:
        grading.validate_spec(kind, spec)
    assert message in refused.value.message


CHOICE = grading.validate_spec("multiple", {"options": OPTIONS})


@pytest.mark.parametrize(("kind", "spec", "response"), [
    ("single", CHOICE, {"choice": 9}),
    ("single", CHOICE, {"choice": True}),
    ("single", CHOICE, {"choice": "0"}),
    ("single", CHOICE, {"choice": 0, "extra": 1}),
    ("single", CHOICE, ["choice", 0]),
    ("multiple", CHOICE, {"choices": [0, 0]}),
    ("multiple", CHOICE, {"choices": list(range(10_000))}),
    ("true_false", {"answer": True}, {"value": 1}),
    ("numeric", {"answer": 1.0}, {"value": "1e999"}),
    ("numeric", {"answer": 1.0}, {"value": "NaN"}),
    ("numeric", {"answer": 1.0}, {"value": "1" * 1000}),
    ("short_text", {"accepted": ["x"]}, {"text": "x" * 10_000}),
    ("short_text", {"accepted": ["x"]}, {"text": None}),
    ("ordering", {"items": ["a", "b"]}, {"order": [0, 0]}),
    ("ordering", {"items": ["a", "b"]}, {"order": [0]}),
    ("matching", {"pairs": [["a", "1"], ["b", "2"]]}, {"matches": {"0": 5}}),
    ("matching", {"pairs": [["a", "1"], ["b", "2"]]}, {"matches": {"-1": 0}}),
    ("matching", {"pairs": [["a", "1"], ["b", "2"]]}, {"matches": {str(i): 0 for i in range(99)}}),
])
def test_a_malformed_or_oversized_response_is_refused(kind, spec, response):
    with pytest.raises(Invalid) as refused:
        grading.validate_response(kind, spec, response)
    assert "response" in refused.value.errors
    assert grading.grade(kind, spec, response).fraction == 0  # and never an error when graded
