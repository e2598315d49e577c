"""What the first response for a page carries, before any script runs.

In prod mode Reflex serves its exported pages from a static-file mount on the backend
(reflex/utils/exec.py `get_frontend_mount`: Starlette's StaticFiles with html=True). A page without
a dynamic segment is exported as a folder (`courses/index.html`), and StaticFiles answers such a
folder asked for without its trailing slash with a 307 to the slashed address: one more round trip
(about 600 ms on a slow phone network) for every link the app prints and people share (`/courses`,
`/login`, `/verify`). Here every such page is served at both addresses: a request without the slash
is handed to the mount as if it had one, and the browser keeps the address it asked for.

The exported HTML also holds only the page's fixed title and nothing a state loads: a course page is
an empty shell until the WebSocket has hydrated it, and crawlers that run no scripts and the link
previews of chat apps and social networks read nothing. So the home page, the catalog and each public
course page are answered here: the exported file, with the page's own title, description, canonical
address, Open Graph and Twitter card tags and schema.org JSON-LD in its head, and what the page says
(a course's title, description, price and syllabus) in a <noscript> at the top of its body, which
browsers that run scripts never show. Everything comes from services/catalog.py with the viewer
anonymous (its cache, its rule that drafts are nobody's business but their staff's); an unknown or
unpublished slug gets the same shell with status 404, noindex and nothing of the course, and the
browser still routes it (staff previewing their draft see it once the page has loaded).

Every page (these and those the mount answers) also asks for the app's scripts only after its first
frame (`after_first_paint`). As exported, the head preloads about 24 scripts (some 220 KiB
compressed) and a module script at the end of the body starts them; on a fast link they arrive and
run before Chromium paints anything, so a phone on a slow network was shown the page only after all
of them (Lighthouse's simulation of this machine's trace puts every script before the first
paint). Asked for after the first frame, they load while the prerendered page is already on screen.
The load event then no longer waits for them: the page's form controls stay disabled until the app
has taken the page over (components/layout.py `until_ready`), so nothing typed meanwhile is lost.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants
from reflex_base.config import get_config
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.api.files import CACHED_FOR_GOOD
from academy_app.components.course import CARD_PICTURE_SIZES, SERVED_CARDS
from academy_app.db import session_scope
from academy_app.infra.markdown import render_markdown
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.services import accounts, catalog, covers, lessons
from academy_app.services.catalog import CatalogQuery, CourseCard, CourseOutline
from academy_app.services.errors import NotFound, ServiceError
from academy_app.services.lessons import LessonView
from academy_app.settings import get_settings
from academy_app.state.rows import (
    LEVEL_LABELS,
    CourseCardRow,
    LessonRow,
    cover_style,
    duration_label,
    module_rows,
    price_label,
)

SITE_NAME = "Academy"
SITE_DESCRIPTION = "Academy: practical online courses, learned at your pace."
# Link previews cut descriptions around here; search engines show about as much.
DESCRIPTION_LENGTH = 200
COURSE_PATH = re.compile(r"/courses/([^/]+)/?")
LESSON_PATH = re.compile(r"/learn/([^/]+)/([0-9]{1,18})/?")
# The visitor's header links, which a logged-in user's first paint leaves out.
VISITOR_LINKS = re.compile(r'<a\b[^>]*href="/(?:login|signup)"[^>]*>[^<]*</a>')
KIND_LABELS = {"video": "Video lesson", "quiz": "Quiz"}  # pages/learn.py lesson_content
# Vite's build output: a content hash in every name, so a file at an address never changes.
HASHED_ASSET = re.compile(r"/assets/[^/]+-[A-Za-z0-9_-]{8}\.(?:js|css)")
IMMUTABLE = (b"cache-control", CACHED_FOR_GOOD.encode())
# What Reflex's export asks for its scripts with: preloads in the head, and the module script at the
# end of the body that imports the page's route modules and starts the app.
MODULE_PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
APP_START = re.compile(r'<script type="module"(?: async="")?>(.*?)</script>', re.S)
# Runs `start` once the first frame is painted (a timer queued from the frame's animation callback
# runs after that frame); a page opened in a background tab paints nothing until it is shown, so it
# starts at once instead of waiting to be looked at.
AFTER_FIRST_PAINT = ("(()=>{{const start=()=>{{for(const href of {hrefs}){{"
                     "const link=document.createElement('link');link.rel='modulepreload';"
                     "link.href=href;document.head.append(link)}}"
                     "const app=document.createElement('script');app.type='module';"
                     "app.textContent={code};document.body.append(app)}};"
                     "document.hidden?start():requestAnimationFrame(()=>setTimeout(start))}})()")
# Stands for Reflex's frontend mount (named "frontend" in reflex/utils/exec.py) in the scope of a
# page answered here.
PAGES_ROUTE = Mount("/", routes=[], name="frontend")
# What search engines have no business indexing: a learner's own pages and the staff workspace.
PRIVATE_PATHS = ["/admin", "/dashboard", "/learn/", "/certificates", "/account", "/study-groups",
                 "/notifications",
                 "/password/", "/unsubscribe/", "/receipts/", "/downloads/", "/lessons/", "/auth/", "/api/",
                 "/_event", "/_upload"]


@lru_cache(maxsize=1)
def exported_pages() -> Path:
    """The folder Reflex's frontend mount serves (the same path get_frontend_mount computes)."""
    return (get_web_dir() / constants.Dirs.STATIC / get_config().frontend_path.strip("/")).resolve()


