"""/admin/study-groups — learners of one course who meet to study together (the kit's example).

docs/extending.md shows this declaration; tests/unit/test_extending_guide.py keeps the two equal.
"""

from academy_app.admin import kit
from academy_app.models import StudyGroup

study_groups = kit.register(
    StudyGroup, "Study groups", route="/admin/study-groups",
    subtitle="Learners of one course who meet to study together.",
    listing=kit.Listing(("name", "course_id", "capacity", "is_open", "updated_at"), sort="name",
                        search=("name", "description"), filters=("course_id", "is_open"),
                        empty=("users", "No study groups yet", "Create one for a course you teach.")),
    form=kit.Form(("name", "course_id", "description", "capacity",
                   kit.Input("meeting_url", placeholder="https://", check=kit.https_link))),
    permissions=kit.Permissions(owner=kit.via_course("course_id")),
    actions=(kit.Action("close", "Close", kit.set_values(is_open=False), when={"is_open": True}),
             kit.Action("reopen", "Reopen", kit.set_values(is_open=True), when={"is_open": False})),
)
