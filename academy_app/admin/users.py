"""/admin/users — find people, change their role, deactivate and reactivate accounts (admins only).

The rules (admins only, never on oneself, a deactivated account logged out everywhere, the audit
entries) are in `services/users.py`; the kit lists and asks.
"""

from academy_app.admin import kit
from academy_app.models import User
from academy_app.services import users

user_page = kit.register(
    User, "Users", route="/admin/users", sort="-created_at", deletable=False,
    subtitle="Find people, change what they may do, and deactivate accounts. A deactivated account "
             "is logged out everywhere at once.",
    columns=(kit.Column("full_name", "Person", note="email"),
             kit.Column("is_active", "Status", badge={"Active": "green", "Deactivated": "red"},
                        format=lambda u: "Active" if u.is_active else "Deactivated"),
             kit.Column("created_at", "Joined")),
    search=("full_name", "email"), filters=("role",),
    access=kit.Access(view=kit.ADMINS, create=kit.ADMINS, edit=kit.ADMINS, delete=kit.ADMINS),
    actions=(kit.Action("role", "Role", service=users.change_role, choose="role", done="Role changed"),
             kit.Action("deactivate", "Deactivate", when={"is_active": True}, color="red",
                        service=lambda s, admin, user_id: users.set_active(s, admin, user_id, False),
                        done="Account deactivated and logged out"),
             kit.Action("reactivate", "Reactivate", when={"is_active": False},
                        service=lambda s, admin, user_id: users.set_active(s, admin, user_id, True),
                        done="Account reactivated")),
    empty=("users", "Nobody yet", "People appear here as they sign up."),
)