def folder_page(path: str) -> bool:
    """Whether `path` (no trailing slash) names a page exported as a folder with an index.html."""
    parts = path.strip("/").split("/")
    if not parts[0] or any(part in {".", ".."} or "." in part for part in parts):
        return False  # the home page, a file name (assets end in an extension) or a climb out
    return (exported_pages().joinpath(*parts) / "index.html").is_file()


@dataclass(frozen=True)
class Meta:
    """What one page's served HTML says about it."""
    title: str
    description: str
    path: str  # the canonical address, as the app links to it (no trailing slash)
    template: str  # the exported file the page is served from, relative to exported_pages()
    og_type: str = "website"
    image: str = ""
    image_size: tuple[int, int] | None = None  # known for an uploaded cover (services/covers.py)
    image_alt: str = ""
    json_ld: dict | None = None
    body: str = ""  # HTML, every value in it escaped
    first_paint: str = ""  # HTML shown over the page until the app has drawn it (course pages)
    cards: str = ""  # HTML of the catalog's first cards, for components/course.py served_cards
    status: int = 200
    extra_head: list[str] = field(default_factory=list)


def home_meta(cards: list[CourseCard]) -> Meta:
    return Meta(title="Academy — learn at your own pace", description=SITE_DESCRIPTION, path="/",
                template="index.html",
                json_ld={"@context": "https://schema.org", **_organization()},
                body=_section("Popular courses", _course_list(cards)))


def catalog_meta(cards: list[CourseCard], total: int) -> Meta:
    return Meta(title="Course catalog · Academy",
                description="Browse Academy's courses by topic and level, free or paid.",
                path="/courses", template="courses/index.html",
                json_ld={"@context": "https://schema.org", "@type": "ItemList",
                         "itemListElement": [
                             {"@type": "ListItem", "position": index,
                              "url": _absolute(_course_path(card.slug))}
                             for index, card in enumerate(cards, start=1)]},
                body=_section("Course catalog", _course_list(cards)),
                cards=catalog_cards(cards, total))


