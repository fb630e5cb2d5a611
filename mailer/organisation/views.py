"""The organisation settings page (admins only): every message prints these values."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db
from mailer.organisation import service as organisation
from scheduler import edits

organisation_bp = Blueprint("organisation", __name__, url_prefix="/admin/organisation")

FIELDS = [
    ("name", "Organisation name", "Shown in the banner, the footer and as who the email is from."),
    ("colour", "Brand colour", "The banner and buttons, as # and six digits. White text "
     "must stay readable on it."),
    ("logo_url", "Logo address", "An https:// address of the logo image (optional)."),
    ("signatory", "Signed by", "Name under each bulletin, such as the Commissioner's."),
    ("signatory_title", "Their title", ""),
    ("website", "Website", ""),
    ("phone", "Phone", "Also where stakeholders ask for a paper copy."),
    ("email", "Contact email", "Where stakeholders ask for a paper copy."),
    ("emergency", "Emergency number", ""),
    ("non_emergency", "Non-emergency number", ""),
    ("register_url", "Register for updates", "Address of your own alerts sign-up (optional)."),
    ("postal_address", "Postal address", "Bulk-sender rules expect one in every message."),
]  # fmt: skip


@organisation_bp.route("/", methods=["GET", "POST"])
@requires(Action.ORGANISATION_SETTINGS)
def settings() -> ResponseReturnValue:
    db = get_db()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name, _l, _h in FIELDS}
        values["social"] = request.form.get("social", "")
        try:
            with db.transaction(db.session) as s:
                before = organisation.get(s).snapshot()
                after = organisation.save(s, values, by=acting_user(s)).snapshot()
                changed = sorted(k for k, v in after.items() if before.get(k) != v)
                returned = edits.settings_changed(s, changed, by=acting_user(s))
        except organisation.SettingsInvalid as exc:
            errors = exc.errors
            return render_template(
                "admin/organisation.html", values=values, errors=errors, fields=FIELDS
            ), 400
        flash("Organisation settings saved. New messages use them from now on.", "success")
        for consultation in returned:
            flash(
                f'"{consultation.title}" was awaiting approval and its messages show these '
                "settings, so it is back to draft: it needs to be submitted again.",
                "warning",
            )
        return redirect(url_for("organisation.settings"))
    current = organisation.get(db.session).snapshot()
    current["social"] = "\n".join(f"{a['name']} {a['url']}" for a in current["social"])
    return render_template("admin/organisation.html", values=current, errors=errors, fields=FIELDS)
