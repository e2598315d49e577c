"""The HTML served for public pages before any script runs (api/served_html.py), read as a crawler
or a link preview reads it: a plain GET, the markup parsed without running anything."""

from __future__ import annotations

import asyncio
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse
from starlette.routing import Mount
from starlette.testclient import TestClient

from academy_app.api import served_html
from academy_app.api.routes import routes
from academy_app.components.course import SERVED_CARDS
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.models import Course, ReleaseKind, Role
from academy_app.services import access, accounts, covers, enrollment
from academy_app.services.access import RuleSpec
from academy_app.settings import get_settings
from tests.factories import make_category, make_course, make_user
from tests.unit.test_access import lessons_of

PUBLIC_URL = "https://academy.example"
# The shape of Reflex's export: its fixed title and description, its relative og:image.
EXPORTED = ('<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
            '<meta content="Academy: practical online courses, learned at your pace." '
            'name="description"/>{title}<meta content="favicon.ico" property="og:image"/>'
            '<link rel="modulepreload" href="/assets/entry.client.js"/>'
            '<script>var theme = "light";</script></head><body><div id="app">{page}</div>'
            '<script type="module" async="">import("/assets/entry.client.js");</script>'
            '</body></html>')
APP_START = 'import("/assets/entry.client.js");'


class Parsed(HTMLParser):
    """What a crawler reads: title, meta tags, links, JSON-LD and the text under <noscript>."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.canonical: list[str] = []
        self.json_ld: list[dict] = []
        self.scripts: list[str] = []
        self.readable: list[str] = []
        self._open: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "meta" and "content" in named:
            key = named.get("name") or named.get("property") or ""
            self.meta.setdefault(key, []).append(named["content"])
        elif tag == "link" and named.get("rel") == "canonical":
            self.canonical.append(named["href"])
        elif tag not in ("meta", "link", "br", "img"):
            self._open.append((tag, named))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        tags = [tag for tag, _ in self._open]
        if tags and tags[-1] == "title":
            self.titles.append(data)
        elif tags and tags[-1] == "script":
            if self._open[-1][1].get("type") == "application/ld+json":
                self.json_ld.append(json.loads(data))
            else:
                self.scripts.append(data)
        elif "noscript" in tags:
            self.readable.append(data)

    def one(self, key: str) -> str:
        assert len(self.meta.get(key, [])) == 1, (key, self.meta.get(key))
        return self.meta[key][0]

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.readable).split())


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "client"
    pages = {"index.html": ("<title>Academy — learn at your own pace</title>", "Welcome"),
             "courses/index.html": ("<title>Course catalog · Academy</title>",
                                    f'Catalog<div class="rx-Html {SERVED_CARDS}"></div>'),
             "login/index.html": ("<title>Log in · Academy</title>", "Log in"),
             "404.html": ("", "")}  # Reflex's SPA fallback: no title, an empty page
    for name, (title, page) in pages.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(EXPORTED.format(title=title, page=page))
    monkeypatch.setattr(served_html, "exported_pages", lambda: folder)
    monkeypatch.setattr(get_settings(), "public_url", PUBLIC_URL)
    return folder


async def reflex_mount(scope, receive, send) -> None:
    """Stands in for Reflex's static-file mount: says which path it was asked for, or answers
    /login with the exported page (the way it was asked for it said in a header)."""
    request = Request(scope)
    if request.url.path == "/login/":
        page = (served_html.exported_pages() / "login/index.html").read_text()
        encodings = request.headers.get("accept-encoding", "none")
        await HTMLResponse(page, headers={"x-asked-encoding": encodings})(scope, receive, send)
        return
    await PlainTextResponse(f"mount {request.url.path}")(scope, receive, send)


def starts_the_app_after_its_first_paint(markup: str) -> bool:
    """The app's start and its scripts' preloads are in the one inline script that adds them
    after the first frame, and nowhere else."""
    scripts = Parsed(markup).scripts
    loaders = [script for script in scripts if "requestAnimationFrame(" in script]
    return (len(loaders) == 1 and json.dumps(APP_START) in loaders[0]
            and '["/assets/entry.client.js"]' in loaders[0]
            and 'rel="modulepreload"' not in markup and '<script type="module"' not in markup)


@pytest.fixture
def client(db, exported) -> TestClient:
    """The app as Reflex composes it: our routes, then served_html in front of the mount."""
    app = Starlette(routes=[*routes.routes, Mount("", served_html.served_html(reflex_mount))])
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def shelf(db, instructor):
    category = make_category(db, "Programming")
    course = make_course(db, instructor, title="Python Foundations", slug="python",
                         subtitle="Variables, functions and data, one step at a time",
                         description="Learn **Python** from zero.\n\nEach lesson ends with an "
                                     "exercise.", price_cents=4900, category=category,
                         lessons_per_module=(2, 1))
    draft = make_course(db, instructor, title="Secret Draft", slug="secret",
                        subtitle="Not ready yet", published=False)
    return {"course": course, "draft": draft}


def page(client: TestClient, path: str, status: int = 200) -> Parsed:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return Parsed(response.text)


def test_a_course_page_carries_its_title_description_price_and_syllabus(client, shelf):
    html = page(client, "/courses/python")
    assert html.titles == ["Python Foundations · Academy"]
    description = "Variables, functions and data, one step at a time"
    assert html.one("description") == description
    assert html.canonical == [f"{PUBLIC_URL}/courses/python"]
    assert html.one("og:title") == "Python Foundations · Academy"
    assert html.one("og:description") == description
    assert html.one("og:url") == f"{PUBLIC_URL}/courses/python"
    assert html.one("og:type") == "article"
    assert html.one("twitter:card") == "summary"
    assert html.one("twitter:title") == "Python Foundations · Academy"
    assert "og:image" not in html.meta  # no cover, and not Reflex's relative "favicon.ico"
    assert "Python Foundations" in html.text and "$49" in html.text
    assert "Learn Python from zero." in html.text
    assert "Taught by Iris Instructor" in html.text
    for lesson in ("Module 1", "Lesson 1.1", "Lesson 1.2", "Module 2", "Lesson 2.1"):
        assert lesson in html.text
    assert starts_the_app_after_its_first_paint(client.get("/courses/python").text)


def test_a_course_page_describes_the_course_in_schema_org_json_ld(client, shelf):
    [data] = page(client, "/courses/python").json_ld
    assert data["@context"] == "https://schema.org" and data["@type"] == "Course"
    assert data["name"] == "Python Foundations"
    assert data["description"] == "Variables, functions and data, one step at a time"
    assert data["url"] == f"{PUBLIC_URL}/courses/python"
    assert data["provider"] == {"@type": "Organization", "name": "Academy",
                                "url": f"{PUBLIC_URL}/"}
    assert data["offers"] == {"@type": "Offer", "price": "49.00", "priceCurrency": "USD",
                              "category": "Paid", "url": f"{PUBLIC_URL}/courses/python"}
    assert data["hasCourseInstance"]["courseMode"] == "Online"


def test_a_cover_image_becomes_the_preview_image(client, db, shelf):
    shelf["course"].cover_image_url = "https://images.example/python.png"
    db.add(shelf["course"])
    db.commit()
    html = page(client, "/courses/python")
    assert html.one("og:image") == "https://images.example/python.png"
    assert html.one("twitter:image") == "https://images.example/python.png"
    assert html.one("twitter:card") == "summary_large_image"
    assert html.json_ld[0]["image"] == "https://images.example/python.png"


def test_an_uploaded_cover_is_the_preview_image_with_its_size_and_words(client, db, shelf,
                                                                         instructor):
    picture = io.BytesIO()
    Image.new("RGB", (1600, 900), (40, 90, 200)).save(picture, format="PNG")
    course = shelf["course"]
    course.cover_image_url = "https://images.example/python.png"  # an upload comes first
    course.cover_alt = "A snake reading a book"
    covers.set_cover(db, instructor, course.id, picture.getvalue())
    db.commit()
    html = page(client, "/courses/python")
    image = f"{PUBLIC_URL}/covers/{course.cover_key}-1200x675.webp"
    assert html.one("og:image") == image and html.one("twitter:image") == image
    assert (html.one("og:image:width"), html.one("og:image:height")) == ("1200", "675")
    assert html.one("og:image:alt") == "A snake reading a book"
    assert html.json_ld[0]["image"] == image
    assert client.get(image.removeprefix(PUBLIC_URL)).headers["content-type"] == "image/webp"


def test_both_addresses_of_a_page_are_served_and_name_the_one_canonical(client, shelf):
    for path, canonical in (("/courses/python/", "/courses/python"), ("/courses", "/courses"),
                            ("/courses/", "/courses"), ("/", "/")):
        html = page(client, path)
        assert html.canonical == [PUBLIC_URL + canonical], path


@pytest.mark.parametrize("path", ["/courses/secret", "/courses/no-such-course"])
def test_an_unpublished_or_unknown_course_is_a_404_that_says_nothing(client, shelf, path):
    response = client.get(path)
    assert response.status_code == 404
    html = Parsed(response.text)
    assert html.one("robots") == "noindex"
    assert html.titles == ["Page not found · Academy"]
    assert html.canonical == [] and html.json_ld == [] and html.text == ""
    assert "Secret" not in response.text and "Not ready" not in response.text
    assert starts_the_app_after_its_first_paint(response.text)  # its staff can still open it


def test_markup_in_a_course_is_text_in_every_place_it_is_served(client, db, instructor):
    title = '</title><script>alert("t")</script>'
    make_course(db, instructor, title=title, slug="xss", subtitle='"><script>alert("s")</script>',
                description='<script>alert("d")</script> </noscript><img src=x onerror=alert(1)>')
    for path in ("/courses/xss", "/courses", "/"):
        response = client.get(path)
        assert "<script>alert" not in response.text, path
        assert not re.search(r"<img[^>]*onerror", response.text), path
        assert response.text.count("</noscript>") <= 1, path
    html = page(client, "/courses/xss")
    assert html.titles == [f"{title} · Academy"]
    assert html.one("og:description") == '"><script>alert("s")</script>'
    assert html.json_ld[0]["name"] == title
    assert title in html.text


def test_the_catalog_and_home_list_published_courses_readably(client, shelf):
    catalog_page = page(client, "/courses")
    assert catalog_page.titles == ["Course catalog · Academy"]
    assert catalog_page.one("og:title") == "Course catalog · Academy"
    assert "Python Foundations" in catalog_page.text and "$49" in catalog_page.text
    assert catalog_page.json_ld[0]["itemListElement"] == [
        {"@type": "ListItem", "position": 1, "url": f"{PUBLIC_URL}/courses/python"}]
    home = page(client, "/")
    assert home.titles == ["Academy — learn at your own pace"]
    assert home.canonical == [f"{PUBLIC_URL}/"]
    assert home.json_ld == [{"@context": "https://schema.org", "@type": "Organization",
                             "name": "Academy", "url": f"{PUBLIC_URL}/"}]
    assert "Python Foundations" in home.text
    assert "Secret Draft" not in catalog_page.text + home.text


def test_the_sitemap_lists_exactly_the_published_courses_as_they_change(client, db, shelf):
    def listed() -> list[str]:
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        return re.findall(r"<loc>([^<]+)</loc>", response.text)

    home_and_catalog = [f"{PUBLIC_URL}/", f"{PUBLIC_URL}/courses"]
    assert listed() == [*home_and_catalog, f"{PUBLIC_URL}/courses/python"]
    draft: Course = shelf["draft"]
    draft.is_published = True
    db.add(draft)
    db.commit()
    assert listed() == [*home_and_catalog, f"{PUBLIC_URL}/courses/python",
                        f"{PUBLIC_URL}/courses/secret"]
    assert page(client, "/courses/secret").titles == ["Secret Draft · Academy"]
    course: Course = shelf["course"]
    course.is_published = False
    db.add(course)
    db.commit()
    assert listed() == [*home_and_catalog, f"{PUBLIC_URL}/courses/secret"]
    assert client.get("/courses/python").status_code == 404


def test_robots_keep_workspace_and_learner_pages_out_and_name_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    lines = response.text.splitlines()
    for private in ("/admin", "/dashboard", "/learn/", "/account", "/certificates"):
        assert f"Disallow: {private}" in lines
    assert "Disallow: /courses" not in lines
    assert f"Sitemap: {PUBLIC_URL}/sitemap.xml" in lines


def test_a_folder_page_is_handed_to_the_mount_with_its_slash_instead_of_redirected(client):
    assert client.get("/login").text == client.get("/login/").text
    assert "Log in" in client.get("/login").text
    assert client.get("/assets/app.js").text == "mount /assets/app.js"
    assert client.get("/no-such-page").text == "mount /no-such-page"


def test_pages_are_compressed_for_clients_that_accept_it(client, shelf):
    response = client.get("/courses/python", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "Python Foundations" in response.text  # decoded by the client
    assert "content-encoding" not in client.get("/courses/python",
                                                headers={"Accept-Encoding": "identity"}).headers


def first_paint(markup: str) -> str:
    """What a course page shows over the page until the app has drawn it."""
    found = re.search(r'<body><div class="radix-themes first-paint".*?</fieldset></div>', markup,
                      re.S)
    return found.group(0) if found else ""


def test_a_course_page_paints_its_title_and_cover_before_the_app_runs(client, db, shelf,
                                                                       instructor):
    picture = io.BytesIO()
    Image.new("RGB", (1600, 900), (40, 90, 200)).save(picture, format="PNG")
    course = shelf["course"]
    covers.set_cover(db, instructor, course.id, picture.getvalue())
    db.commit()
    shown = first_paint(client.get("/courses/python").text)
    assert '<h1 class="rt-Heading rt-r-size-8">Python Foundations</h1>' in shown
    assert "Variables, functions and data, one step at a time" in shown
    assert "Taught by <strong>Iris Instructor</strong>" in shown
    assert (f'<img src="/covers/{course.cover_key}-1200x675.webp" alt="Python Foundations" '
            'width="1200" height="675" fetchpriority="high"') in shown
    assert '<fieldset disabled="" role="none" class="until-ready">' in shown  # nothing typed is lost
    assert first_paint(client.get("/courses/secret").text) == ""  # a draft: nothing of it


def test_the_catalog_paints_its_first_cards_before_the_app_runs(client, shelf):
    served = client.get("/courses").text
    cards = served.split(f'<div class="rx-Html {SERVED_CARDS}">', 1)[1].split("<script>", 1)[0]
    assert '<p data-accent-color="gray" class="rt-Text rt-r-size-2">1 course</p>' in cards
    assert '<a href="/courses/python" aria-label="Python Foundations"' in cards
    assert '<h3 class="rt-Heading rt-r-size-4">Python Foundations</h3>' in cards
    assert "$49" in cards and "Secret Draft" not in cards
    # A search's address: the app shows its own results, so no first page of cards is drawn.
    assert f'<div class="rx-Html {SERVED_CARDS}"></div>' in client.get("/courses?q=sql").text


def test_every_page_asks_for_the_apps_scripts_after_its_first_paint(client, shelf):
    for path in ("/", "/courses", "/courses/python", "/courses/no-such-course", "/login"):
        response = client.get(path)
        assert starts_the_app_after_its_first_paint(response.text), path


def test_a_page_from_the_mount_is_asked_for_plain_and_compressed_here(client):
    compressed = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["x-asked-encoding"] == "none"  # the mount's plain file, not a sidecar
    assert compressed.headers["content-encoding"] == "gzip"
    assert int(compressed.headers["content-length"]) < len(compressed.text)
    assert starts_the_app_after_its_first_paint(compressed.text)
    plain = client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == compressed.text
    assert int(plain.headers["content-length"]) == len(plain.content)


def test_a_page_the_server_could_send_as_a_file_is_still_rewritten(exported):
    """Granian offers ASGI's pathsend, which Starlette's FileResponse then uses for the body."""
    async def file_mount(scope, receive, send) -> None:
        await FileResponse(exported / "login/index.html", media_type="text/html")(
            scope, receive, send)

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if requests:
            return requests.pop()
        await asyncio.Future()  # the client stays connected (cancelled once the answer is sent)

    scope = {"type": "http", "method": "GET", "path": "/login/", "raw_path": b"/login/",
             "query_string": b"", "headers": [], "extensions": {"http.response.pathsend": {}}}
    asyncio.run(served_html.served_html(file_mount)(scope, receive, send))
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert starts_the_app_after_its_first_paint(sent[1]["body"].decode())


def test_what_is_not_a_page_passes_as_the_mount_sent_it(client):
    assert client.get("/favicon.ico").text == "mount /favicon.ico"
    assert client.get("/no-such-page").text == "mount /no-such-page"  # not HTML: untouched


def test_hashed_assets_may_be_kept_for_good_and_nothing_else(client):
    cached = client.get("/assets/entry.client-CS7job2t.js")
    assert cached.headers["cache-control"] == "public, max-age=31536000, immutable"
    for path in ("/assets/app.js", "/favicon.ico", "/login"):
        assert "cache-control" not in client.get(path).headers, path


def logged_in(client: TestClient, db, user) -> TestClient:
    client.cookies.set(SESSION_COOKIE, accounts.start_session(db, user))
    db.commit()
    return client


def test_a_logged_in_users_course_page_paints_no_log_in_link(client, db, shelf, student,
                                                             exported):
    header = ('<header><a href="/courses">Courses</a><a class="rt-Button" href="/login" '
              'data-discover="true">Log in</a><a href="/signup">Sign up</a></header>')
    (exported / "index.html").write_text(EXPORTED.format(title="", page=header))
    assert 'href="/login"' in first_paint(client.get("/courses/python").text)
    shown = first_paint(logged_in(client, db, student).get("/courses/python").text)
    assert "Python Foundations" in shown and '<a href="/courses">Courses</a>' in shown
    assert 'href="/login"' not in shown and 'href="/signup"' not in shown
    client.cookies.set(SESSION_COOKIE, "not-a-login")  # an ended or forged login: a visitor
    assert 'href="/login"' in first_paint(client.get("/courses/python").text)


def enrolled(db, learner, course: Course) -> None:
    course.price_cents = 0  # enrolled as a free course's learners are; a paid one's pay first
    db.add(course)
    enrollment.enroll_free(db, learner, course.id)
    db.commit()


def test_a_lesson_is_painted_for_its_enrolled_learner_and_kept_out_of_caches(client, db, shelf,
                                                                          student):
    course = shelf["course"]
    first, second = lessons_of(db, course)[:2]
    first.body = "Read **this** <script>alert(1)</script>"
    db.add(first)
    enrolled(db, student, course)
    response = logged_in(client, db, student).get(f"/learn/python/{first.id}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert "Cookie" in response.headers["vary"]
    shown = first_paint(response.text)
    assert f'<h1 class="rt-Heading rt-r-size-7">{first.title}</h1>' in shown
    assert "Read <strong>this</strong>" in shown and "<script>" not in shown
    assert f'href="/learn/python/{second.id}"' in shown and "0 of 3 lessons" in shown
    assert 'href="/login"' not in shown  # a learner's header
    assert '<fieldset disabled="" role="none" class="until-ready">' in shown
    assert '<meta name="robots" content="noindex"/>' in response.text
    assert starts_the_app_after_its_first_paint(response.text)


def test_no_lesson_is_painted_for_a_visitor_a_learner_not_enrolled_or_a_locked_lesson(
        client, db, shelf, student, instructor):
    course = shelf["course"]
    first, second = lessons_of(db, course)[:2]
    draft_lesson = lessons_of(db, shelf["draft"])[0]
    first.body, second.body = "Secret first body", "Secret second body"
    db.add_all([first, second])
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), lesson_id=second.id)
    db.commit()

    def served(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200  # the mount's shell, whose app says why
        return response.text

    for path in (f"/learn/python/{first.id}", f"/learn/python/{second.id}"):
        assert served(path) == f"mount {path}"  # a visitor: the shell alone
    logged_in(client, db, student)
    for path in (f"/learn/python/{first.id}", f"/learn/python/{second.id}",
                 f"/learn/secret/{draft_lesson.id}"):
        assert served(path) == f"mount {path}"  # not enrolled (or a draft): nothing of it
    enrolled(db, student, course)
    assert "Secret first body" in served(f"/learn/python/{first.id}")
    assert served(f"/learn/python/{second.id}") == f"mount /learn/python/{second.id}"  # locked
    assert served(f"/learn/python/{first.id + 999}") == f"mount /learn/python/{first.id + 999}"
    staff = make_user(db, Role.ADMIN, name="Ada Admin")
    # Its staff preview every lesson, as the page's own state lets them.
    assert "Secret second body" in logged_in(client, db, staff).get(f"/learn/python/{second.id}").text
