"""The admin kit: one declaration per table gives a live workspace page.

    study_groups = kit.register(
        StudyGroup, "Study groups", route="/admin/study-groups",
        listing=kit.Listing(("name", "course_id", "capacity"), sort="name", search=("name",)),
        form=kit.Form(("name", "course_id", "capacity")),
        permissions=kit.Permissions(owner=kit.via_course("course_id")), actions=(…))

gives a list (columns, default order, search, filters, keyset paging), a create/edit form built
from the model's fields with their checks, delete with a confirmation, row actions, role and
ownership checks in the kit's service, an audit entry per change, and lists that reload when
another tab changes a row. `academy_app.py` adds every registered page. See docs/extending.md.

Layers, as everywhere: page.py → state.py → service.py → resource.py and the models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import SQLModel

from academy_app.admin.kit.page import page_for
from academy_app.admin.kit.resource import (
    Action,
    Column,
    Filter,
    Form,
    Input,
    Listing,
    Permissions,
    Resource,
    ViaCourse,
    by_user,
    https_link,
    set_values,
    via_course,
)
from academy_app.admin.kit.state import state_for
from academy_app.services.permissions import ADMINS, STAFF

__all__ = ["ADMINS", "STAFF", "Action", "Column", "Filter", "Form", "Input", "KitPage", "Listing",
           "Permissions", "Resource", "ViaCourse", "by_user", "https_link", "register", "registered",
           "set_values", "via_course"]


@dataclass(frozen=True)
class KitPage:
    resource: Resource
    state: type[rx.State]
    page: Callable[[], rx.Component]

    @property
    def route(self) -> str:
        return self.resource.route

    @property
    def title(self) -> str:
        return f"{self.resource.title} · Workspace · Academy"


_registered: list[KitPage] = []


def register(model: type[SQLModel], title: str, **declaration: Any) -> KitPage:
    """Declare the workspace page of `model` (the keywords are `Resource`'s)."""
    resource = Resource(model, title, **declaration)
    state = state_for(resource)
    kit_page = KitPage(resource, state, page_for(resource, state))
    _registered.append(kit_page)
    return kit_page


def registered() -> list[KitPage]:
    return list(_registered)
