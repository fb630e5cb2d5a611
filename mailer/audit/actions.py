"""Audit action names: constants, so a report can filter on them and a typo fails."""

LOGIN = "login"
LOGIN_FAILED = "login.failed"
LOGIN_THROTTLED = "login.throttled"
LOGOUT = "logout"
USER_CREATED = "user.created"
USER_ROLE_CHANGED = "user.role_changed"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
USER_PASSWORD_CHANGED = "user.password_changed"
SYSTEM_INITIALISED = "system.initialised"

LABELS = {
    LOGIN: "Signed in",
    LOGIN_FAILED: "Failed sign-in",
    LOGIN_THROTTLED: "Sign-in refused (too many failures)",
    LOGOUT: "Signed out",
    USER_CREATED: "User added",
    USER_ROLE_CHANGED: "Role changed",
    USER_DISABLED: "User disabled",
    USER_ENABLED: "User enabled",
    USER_PASSWORD_CHANGED: "Password changed",
    SYSTEM_INITIALISED: "Database initialised",
}