def course_meta(outline: CourseOutline, signed_in: bool = False) -> Meta:
    course = outline.course
    description = _shorten(course.subtitle or _plain(render_markdown(course.description)))
    path = _course_path(course.slug)
    # An uploaded cover is drawn at the size link previews ask for; an address typed in is not.
    uploaded = covers.cover_url(course.cover_key, covers.PAGE)
    image = _absolute(uploaded or course.cover_image_url) if uploaded or course.cover_image_url \
        else ""
    minutes = sum(lesson.duration_minutes for lesson in outline.lessons)
    instance: dict = {"@type": "CourseInstance", "courseMode": "Online"}
    if minutes:
        instance["courseWorkload"] = f"PT{minutes // 60}H{minutes % 60}M"
    if outline.instructor:
        instance["instructor"] = {"@type": "Person", "name": outline.instructor}
    json_ld = {
        "@context": "https://schema.org", "@type": "Course", "name": course.title,
        "description": description or course.title, "url": _absolute(path),
        "provider": _organization(),
        "offers": {"@type": "Offer", "price": f"{course.price_cents / 100:.2f}",
                   "priceCurrency": course.currency,
                   "category": "Free" if course.is_free else "Paid", "url": _absolute(path)},
        "hasCourseInstance": instance,
    }
    if image:
        json_ld["image"] = image
    if outline.category:
        json_ld["about"] = outline.category
    price = price_label(course.price_cents, course.currency)
    syllabus = "".join(
        f"<li>{_text(module.title)}<ol>"
        + "".join(f"<li>{_text(lesson.title)} ({_text(duration_label(lesson.duration_minutes))})"
                  "</li>" for lesson in module.lessons)
        + "</ol></li>" for module in outline.modules)
    body = (f"<article><h1>{_text(course.title)}</h1>"
            + (f"<p>{_text(course.subtitle)}</p>" if course.subtitle else "")
            + (f"<p>Taught by {_text(outline.instructor)}</p>" if outline.instructor else "")
            + f"<p>Price: {_text(price)} · Level: "
              f"{_text(LEVEL_LABELS.get(course.level.value, course.level.value))} · "
              f"{len(outline.lessons)} lessons</p>"
            + render_markdown(course.description)
            + (f"<h2>Syllabus</h2><ol>{syllabus}</ol>" if syllabus else "")
            + '<p><a href="/courses">Browse all courses</a></p></article>')
    return Meta(title=f"{course.title} · Academy", description=description or course.title,
                path=path, template="404.html", og_type="article", image=image, json_ld=json_ld,
                body=body, first_paint=course_first_paint(outline, uploaded, signed_in),
                extra_head=[f'<meta property="og:price:amount" '
                            f'content="{course.price_cents / 100:.2f}"/>',
                            f'<meta property="og:price:currency" '
                            f'content="{_text(course.currency)}"/>'],
                image_size=(covers.PAGE.width, covers.PAGE.height) if uploaded else None,
                image_alt=course.cover_alt or course.title)


def catalog_cards(cards: list[CourseCard], total: int) -> str:
    """The catalog's first results as the app draws them (pages/catalog.py results: the count,
    then the cards), in Radix Themes' own classes and styles.css's for what the app styles inline.
    The first cover is asked for at once: on a phone it is the largest thing on the screen."""
    if not cards:
        return ""
    drawn = "".join(_card(CourseCardRow.of(card), first=index == 0)
                    for index, card in enumerate(cards))
    count = "1 course" if total == 1 else f"{total} courses"
    return ('<div class="rt-Flex rt-r-fd-column rt-r-ai-start rt-r-gap-3 first-paint-fill">'
            f'<p data-accent-color="gray" class="rt-Text rt-r-size-2">{count}</p>'
            '<div class="rt-Grid rt-r-gtc-1 sm:rt-r-gtc-2 md:rt-r-gtc-3 rt-r-gap-5 '
            f'first-paint-fill">{drawn}</div></div>')


