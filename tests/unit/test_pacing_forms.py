"""The pacing page reads its forms into the service's typed specs before calling it
(admin/pacing.py): dates, day counts, scores and seats, each mistake with its own message."""

from __future__ import annotations

from datetime import datetime

import pytest

from academy_app.admin.pacing import cohort_spec, rule_spec
from academy_app.models import ReleaseKind
from academy_app.services.access import CohortSpec, RuleSpec
from academy_app.services.errors import Invalid


@pytest.mark.parametrize(("form", "spec"), [
    ({"kind": "none"}, None),
    ({"kind": "on_date", "opens_at": "2026-12-09T09:00"},
     RuleSpec(ReleaseKind.ON_DATE, opens_at_local=datetime(2026, 12, 9, 9, 0))),
    ({"kind": "on_date", "opens_at": " 2026-12-09 09:00:59 "},
     RuleSpec(ReleaseKind.ON_DATE, opens_at_local=datetime(2026, 12, 9, 9, 0))),
    ({"kind": "after_cohort_start", "days": "7"}, RuleSpec(ReleaseKind.AFTER_COHORT_START, days=7)),
    ({"kind": "after_enrolment", "days": "0"}, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=0)),
    ({"kind": "after_completion", "after_lesson": "12", "min_score": ""},
     RuleSpec(ReleaseKind.AFTER_COMPLETION, after_lesson_id=12)),
    ({"kind": "after_completion", "after_lesson": "12", "min_score": "70"},
     RuleSpec(ReleaseKind.AFTER_COMPLETION, after_lesson_id=12, min_score_percent=70)),
    ({"kind": "in_sequence", "days": "junk"}, RuleSpec(ReleaseKind.IN_SEQUENCE)),
])
def test_a_rule_form_becomes_the_services_spec(form, spec):
    assert rule_spec(form) == spec


@pytest.mark.parametrize(("form", "errors"), [
    ({"kind": "on_date", "opens_at": ""}, {"opens_at": "Choose a date and time"}),
    ({"kind": "on_date", "opens_at": "next tuesday"},
     {"opens_at": "Enter a date and time like 2026-12-09 09:00"}),
    ({"kind": "on_date", "opens_at": "2026-12-09T09:00+01:00"},
     {"opens_at": "Give the time as the course's clock shows it, without a zone"}),
    ({"kind": "on_date", "opens_at": "1999-12-31T23:59"},
     {"opens_at": "Choose a date between 2000 and 2100"}),
    ({"kind": "after_cohort_start", "days": "a week"},
     {"days": "Enter a number of days from 0 to 3650"}),
    ({"kind": "after_enrolment", "days": "-1"}, {"days": "Enter a number of days from 0 to 3650"}),
    ({"kind": "after_enrolment", "days": "٣"}, {"days": "Enter a number of days from 0 to 3650"}),
    ({"kind": "after_completion", "after_lesson": "", "min_score": "101"},
     {"after_lesson": "Choose the lesson to complete first",
      "min_score": "Enter a score from 0 to 100"}),
])
def test_a_rule_form_with_mistakes_says_which_field_is_wrong(form, errors):
    with pytest.raises(Invalid) as refused:
        rule_spec(form)
    assert refused.value.errors == errors


def test_a_cohort_form_becomes_the_services_spec():
    form = {"name": " Winter ", "starts_at": "2027-01-11T09:00", "capacity": "20",
            "enrol_from": "", "enrol_until": "2027-01-18T09:00"}
    assert cohort_spec(form) == CohortSpec("Winter", datetime(2027, 1, 11, 9, 0), 20, None,
                                           datetime(2027, 1, 18, 9, 0))


def test_a_cohort_form_with_mistakes_says_which_field_is_wrong():
    with pytest.raises(Invalid) as refused:
        cohort_spec({"name": " ", "starts_at": "", "capacity": "0", "enrol_from": "soon"})
    assert refused.value.errors == {
        "name": "Give the cohort a name", "starts_at": "Choose a date and time",
        "capacity": "Enter a number of seats from 1 to 10000",
        "enrol_from": "Enter a date and time like 2026-12-09 09:00"}
