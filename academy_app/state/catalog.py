"""The home page's featured courses and the searchable catalog."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

import reflex as rx
from sqlmodel import Session

from academy_app.models import Category, User
from academy_app.services import catalog
from academy_app.state.auth import AuthState
from academy_app.state.rows import CourseCardRow


class HomeState(AuthState):
    featured: list[CourseCardRow] = []
    loading: bool = True

    @rx.event
    async def load(self) -> None:
        featured, _ = await self._read_as(lambda session, _viewer: [
            CourseCardRow.of(card) for card in catalog.featured_courses(session, limit=3)],
            roles=None)
        self.featured, self.loading = featured or [], False


LEVELS = [("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced")]
PRICES = [("all", "Free and paid"), ("free", "Free"), ("paid", "Paid")]
DEFAULTS = {"category": "", "level": "", "price": "all", "sort": "popular"}


def counted(label: str, count: int) -> str:
    return f"{label} ({count})"


class CatalogState(AuthState):
    """The catalog's search, filters, sort and page live in the address (``/courses?q=sql&
    level=beginner``): a link shares them, a reload keeps them, and Back undoes a change. A link,
    a reload or Back runs the page's on_load (`load`), which searches for the address; a control
    searches for its new address at once (`_go`), answering with the results and the address
    together, and the on_load that the address change then runs has nothing left to read."""

    text: str = ""
    category: str = ""
    level: str = ""
    price: str = "all"
    sort: str = "popular"
    page: int = 1
    pages: int = 1
    total: int = 0
    courses: list[CourseCardRow] = []
    # [value, label with its count] pairs for the selects: "Beginner (3)".
    category_options: list[list[str]] = []
    level_options: list[list[str]] = []
    price_options: list[list[str]] = []
    loading: bool = True
    # The query parameters whose results a control has just shown with its redirect: the on_load
    # that redirect runs finds them there and reads nothing (once: a later visit reads afresh).
    _shown_before_redirect: dict[str, str] | None = None

    @rx.var
    def result_label(self) -> str:
        return "1 course" if self.total == 1 else f"{self.total} courses"

    @rx.event
    async def load(self) -> None:
        """on_load: the results for the address, unless a control has just shown them."""
        params = dict(self.router.url.query_parameters)
        shown, self._shown_before_redirect = self._shown_before_redirect, None
        if params != shown:
            await self._show(params)

    async def _show(self, params: Mapping[str, str]) -> None:
        """Search for an address's query parameters and show the results."""
        self.text = str(params.get("q", ""))[:catalog.MAX_SEARCH_LENGTH]
        query = catalog.CatalogQuery.parse(
            text=self.text, category=params.get("category", ""), level=params.get("level", ""),
            price=params.get("price", ""), sort=params.get("sort", ""),
            page=params.get("page", 1))
        self.category, self.level = query.category, query.level.value if query.level else ""
        self.price, self.sort = query.price.value, query.sort.value

        def read(session: Session, _viewer: User | None) -> tuple[
                list[Category], catalog.CatalogPage, catalog.FilterCounts]:
            return (catalog.list_categories(session), catalog.search_courses(session, query),
                    catalog.filter_counts(session, query))

        found, _ = await self._read_as(read, roles=None)
        if found is None:
            return
        categories, result, counts = found
        self.courses = [CourseCardRow.of(card, query.text) for card in result.items]
        self.page, self.pages, self.total = result.page, result.pages, result.total
        self.category_options = [["any", counted("All categories", counts.all_categories)]] + [
            [c.slug, counted(c.name, counts.categories.get(c.slug, 0))] for c in categories]
        self.level_options = [["any", counted("All levels", sum(counts.levels.values()))]] + [
            [value, counted(label, counts.levels.get(value, 0))] for value, label in LEVELS]
        self.price_options = [[value, counted(label, counts.prices.get(value, 0))]
                              for value, label in PRICES]
        self.loading = False

    def _address(self, page: int = 1) -> str:
        """/courses with what differs from the defaults in its query string."""
        params = {"q": self.text, **{name: getattr(self, name) for name in DEFAULTS},
                  "page": str(page) if page > 1 else ""}
        shown = {name: value for name, value in params.items()
                 if value and value != DEFAULTS.get(name)}
        return "/courses" + ("?" + urlencode(shown) if shown else "")

    async def _go(self, address: str, replace: bool = False) -> rx.event.EventSpec:
        """Show `address`'s results now, in this event's answer, and put it in the browser's
        address bar."""
        params = dict(parse_qsl(urlsplit(address).query))
        await self._show(params)
        self._shown_before_redirect = params
        return rx.redirect(address, replace=replace)

    @rx.event
    async def search(self, text: str) -> rx.event.EventSpec:
        """Typing refines the search in place: only the first word typed adds a step to Back."""
        refining = bool(self.text.strip())
        self.text = text[:catalog.MAX_SEARCH_LENGTH] if isinstance(text, str) else ""
        return await self._go(self._address(), replace=refining and bool(self.text.strip()))

    @rx.event
    async def set_filter(self, name: str, value: str) -> rx.event.EventSpec | None:
        """One handler for the selects; unknown names are ignored, unknown values reset (`_show`
        parses the address)."""
        if not isinstance(name, str) or name not in DEFAULTS or not isinstance(value, str):
            return None
        setattr(self, name, "" if value == "any" else value[:80])
        return await self._go(self._address())

    @rx.event
    async def clear_filters(self) -> rx.event.EventSpec:
        return await self._go("/courses")

    @rx.event
    async def go_to_page(self, page: int) -> rx.event.EventSpec:
        return await self._go(self._address(page if isinstance(page, int) else 1))