def _card(row: CourseCardRow, first: bool) -> str:
    """One card as components/course.py course_card draws it."""
    if row.picture:
        loading = 'fetchpriority="high"' if first else 'loading="lazy"'
        cover = (f'<img src="{_text(row.picture)}" srcset="{_text(row.pictures)}" '
                 f'sizes="{CARD_PICTURE_SIZES}" alt="{_text(row.picture_alt)}" {loading} '
                 f'decoding="async" width="{covers.CARD.width}" height="{covers.CARD.height}" '
                 f'style="background: {_text(row.cover)}"/>')
    else:
        cover = (f'<div class="first-paint-card-plain" aria-hidden="true" '
                 f'style="background: {_text(row.cover)}"></div>')
    price_color = "green" if row.price == "Free" else "indigo"
    rating = (f'<div class="rt-Flex rt-r-fd-row rt-r-ai-center rt-r-gap-1 rx-Stack">'
              f'<span class="first-paint-icon" aria-hidden="true">★</span>'
              f'<span class="rt-Text rt-r-size-2 rt-r-weight-bold" aria-hidden="true">'
              f'{_text(row.rating)}</span><span data-accent-color="gray" '
              f'class="rt-Text rt-r-size-2" aria-hidden="true">{_text(row.reviews)}</span>'
              f'<span class="rt-Text visually-hidden">{_text(row.rating_label)}</span></div>'
              if row.rating else "")
    return (f'<a href="{_course_path(row.slug)}" aria-label="{_text(row.title)}" '
            'class="rt-Text rt-reset rt-Link rt-underline-none first-paint-card-link">'
            '<div class="rt-reset rt-BaseCard rt-Card rt-r-size-1 rt-variant-surface '
            'first-paint-card"><div class="rt-Inset rt-r-side-top rt-r-clip-border-box '
            f'rt-r-pb-inset">{cover}</div>'
            '<div class="rt-Flex rt-r-fd-column rt-r-ai-start rt-r-gap-2 first-paint-card-text">'
            '<div class="rt-Flex rt-r-fd-row rt-r-ai-start rt-r-gap-3 first-paint-fill">'
            '<span data-accent-color="gray" class="rt-reset rt-Badge rt-r-size-1 '
            f'rt-variant-outline">{_text(row.level)}</span><div class="first-paint-spacer"></div>'
            f'<span data-accent-color="{price_color}" class="rt-reset rt-Badge rt-r-size-2 '
            f'rt-variant-soft">{_text(row.price)}</span></div>'
            f'<h3 class="rt-Heading rt-r-size-4">{_text(row.title)}</h3>'
            f'<p data-accent-color="gray" class="rt-Text rt-r-size-2 first-paint-clamp">'
            f'{_text(row.subtitle)}</p>{rating}<div class="first-paint-spacer"></div>'
            '<div class="rt-Flex rt-r-fd-row rt-r-ai-center rt-r-gap-1 first-paint-fill">'
            f'<p class="rt-Text rt-r-size-2">{_text(row.instructor)}</p>'
            '<div class="first-paint-spacer"></div>'
            f'<p data-accent-color="gray" class="rt-Text rt-r-size-1">{_text(row.lessons)}</p>'
            '</div></div></div></a>')


def course_first_paint(outline: CourseOutline, picture: str, signed_in: bool = False) -> str:
    """The top of a course page (site header, cover, title, subtitle, teacher) as the app draws it,
    shown over the page until the app has drawn its own (styles.css, .first-paint).

    A course page is a route with a parameter, which Reflex cannot export: its HTML is the SPA
    fallback, an empty page until the app's scripts have run and the WebSocket has brought the
    course, so its largest paint waited for all of that. This is in place from the first paint
    instead, with the cover asked for at once. It lies outside the app's markup (React passes over
    unknown elements at the top of <body> when it hydrates), floats over the page so nothing moves
    when it goes, and hides by CSS alone once the app's main region holds no skeleton. Its controls
    are disabled like the app's until then (components/layout.py until_ready)."""
    course = outline.course
    if picture:
        cover = (f'<img src="{_text(picture)}" alt="{_text(course.cover_alt or course.title)}" '
                 f'width="{covers.PAGE.width}" height="{covers.PAGE.height}" '
                 'fetchpriority="high" decoding="async"/>')
    else:
        cover = (f'<div class="first-paint-plain" aria-hidden="true" '
                 f'style="background: {_text(cover_style(course.slug, course.cover_image_url))}">'
                 '</div>')
    level = LEVEL_LABELS.get(course.level.value, course.level.value)
    badges = "".join(
        f'<span data-accent-color="" class="rt-reset rt-Badge rt-r-size-2 {variant}">'
        f'{_text(label)}</span>'
        for label, variant in ((outline.category, "rt-variant-soft"),
                               (level, "rt-variant-outline")) if label)
    summary = (f'<div class="first-paint-badges">{badges}</div>'
               f'<h1 class="rt-Heading rt-r-size-8">{_text(course.title)}</h1>'
               + (f'<p data-accent-color="gray" class="rt-Text rt-r-size-4">'
                  f'{_text(course.subtitle)}</p>' if course.subtitle else "")
               + (f'<p class="rt-Text rt-r-size-3">Taught by <strong>{_text(outline.instructor)}'
                  '</strong></p>' if outline.instructor else ""))
    return _over_the_page(site_header(signed_in) + '<div class="first-paint-column">'
                          f'<div class="first-paint-hero">{cover}'
                          f'<div class="first-paint-summary">{summary}</div></div></div>')


