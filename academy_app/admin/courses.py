"""/admin/courses — the courses an instructor runs (all of them for an admin); each title opens the
course editor (admin/course_editor.py), where courses are made and changed."""

from academy_app.admin import kit
from academy_app.models import Course
from academy_app.services import authoring
from academy_app.state.rows import price_label

course_page = kit.register(
    Course, "Courses", route="/admin/courses",
    subtitle="Create courses, organise their lessons and publish them when they are ready.",
    listing=kit.Listing(sort="-updated_at", search=("title",), columns=(
        kit.Column("title", "Course", link=lambda c: f"/admin/courses/{c.id}",
                   note=kit.Column("slug", format=lambda c: f"/courses/{c.slug}")),
        kit.Column("is_published", "Status", badge={"Published": "green", "Draft": "gray"},
                   format=lambda c: "Published" if c.is_published else "Draft"),
        kit.Column("price_cents", "Price", format=lambda c: price_label(c.price_cents, c.currency)),
        kit.Column("lessons", compute=authoring.lesson_counts, empty="0"),
        kit.Column("learners", compute=authoring.learner_counts, empty="0"),
        kit.Column("payments", badge="amber", link=lambda c: "/admin/payments", compute=lambda s, courses: {
            i: f"{n} waiting" for i, n in authoring.pending_payment_counts(s, courses).items()}),
        "instructor_id"),
        empty=("book-plus", "No courses yet",
               "Create your first course: give it a title, add lessons, then publish it.")),
    form=kit.Form(new_page="/admin/courses/new"),
    permissions=kit.Permissions(delete=(), owner=kit.by_user("instructor_id")),
)
