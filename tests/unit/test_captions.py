"""Video lessons' WebVTT captions: read strictly at save, served to whoever may open the lesson."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.models import Lesson, LessonKind, Module
from academy_app.services import accounts, authoring, enrollment, lessons
from academy_app.services.authoring import LessonForm
from academy_app.services.captions import MAX_BYTES, Cue, clock, read_webvtt
from academy_app.services.errors import Invalid
from academy_app.settings import get_settings
from academy_app.state.rows import transcript_lines
from tests.factories import make_course, make_user

GOOD = (
    "\ufeffWEBVTT - lesson one\r\n"
    "Kind: captions\r\n"
    "\r\n"
    "NOTE written by the instructor\r\n"
    "\r\n"
    "intro\r\n"
    "00:00.000 --> 00:02.500 align:start position:10%\r\n"
    "<v Iris>Hello &amp; <b>welcome</b></v>\r\n"
    "to the course\r\n"
    "\r\n"
    "01:00:01.250 --> 01:00:04.000\r\n"
    "An hour in.\r\n"
)


def test_a_well_formed_file_gives_its_cues_as_plain_text():
    assert read_webvtt(GOOD) == [
        Cue(start=0.0, end=2.5, text="Hello & welcome to the course"),
        Cue(start=3601.25, end=3604.0, text="An hour in."),
    ]


def test_the_transcript_shows_when_each_line_is_spoken():
    lines = transcript_lines(read_webvtt(GOOD))
    assert [(line.at, line.text) for line in lines] == [
        ("0:00", "Hello & welcome to the course"), ("1:00:01", "An hour in.")]
    assert clock(65.9) == "1:05"


@pytest.mark.parametrize(("text", "message"), [
    ("", 'Line 1: A WebVTT file starts with the line "WEBVTT"'),
    ("WEBVTTX\n", 'Line 1: A WebVTT file starts with the line "WEBVTT"'),
    ("1\n00:00.000 --> 00:01.000\nHi\n", 'Line 1: A WebVTT file starts with the line "WEBVTT"'),
    ("WEBVTT\n\n00:00.000 -> 00:01.000\nHi\n", "Line 3: A cue needs a timing line"),
    ("WEBVTT\n\nid\nsecond id\n", "Line 3: A cue needs a timing line"),
    ("WEBVTT\n\n0:00.000 --> 00:01.000\nHi\n", "Line 3: Write times as mm:ss.ttt"),
    ("WEBVTT\n\n00:61.000 --> 01:01.000\nHi\n", "Line 3: Write times as mm:ss.ttt"),
    ("WEBVTT\n\ncue\n00:02.000 --> 00:01.000\nHi\n", "Line 4: A cue must end after it starts"),
    ("WEBVTT\n\n00:05.000 --> 00:06.000\nA\n\n00:01.000 --> 00:02.000\nB\n",
     "Line 6: Cues must be in order of their start times"),
])
def test_a_mistake_is_named_with_its_line(text, message):
    with pytest.raises(Invalid) as refused:
        read_webvtt(text)
    assert refused.value.errors["captions"].startswith(message)


def test_an_oversized_file_is_refused_before_it_is_read():
    with pytest.raises(Invalid, match="larger than 512 KB"):
        read_webvtt("WEBVTT\n\n" + "x" * MAX_BYTES)


@given(st.lists(st.tuples(st.integers(0, 5 * 3600 * 1000), st.integers(1, 60_000),
                          st.text(st.characters(categories=("L", "N", "Zs")), min_size=1,
                                  max_size=40).map(" ".join).filter(str.strip)),
                min_size=1, max_size=20))
def test_any_cues_written_out_read_back_the_same(cues):
    cues = sorted(cues)

    def stamp(millis: int) -> str:
        seconds, ms = divmod(millis, 1000)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{ms:03d}"

    text = "WEBVTT\n\n" + "\n\n".join(f"{stamp(start)} --> {stamp(start + length)}\n{words}"
                                      for start, length, words in cues)
    assert read_webvtt(text) == [Cue(start=start / 1000, end=(start + length) / 1000,
                                     text=" ".join(words.split()))
                                 for start, length, words in cues]


# -- authoring -------------------------------------------------------------------------------------

def video_form(**fields: str) -> LessonForm:
    return LessonForm(**{"title": "Watch", "kind": "video",
                         "video_url": "https://media.example.com/a.mp4", **fields})


def test_a_video_lesson_keeps_its_poster_and_captions(db, instructor):
    course = make_course(db, instructor)
    module = db.exec(select(Module).where(Module.course_id == course.id)).first()
    lesson = authoring.add_lesson(db, instructor, module.id, video_form(
        poster_url="https://media.example.com/a.jpg", captions=GOOD))
    assert (lesson.poster_url, lesson.captions_vtt) == ("https://media.example.com/a.jpg",
                                                        GOOD.strip())


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"poster_url": "javascript:alert(1)"}, "poster_url", "https://"),
    ({"captions": "WEBVTT\n\n00:02.000 --> 00:01.000\nHi"}, "captions", "Line 3"),
])
def test_a_bad_poster_or_captions_is_refused_next_to_its_field(db, instructor, fields, field,
                                                               message):
    course = make_course(db, instructor)
    module = db.exec(select(Module).where(Module.course_id == course.id)).first()
    with pytest.raises(Invalid) as refused:
        authoring.add_lesson(db, instructor, module.id, video_form(**fields))
    assert message in refused.value.errors[field]


def test_a_text_lesson_drops_video_extras(db, instructor):
    course = make_course(db, instructor)
    lesson = db.exec(select(Lesson).join(Module).where(Module.course_id == course.id,
                                                       Lesson.kind == LessonKind.VIDEO)).first()
    authoring.update_lesson(db, instructor, lesson.id, video_form(captions=GOOD))
    authoring.update_lesson(db, instructor, lesson.id, LessonForm(
        title="Now reading", kind="text", poster_url="https://x.example/a.jpg", captions=GOOD))
    assert (lesson.video_url, lesson.poster_url, lesson.captions_vtt) == ("", "", "")


# -- /lessons/<id>/captions.vtt ---------------------------------------------------------------------

def test_captions_are_served_to_learners_of_the_course_only(db, instructor):
    course = make_course(db, instructor)
    lesson = db.exec(select(Lesson).join(Module).where(Module.course_id == course.id,
                                                       Lesson.kind == LessonKind.VIDEO)).first()
    authoring.update_lesson(db, instructor, lesson.id, video_form(captions=GOOD))
    learner, outsider = make_user(db), make_user(db)
    enrollment.enroll_free(db, learner, course.id)
    tokens = {user.id: accounts.start_session(db, user) for user in (learner, outsider)}
    text_lesson = db.exec(select(Lesson.id).join(Module).where(
        Module.course_id == course.id, Lesson.kind == LessonKind.TEXT)).first()
    db.commit()  # SQLite: one writer at a time, and the requests below write the login's last use
    client = TestClient(routes, base_url=get_settings().origins[0])
    address = f"/lessons/{lesson.id}/captions.vtt"

    def fetch(user=None, path=address):
        cookies = {SESSION_COOKIE: tokens[user.id]} if user else {}
        client.cookies.clear()
        return client.get(path, cookies=cookies)

    served = fetch(learner)
    assert served.status_code == 200 and served.text == GOOD.strip()
    assert served.headers["content-type"] == "text/vtt; charset=utf-8"
    assert served.headers["cache-control"] == "private, no-cache"
    assert fetch().status_code == 401
    assert fetch(outsider).status_code == 403
    assert fetch(learner, f"/lessons/{text_lesson}/captions.vtt").status_code == 404
    assert fetch(learner, "/lessons/99999999999999999999/captions.vtt").status_code == 404
    db.commit()
    assert [cue.text for cue in lessons.open_lesson(db, learner, course.slug,
                                                    lesson.id).captions][-1] == "An hour in."