def _over_the_page(content: str) -> str:
    """`content` in the theme's frame, shown over the page until the app has drawn its own
    (styles.css, .first-paint), its controls disabled like the app's until then."""
    return ('<div class="radix-themes first-paint" data-accent-color="indigo" '
            'data-gray-color="slate" data-radius="large" data-scaling="100%">'
            f'<fieldset disabled="" role="none" class="until-ready">{content}</fieldset></div>')


def site_header(signed_in: bool = False) -> str:
    """The site's header as the home page was exported with it (a visitor's), styles and all;
    without its Log in and Sign up for someone logged in, whose own links the app then adds (a
    learner was offered to log in while the page loaded)."""
    home = exported_template("index.html")
    found = re.search(r"<header\b.*?</header>", home or "", re.S)
    header = found.group(0) if found else ""
    return VISITOR_LINKS.sub("", header) if signed_in else header


def lesson_first_paint(view: LessonView) -> str:
    """A lesson page as the app draws it (pages/learn.py learn_page: the syllabus, then the lesson
    on a phone; side by side from md), for the learner the lesson was opened for.

    Like a course page, a lesson is a route with a parameter: its HTML was the empty SPA shell,
    and the lesson, its largest paint, came only once the scripts had run, the WebSocket had
    connected and the page's load handler had answered (4.5 s on Lighthouse's phone)."""
    course, lesson = view.outline.course, view.lesson
    done, total = len(view.progress.completed), len(view.progress.lesson_ids)
    percent = round(100 * done / total) if total else 0

    def item(row: LessonRow) -> str:
        if row.locked:
            return (f'<li class="first-paint-locked"><span aria-hidden="true">🔒</span>'
                    f'<span class="rt-Text rt-r-size-2">{_text(row.title)}</span></li>')
        mark = "✓" if row.done else "○"
        weight = " rt-r-weight-bold" if row.current else ""
        current = ' aria-current="page"' if row.current else ""
        return (f'<li><a href="{_text(row.href)}"{current}><span aria-hidden="true">{mark}</span>'
                f'<span class="rt-Text rt-r-size-2{weight}">{_text(row.title)}</span></a></li>')

    syllabus = "".join(
        f'<p class="rt-Text rt-r-size-1 rt-r-weight-bold first-paint-module">'
        f'{_text(module.title)}</p><ul>{"".join(item(row) for row in module.lessons or ())}</ul>'
        for module in module_rows(view.outline, view.progress.completed, lesson.id,
                                  view.access))
    side = ('<div class="rt-reset rt-BaseCard rt-Card rt-r-size-1 rt-variant-surface '
            'first-paint-card-text first-paint-syllabus">'
            f'<a href="{_course_path(course.slug)}" data-accent-color="" class="rt-Text rt-reset '
            f'rt-Link rt-r-size-3 rt-r-weight-bold">{_text(course.title)}</a>'
            f'<div class="first-paint-progress"><div style="width: {percent}%"></div></div>'
            f'<p data-accent-color="gray" class="rt-Text rt-r-size-2">{done} of {total} lessons · '
            f'{percent}%</p><nav aria-label="Syllabus">{syllabus}</nav></div>')
    main = ('<div class="rt-reset rt-BaseCard rt-Card rt-r-size-1 rt-variant-surface '
            'first-paint-card-text first-paint-lesson">'
            '<span data-accent-color="" class="rt-reset rt-Badge rt-r-size-1 rt-variant-soft">'
            f'{KIND_LABELS.get(lesson.kind.value, "Reading")}</span>'
            f'<h1 class="rt-Heading rt-r-size-7">{_text(lesson.title)}</h1>'
            # The video's frame, where the app draws the player, so the text below stays put.
            + ('<div class="first-paint-video"></div>'
               if lesson.kind.value == "video" and lesson.video_url else "")
            + f'<div class="markdown">{view.body_html}</div></div>')
    return _over_the_page(site_header(signed_in=True) + '<div class="first-paint-column">'
                          f'<div class="first-paint-learn">{side}{main}</div></div>')


