"""Composition root: the Reflex app, its theme and its pages."""

from __future__ import annotations

import logging

import reflex as rx

from academy_app.admin.coupons import CouponState, coupons_page
from academy_app.admin.course_editor import CourseEditorState, course_editor_page
from academy_app.admin.courses import CourseListState, courses_page
from academy_app.admin.payments import PaymentQueueState, payments_page
from academy_app.admin.reports import AnalyticsState, LearnersState, analytics_page, learners_page
from academy_app.admin.users import AuditLogState, UserAdminState, audit_page, users_page
from academy_app.api import files
from academy_app.api.limits import limit_upload_size
from academy_app.pages.account import login_page, signup_page
from academy_app.pages.catalog import catalog_page
from academy_app.pages.course import course_page
from academy_app.pages.dashboard import dashboard_page
from academy_app.pages.errors import not_found_page
from academy_app.pages.home import home_page
from academy_app.pages.learn import learn_page
from academy_app.settings import get_settings
from academy_app.state.account import AccountFormState
from academy_app.state.auth import AuthState
from academy_app.state.catalog import CatalogState, HomeState
from academy_app.state.checkout import CheckoutState
from academy_app.state.course import CourseState
from academy_app.state.dashboard import DashboardState
from academy_app.state.learn import LearnState

log = logging.getLogger("academy")

settings = get_settings()
if settings.redis_url:
    log.warning("Academy: Redis at %s holds Reflex state.", settings.redis_url.split("@")[-1])
else:
    log.warning("Academy: embedded mode (no REFLEX_REDIS_URL): state on local disk, one worker.")

app = rx.App(
    api_transformer=[files.routes, limit_upload_size],
    stylesheets=["/styles.css"],
    head_components=[rx.el.meta(name="description",
                                content="Academy: practical online courses, learned at your pace.")],
)

app.add_page(home_page, route="/", title="Academy — learn at your own pace",
             on_load=HomeState.load)
app.add_page(catalog_page, route="/courses", title="Course catalog · Academy",
             on_load=CatalogState.load)
app.add_page(course_page, route="/courses/[slug]", title="Course · Academy",
             on_load=[CourseState.load, CheckoutState.close_checkout])
app.add_page(learn_page, route="/learn/[slug]/[lesson]", title="Lesson · Academy",
             on_load=LearnState.load)
app.add_page(dashboard_page, route="/dashboard", title="My learning · Academy",
             on_load=DashboardState.load)
app.add_page(signup_page, route="/signup", title="Sign up · Academy",
             on_load=AccountFormState.open_form)
app.add_page(login_page, route="/login", title="Log in · Academy",
             on_load=AccountFormState.open_form)
app.add_page(courses_page, route="/admin/courses", title="Courses · Workspace · Academy",
             on_load=CourseListState.load)
app.add_page(course_editor_page, route="/admin/courses/[course_id]",
             title="Course editor · Workspace · Academy", on_load=CourseEditorState.load)
app.add_page(learners_page, route="/admin/courses/[course_id]/learners",
             title="Learners · Workspace · Academy", on_load=LearnersState.load)
app.add_page(analytics_page, route="/admin/courses/[course_id]/analytics",
             title="Course analytics · Workspace · Academy", on_load=AnalyticsState.load)
app.add_page(analytics_page, route="/admin/analytics", title="Analytics · Workspace · Academy",
             on_load=AnalyticsState.load)
app.add_page(coupons_page, route="/admin/coupons", title="Coupons · Workspace · Academy",
             on_load=CouponState.load)
app.add_page(payments_page, route="/admin/payments", title="Payments · Workspace · Academy",
             on_load=PaymentQueueState.load)
app.add_page(users_page, route="/admin/users", title="Users · Workspace · Academy",
             on_load=UserAdminState.load)
app.add_page(audit_page, route="/admin/audit", title="Audit log · Workspace · Academy",
             on_load=AuditLogState.load)
app.add_page(not_found_page, route="404", title="Page not found · Academy",
             on_load=AuthState.load_user)
