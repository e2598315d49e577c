"""/courses — search and filter the catalog."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import card_grid, card_grid_skeleton, served_cards
from academy_app.components.layout import empty_state, page, page_header
from academy_app.state.catalog import CatalogState

SORTS = [("popular", "Most popular"), ("newest", "Newest"), ("title", "Title A–Z"),
         ("price_low", "Price: low to high"), ("price_high", "Price: high to low"),
         ("rating", "Highest rated")]


def _select(label: str, name: str, value: rx.Var, *items: rx.Component) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, min_width="170px"),
        rx.select.content(*items),
        value=value,
        on_change=lambda choice: CatalogState.set_filter(name, choice),
    )


def _counted(options: rx.Var) -> rx.Component:
    """[value, "Label (count)"] pairs from the state, as the select's items."""
    return rx.foreach(options, lambda pair: rx.select.item(pair[1], value=pair[0]))


def filters() -> rx.Component:
    return rx.flex(
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=CatalogState.text,
                on_change=CatalogState.search,
                placeholder="Search courses",
                aria_label="Search courses",
                type="search",
                size="3",
                flex="1",
                min_width="240px",
            ),
            debounce_timeout=250,
        ),
        _select("Category", "category", rx.cond(CatalogState.category == "", "any",
                                                CatalogState.category),
                _counted(CatalogState.category_options)),
        _select("Level", "level", rx.cond(CatalogState.level == "", "any", CatalogState.level),
                _counted(CatalogState.level_options)),
        _select("Price", "price", CatalogState.price, _counted(CatalogState.price_options)),
        _select("Sort by", "sort", CatalogState.sort,
                *[rx.select.item(text, value=value) for value, text in SORTS]),
        spacing="3",
        wrap="wrap",
        width="100%",
        margin_bottom="24px",
        role="search",
    )


def pagination() -> rx.Component:
    return rx.cond(
        CatalogState.pages > 1,
        rx.hstack(
            rx.button("Previous page", variant="soft", disabled=CatalogState.page <= 1,
                      on_click=CatalogState.go_to_page(CatalogState.page - 1)),
            rx.text(f"Page {CatalogState.page} of {CatalogState.pages}", size="2"),
            rx.button("Next page", variant="soft",
                      disabled=CatalogState.page >= CatalogState.pages,
                      on_click=CatalogState.go_to_page(CatalogState.page + 1)),
            justify="center",
            align="center",
            spacing="4",
            margin_top="32px",
            width="100%",
        ),
    )


def results() -> rx.Component:
    return rx.cond(
        CatalogState.loading,
        rx.fragment(served_cards(), card_grid_skeleton(6)),
        rx.cond(
            CatalogState.total > 0,
            rx.vstack(
                rx.text(CatalogState.result_label, size="2", color_scheme="gray", role="status"),
                card_grid(CatalogState.courses),
                pagination(),
                width="100%",
                spacing="3",
            ),
            empty_state("search-x", "No courses match",
                        "Try other words, or clear the filters to see every course.",
                        rx.button("Clear filters", variant="soft",
                                  on_click=CatalogState.clear_filters)),
        ),
    )


def catalog_page() -> rx.Component:
    return page(
        page_header("Course catalog", "Find the next thing you want to learn"),
        filters(),
        # The cards' titles are h3 (as on the home page, under its h2): a level between them and
        # the page's h1, for those who move by headings (Lighthouse's heading order audit).
        rx.heading("Courses", as_="h2", class_name="visually-hidden"),
        results(),
    )