def lesson_page(template: str, view: LessonView) -> str:
    """The SPA shell of a lesson page with the lesson drawn over it, kept out of search engines."""
    page = template.replace("</head>", '<meta name="robots" content="noindex"/></head>', 1)
    page = re.sub(r"<body[^>]*>", lambda found: found.group(0) + lesson_first_paint(view), page,
                  count=1)
    return after_first_paint(page)


def opened_lesson(path: str, token: str | None) -> LessonView | None:
    """The lesson a path names, opened for the user the login cookie names through the same
    service as the page's own state (services/lessons.py open_lesson: enrolled, or its staff, and
    the lesson open to them); None for a visitor and for anyone it refuses."""
    found = LESSON_PATH.fullmatch(path)
    if found is None or not token:
        return None
    with session_scope() as session:
        user = accounts.user_for_token(session, token)
        if user is None:
            return None
        try:
            return lessons.open_lesson(session, user, found.group(1), int(found.group(2)))
        except ServiceError:
            return None


def missing_course_meta(slug: str) -> Meta:
    """No course by that slug that anyone may see: no course data, not to be indexed."""
    return Meta(title="Page not found · Academy", description=SITE_DESCRIPTION,
                path=_course_path(slug), template="404.html", status=404,
                extra_head=['<meta name="robots" content="noindex"/>'])


def public_page(path: str) -> bool:
    """Whether the page is one answered here (the others go to Reflex's mount untouched)."""
    return path in ("/", "/courses", "/courses/") or COURSE_PATH.fullmatch(path) is not None


def meta_for(path: str, token: str | None = None) -> Meta:
    """The public page a path names, read from the catalog as an anonymous visitor (`token`, the
    login cookie, only decides which header a course page's first paint shows)."""
    slug_match = COURSE_PATH.fullmatch(path)
    with session_scope() as session:
        if path == "/":
            return home_meta(catalog.featured_courses(session))
        if not slug_match:
            found = catalog.search_courses(session, CatalogQuery())
            return catalog_meta(found.items, found.total)
        slug = slug_match.group(1)
        try:
            return course_meta(catalog.course_outline(session, slug, None),
                               signed_in=_signed_in(session, token))
        except NotFound:
            return missing_course_meta(slug)


def render(template: str, meta: Meta) -> str:
    """The exported page with this page's head and readable content."""
    settings = get_settings()
    canonical = settings.absolute_url(meta.path)
    tags = [f"<title>{_text(meta.title)}</title>",
            f'<meta name="description" content="{_text(meta.description)}"/>',
            *([] if meta.status != 200 else [f'<link rel="canonical" href="{_text(canonical)}"/>']),
            f'<meta property="og:site_name" content="{SITE_NAME}"/>',
            f'<meta property="og:type" content="{meta.og_type}"/>',
            f'<meta property="og:title" content="{_text(meta.title)}"/>',
            f'<meta property="og:description" content="{_text(meta.description)}"/>',
            f'<meta property="og:url" content="{_text(canonical)}"/>',
            f'<meta name="twitter:card" content="{"summary_large_image" if meta.image else "summary"}"/>',
            f'<meta name="twitter:title" content="{_text(meta.title)}"/>',
            f'<meta name="twitter:description" content="{_text(meta.description)}"/>',
            *meta.extra_head]
    if meta.image:
        tags += [f'<meta property="og:image" content="{_text(meta.image)}"/>',
                 f'<meta name="twitter:image" content="{_text(meta.image)}"/>']
        if meta.image_size:  # a preview drawn without waiting for the picture
            tags += [f'<meta property="og:image:width" content="{meta.image_size[0]}"/>',
                     f'<meta property="og:image:height" content="{meta.image_size[1]}"/>']
        if meta.image_alt:
            tags += [f'<meta property="og:image:alt" content="{_text(meta.image_alt)}"/>',
                     f'<meta name="twitter:image:alt" content="{_text(meta.image_alt)}"/>']
    if meta.json_ld:
        tags.append(f'<script type="application/ld+json">{_json_for_script(meta.json_ld)}</script>')
    # Reflex's own title (the route's fixed one; the SPA fallback has none), description and
    # relative og:image ("favicon.ico") make way for these.
    page = re.sub(r'<title>.*?</title>|<meta[^>]*(?:name="description"|property="og:image")[^>]*>',
                  "", template, flags=re.S)
    page = page.replace("</head>", "".join(tags) + "</head>", 1)
    top = meta.first_paint + (f"<noscript>{meta.body}</noscript>" if meta.body else "")
    if top:
        page = re.sub(r"<body[^>]*>", lambda found: found.group(0) + top, page, count=1)
    if meta.cards:
        page = page.replace(f'<div class="rx-Html {SERVED_CARDS}"></div>',
                            f'<div class="rx-Html {SERVED_CARDS}">{meta.cards}</div>', 1)
    return after_first_paint(page)


