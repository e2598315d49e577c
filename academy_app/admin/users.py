"""/admin/users — find people, change their role, deactivate and reactivate accounts (admins only).

The rules (admins only, never on oneself, never the last active admin, a deactivated account
logged out everywhere, the audit entries) are in `services/users.py`; the kit lists and asks.
"""

from academy_app.admin import kit
from academy_app.models import User
from academy_app.services import users

user_page = kit.register(
    User, "Users", route="/admin/users",
    subtitle="Find people, change what they may do, and deactivate accounts. A deactivated account "
             "is logged out everywhere at once.",
    listing=kit.Listing(sort="-created_at", search=("full_name", "email"), filters=("role",), columns=(
        kit.Column("full_name", "Person", note="email"),
        kit.Column("is_active", "Status", badge={"Active": "green", "Deactivated": "red"},
                   format=lambda u: "Active" if u.is_active else "Deactivated"),
        kit.Column("created_at", "Joined")),
        empty=("users", "Nobody yet", "People appear here as they sign up.")),
    permissions=kit.Permissions(kit.ADMINS, delete=()),
    actions=(kit.Action("role", "Role", service=users.change_role, choose="role", done="Role changed"),
             kit.Action("deactivate", "Deactivate", when={"is_active": True}, color="red",
                        service=lambda s, admin, user_id: users.set_active(s, admin, user_id, False),
                        done="Account deactivated and logged out"),
             kit.Action("reactivate", "Reactivate", when={"is_active": False},
                        service=lambda s, admin, user_id: users.set_active(s, admin, user_id, True),
                        done="Account reactivated")),
)
