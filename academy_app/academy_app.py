"""Composition root: the Reflex app, its theme and its pages."""

from __future__ import annotations

import logging
from collections.abc import Callable

import reflex as rx

# Kit pages register on import (admin/kit, docs/extending.md).
from academy_app.admin import (  # noqa: F401 - importing a kit page registers it
    audit,
    certificates,
    coupons,
    courses,
    kit,
    payments,
    study_groups,
    users,
)
from academy_app.admin.broadcast import BroadcastState
from academy_app.admin.course_editor import CourseEditorState, course_editor_page
from academy_app.admin.discussions import InboxState, inbox_page
from academy_app.admin.jobs import JobsState, jobs_page
from academy_app.admin.pacing import PacingState, pacing_page
from academy_app.admin.question_bank import QuestionBankState, question_bank_page
from academy_app.admin.quiz_editor import QuizEditorState, quiz_editor_page
from academy_app.admin.quiz_results import QuizResultsState, quiz_results_page
from academy_app.admin.reports import AnalyticsState, LearnersState, analytics_page, learners_page
from academy_app.api.metrics import refresh_metrics
from academy_app.api.routes import routes
from academy_app.api.served_html import served_html
from academy_app.api.upload_size import limit_upload_size
from academy_app.api.v1.app import rest_api
from academy_app.infra.crafted_events import CraftedEventGuard
from academy_app.infra.logging import configure_logging
from academy_app.infra.metrics import EventObserver, http_metrics
from academy_app.infra.outages import handle_backend_exception
from academy_app.infra.request_ids import request_ids
from academy_app.infra.security_headers import security_headers
from academy_app.infra.sentry import init_sentry
from academy_app.infra.session_cookie import login_cookie_for_events
from academy_app.pages.account import (
    forgot_password_page,
    login_page,
    reset_password_page,
    signup_page,
)
from academy_app.pages.catalog import catalog_page
from academy_app.pages.certificates import certificates_page, verify_page
from academy_app.pages.course import course_page
from academy_app.pages.dashboard import dashboard_page
from academy_app.pages.errors import not_found_page
from academy_app.pages.home import home_page
from academy_app.pages.learn import learn_page
from academy_app.pages.my_account import account_page, confirm_email_page
from academy_app.pages.notifications import notifications_page
from academy_app.pages.orders import order_page
from academy_app.pages.reminders import unsubscribe_page
from academy_app.pages.study_groups import study_groups_page
from academy_app.settings import get_settings
from academy_app.state.account import (
    AccountFormState,
    EmailChangeState,
    MyAccountState,
    PasswordFormState,
)
from academy_app.state.auth import AuthState
from academy_app.state.catalog import CatalogState, HomeState
from academy_app.state.certificates import CertificatesState, VerifyState
from academy_app.state.checkout import CheckoutState
from academy_app.state.course import CourseState
from academy_app.state.dashboard import DashboardState
from academy_app.state.discussions import DiscussionState
from academy_app.state.learn import LearnState
from academy_app.state.live import reloads_live, run_listener
from academy_app.state.notifications import NotificationState
from academy_app.state.orders import OrderState
from academy_app.state.quiz import QuizState
from academy_app.state.reminders import ReminderLinkState
from academy_app.state.reviews import ReviewState
from academy_app.state.study_groups import LearnerGroupsState

log = logging.getLogger("academy")

settings = get_settings()
configure_logging(settings)
init_sentry(settings)
if settings.redis_url:
    log.warning("Academy: Redis at %s holds Reflex state.", settings.redis_url.split("@")[-1])
else:
    log.warning("Academy: embedded mode (no REFLEX_REDIS_URL): state on local disk, one worker.")

app = rx.App(
    backend_exception_handler=handle_backend_exception,
    # In order, each wrapping the last: security_headers is outermost, so it covers /api/v1 too.
    # login_cookie_for_events keeps the raw login token out of what Reflex records of a handshake.
    # served_html answers page addresses before Reflex's static-file mount (api/served_html.py).
    api_transformer=[routes, rest_api, served_html, limit_upload_size, login_cookie_for_events,
                     http_metrics, request_ids, security_headers],
    stylesheets=["/styles.css"],
    head_components=[rx.el.meta(name="description",
                                content="Academy: practical online courses, learned at your pace.")],
)
app.register_lifespan_task(run_listener)
app.register_lifespan_task(refresh_metrics)
app.add_middleware(EventObserver(), index=0)  # request id and latency of every WebSocket event
app.add_middleware(CraftedEventGuard())  # crafted events: dropped or cleaned, never a traceback