def after_first_paint(page: str) -> str:
    """The exported page with its scripts asked for after its first frame (the module docstring
    says why): the preloads leave the head, and the app's start is handed to a small inline script
    that adds both back once the frame is painted. A page without the app's start is left as it is."""
    start = APP_START.search(page)
    if start is None:
        return page
    hrefs = MODULE_PRELOAD.findall(page[:start.start()])
    loader = AFTER_FIRST_PAINT.format(hrefs=_json_for_script(hrefs),
                                      code=_json_for_script(start.group(1)))
    page = page[:start.start()] + f"<script>{loader}</script>" + page[start.end():]
    return MODULE_PRELOAD.sub("", page)


@lru_cache(maxsize=8)
def _template(relative: str, modified: int) -> str:
    del modified  # part of the key only: a rebuilt frontend is read again
    return (exported_pages() / relative).read_text()


def exported_template(relative: str) -> str | None:
    path = exported_pages() / relative
    try:
        return _template(relative, path.stat().st_mtime_ns)
    except OSError:
        return None


async def page_response(request: Request) -> Response | None:
    path = request.url.path
    lesson = LESSON_PATH.fullmatch(path) is not None
    if not (lesson or public_page(path)) or exported_template("404.html") is None:
        return None  # not one of these pages, or no frontend exported here (backend only)
    token = request.cookies.get(SESSION_COOKIE)
    if lesson:
        return await lesson_response(request, token)
    meta = await run_in_threadpool(meta_for, path, token)
    if request.url.query:  # a search: the app shows its own results, not the first page's
        meta = replace(meta, cards="")
    template = exported_template(meta.template)
    if template is None:
        return None
    # Revalidated each time: a course published, edited or withdrawn shows at once.
    return _html(request, render(template, meta), meta.status, "no-cache")


async def lesson_response(request: Request, token: str | None) -> Response | None:
    """A lesson page with the lesson drawn for the learner who may open it; for anyone else,
    None: the mount's empty shell, as before, whose app then says why or asks them to log in."""
    view = await run_in_threadpool(opened_lesson, request.url.path, token)
    template = exported_template("404.html")
    if view is None or template is None:
        return None
    # One learner's page: no cache anywhere keeps it, nor hands it to another.
    return _html(request, lesson_page(template, view), 200, "private, no-store")


def _html(request: Request, page: str, status: int, cache_control: str) -> Response:
    body = page.encode()
    # What a logged-in user is shown differs (their header, their lesson).
    headers = {"Vary": "Accept-Encoding, Cookie", "Cache-Control": cache_control}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, headers=headers, media_type="text/html")


def _signed_in(session: Session, token: str | None) -> bool:
    return bool(token) and accounts.user_for_token(session, token) is not None


async def robots_txt(_request: Request) -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "",
             f"Sitemap: {get_settings().absolute_url('/sitemap.xml')}", ""]
    return PlainTextResponse("\n".join(lines))


def sitemap_xml() -> str:
    with session_scope() as session:
        courses = catalog.published_courses(session)
    urls = [f"<url><loc>{xml_escape(_absolute(path))}</loc></url>" for path in ("/", "/courses")]
    urls += [f"<url><loc>{xml_escape(_absolute(_course_path(course.slug)))}</loc>"
             f"<lastmod>{course.updated_at.date().isoformat()}</lastmod></url>"
             for course in courses]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(urls) + "</urlset>\n")


