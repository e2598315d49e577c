"""The home page's featured courses and the searchable catalog."""

from __future__ import annotations

import reflex as rx

from academy_app.db import session_scope
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


class CatalogState(AuthState):
    text: str = ""
    category: str = ""
    level: str = ""
    price: str = "all"
    sort: str = "popular"
    page: int = 1
    pages: int = 1
    total: int = 0
    courses: list[CourseCardRow] = []
    categories: list[list[str]] = []  # [slug, name] pairs for the filter
    loading: bool = True

    @rx.var
    def result_label(self) -> str:
        return "1 course" if self.total == 1 else f"{self.total} courses"

    @rx.event
    async def load(self) -> None:
        """on_load: filters can come from the URL (``/courses?category=data``)."""
        params = self.router.url.query_parameters
        self.category = params.get("category", "")[:80]
        self.text = params.get("q", "")[:catalog.MAX_SEARCH_LENGTH]
        self.level, self.price, self.sort = "", "all", "popular"
        categories, _ = await self._read_as(lambda session, _viewer: [
            [c.slug, c.name] for c in catalog.list_categories(session)], roles=None)
        self.categories = categories or []
        self._search(page=1)

    def _search(self, page: int) -> None:
        query = catalog.CatalogQuery.parse(text=self.text, category=self.category,
                                           level=self.level, price=self.price, sort=self.sort,
                                           page=page)
        with session_scope() as session:
            result = catalog.search_courses(session, query)
        self.courses = [CourseCardRow.of(card) for card in result.items]
        self.page, self.pages, self.total = result.page, result.pages, result.total
        self.loading = False

    @rx.event
    def search(self, text: str) -> None:
        self.text = text[:catalog.MAX_SEARCH_LENGTH] if isinstance(text, str) else ""
        self._search(page=1)

    @rx.event
    def set_filter(self, name: str, value: str) -> None:
        """One handler for the selects; unknown names and values are ignored or reset."""
        if name not in ("category", "level", "price", "sort") or not isinstance(value, str):
            return
        setattr(self, name, "" if value == "any" else value[:80])
        self._search(page=1)

    @rx.event
    def clear_filters(self) -> None:
        self.text, self.category, self.level, self.price, self.sort = "", "", "", "all", "popular"
        self._search(page=1)

    @rx.event
    def go_to_page(self, page: int) -> None:
        self._search(page=page if isinstance(page, int) else 1)
