"""Role names. An admin holds the editor's and the approver's rights too."""

EDITOR = "editor"
APPROVER = "approver"
ADMIN = "admin"

ROLES = (EDITOR, APPROVER, ADMIN)

LABELS = {
    EDITOR: "Editor (comms officer)",
    APPROVER: "Approver",
    ADMIN: "Admin",
}

# What each role may do; views and services ask by capability, not by role name, so a
# new role needs one line here.
CAN_EDIT = frozenset({EDITOR, ADMIN})
CAN_APPROVE = frozenset({APPROVER, ADMIN})
CAN_MANAGE_USERS = frozenset({ADMIN})
CAN_READ_AUDIT = frozenset({APPROVER, ADMIN})