async def sitemap(_request: Request) -> Response:
    return Response(await run_in_threadpool(sitemap_xml), media_type="application/xml",
                    headers={"Cache-Control": "no-cache"})


def _course_path(slug: str) -> str:
    return f"/courses/{quote(slug, safe='')}"


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else get_settings().absolute_url(url)


def _organization() -> dict:
    return {"@type": "Organization", "name": SITE_NAME, "url": get_settings().absolute_url("/")}


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _plain(fragment: str) -> str:
    """Sanitized HTML (render_markdown) as one line of text."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _shorten(text: str) -> str:
    if len(text) <= DESCRIPTION_LENGTH:
        return text
    return text[:DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _json_for_script(value: dict) -> str:
    """JSON that cannot end its <script> element early, whatever a course's title holds."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _section(heading: str, content: str) -> str:
    return f"<section><h1>{_text(heading)}</h1>{content}</section>"


def _course_list(cards: list[CourseCard]) -> str:
    items = "".join(
        f'<li><a href="{_course_path(card.slug)}">{_text(card.title)}</a>'
        + (f" — {_text(card.subtitle)}" if card.subtitle else "")
        + f" ({_text(price_label(card.price_cents, card.currency))})</li>" for card in cards)
    return f"<ul>{items}</ul>" if items else ""


def _deferring_scripts(send: Send, gzip_accepted: bool) -> Send:
    """Passes the mount's answers on, an HTML page with its scripts after its first paint
    (compressed here when the client accepts it: the mount was asked for the plain file)."""
    held: Message | None = None
    body: list[bytes] = []

    async def deferring(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start":
            if message["status"] != 304 and Headers(raw=message["headers"]).get(
                    "content-type", "").startswith("text/html"):
                held = message
                return
        elif held is not None:
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = after_first_paint(b"".join(body).decode()).encode()
            headers = MutableHeaders(raw=list(held["headers"]))
            headers["vary"] = "Accept-Encoding"
            if gzip_accepted:
                page = gzip.compress(page, compresslevel=6)
                headers["content-encoding"] = "gzip"
            headers["content-length"] = str(len(page))
            await send({**held, "headers": headers.raw})
            await send({"type": "http.response.body", "body": page})
            return
        await send(message)

    return deferring


def _cached_for_good(send: Send) -> Send:
    """Hashed assets may be kept for a year: a returning learner's phone asks for none of them
    again (StaticFiles sends no Cache-Control, so browsers guessed from Last-Modified)."""
    async def with_header(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in (200, 304):
            message["headers"] = [*message.get("headers", []), IMMUTABLE]
        await send(message)

    return with_header


def served_html(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer` in front of the frontend mount."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        if HASHED_ASSET.fullmatch(path):
            await app(scope, receive, _cached_for_good(send))
            return
        response = await page_response(Request(scope))
        if response is not None:
            # Counted as the page it is, like the frontend mount's answers (infra/metrics.py).
            scope["route"] = PAGES_ROUTE
            await response(scope, receive, send)
            return
        if not path.endswith("/") and folder_page(path):
            # In place: the outer middleware reads the route the mount records in this scope.
            scope["raw_path"] = (scope.get("raw_path") or path.encode()) + b"/"
            scope["path"] = path + "/"
        if scope["method"] == "GET" and "." not in path.rsplit("/", 1)[-1]:
            # A page, or a route of the backend's own (none of which compresses): the mount is
            # asked for the plain file, whose scripts are then put after the first paint.
            gzip_accepted = "gzip" in Request(scope).headers.get("accept-encoding", "")
            scope["headers"] = [(name, value) for name, value in scope["headers"]
                                if name != b"accept-encoding"]
            # Its body as bytes to rewrite, not as a file path for the server to send (Granian, which
            # REFLEX_USE_GRANIAN=true brings back, offers ASGI's pathsend; FileResponse takes it).
            scope["extensions"] = {name: value for name, value in scope.get("extensions", {}).items()
                                   if name != "http.response.pathsend"}
            send = _deferring_scripts(send, gzip_accepted)
        await app(scope, receive, send)

    return serve