def add_page(component: Callable[[], rx.Component], route: str, title: str | rx.Var,
             *on_load: rx.event.EventHandler) -> None:
    """Every page also refreshes the notification bell on load, which a reconnect repeats: a tab
    that was offline catches up from the database, and its worker learns whose tab it is."""
    app.add_page(component, route=route, title=title, on_load=[*on_load, NotificationState.refresh])


# What a live "refresh" may run again on an open page (the others reset forms or dialogs).
for live_safe in (CourseState.load, DashboardState.load, LearnState.load, CertificatesState.load,
                  OrderState.load, NotificationState.refresh):
    reloads_live(live_safe)


add_page(home_page, "/", "Academy — learn at your own pace", HomeState.load)
add_page(catalog_page, "/courses", "Course catalog · Academy", CatalogState.load)
add_page(course_page, "/courses/[slug]", CourseState.page_title, CourseState.load,
         CheckoutState.close_checkout, ReviewState.load)
add_page(learn_page, "/learn/[slug]/[lesson]", "Lesson · Academy", LearnState.load,
         DiscussionState.load, QuizState.load)
add_page(dashboard_page, "/dashboard", "My learning · Academy", DashboardState.load)
add_page(certificates_page, "/certificates", "My certificates · Academy", CertificatesState.load)
add_page(verify_page, "/verify", "Verify a certificate · Academy", VerifyState.load)
add_page(verify_page, "/verify/[code]", "Verify a certificate · Academy", VerifyState.load)
add_page(unsubscribe_page, "/unsubscribe/[token]", "Emails from Academy · Academy",
         ReminderLinkState.load)
add_page(signup_page, "/signup", "Sign up · Academy", AccountFormState.open_form)
add_page(login_page, "/login", "Log in · Academy", AccountFormState.open_form)
add_page(forgot_password_page, "/password/forgot", "Forgot password · Academy",
         PasswordFormState.open_forgot)
add_page(reset_password_page, "/password/reset/[token]", "Choose a new password · Academy",
         PasswordFormState.open_reset)
add_page(account_page, "/account", "Your account · Academy", MyAccountState.load)
add_page(confirm_email_page, "/account/email/[token]", "Confirm your new email · Academy",
         EmailChangeState.open_link)
add_page(notifications_page, "/notifications", "Notifications · Academy",
         NotificationState.open_page)
add_page(order_page, "/orders/[order_id]", "Your order · Academy", OrderState.load)
add_page(study_groups_page, "/study-groups", "Study groups · Academy", LearnerGroupsState.load)
add_page(course_editor_page, "/admin/courses/[course_id]", "Course editor · Workspace · Academy",
         CourseEditorState.load, BroadcastState.load)
add_page(learners_page, "/admin/courses/[course_id]/learners", "Learners · Workspace · Academy",
         LearnersState.load)
add_page(analytics_page, "/admin/courses/[course_id]/analytics",
         "Course analytics · Workspace · Academy", AnalyticsState.load)
add_page(question_bank_page, "/admin/courses/[course_id]/questions",
         "Question bank · Workspace · Academy", QuestionBankState.load)
add_page(pacing_page, "/admin/courses/[course_id]/pacing", "Pacing · Workspace · Academy",
         PacingState.load)
add_page(quiz_editor_page, "/admin/quizzes/[quiz_id]", "Quiz editor · Workspace · Academy",
         QuizEditorState.load)
add_page(quiz_results_page, "/admin/quizzes/[quiz_id]/results",
         "Quiz results · Workspace · Academy", QuizResultsState.load)
add_page(analytics_page, "/admin/analytics", "Analytics · Workspace · Academy", AnalyticsState.load)
add_page(jobs_page, "/admin/jobs", "Jobs · Workspace · Academy", JobsState.load)
add_page(inbox_page, "/admin/discussions", "Questions · Workspace · Academy", InboxState.load)
for kit_page in kit.registered():  # pages declared with the admin kit (admin/kit, docs/extending.md)
    add_page(kit_page.page, kit_page.route, kit_page.title, kit_page.state.load)
add_page(not_found_page, "404", "Page not found · Academy", AuthState.load_user)
