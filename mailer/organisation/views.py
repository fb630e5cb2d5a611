"""The organisation settings page (admins only): every message prints these values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.config import Config
from mailer.database import get_db
from mailer.email_templates import office_mail
from mailer.organisation import branding_views
from mailer.organisation import service as organisation
from scheduler import edits

organisation_bp = Blueprint("organisation", __name__, url_prefix="/admin/organisation")

FIELDS = [
    ("name", "Organisation name", "Shown in the banner, the footer and as who every email is "
     "from."),
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


def _config() -> Config:
    config: Config = current_app.config["MAILER"]
    return config


@dataclass(frozen=True)
class SenderView:
    """What the page says about who messages come from."""

    header: str  # "Office of the PCC <news@pcc.example.org>"
    choices: tuple[str, ...]  # the allowed addresses, the operator's default first
    # The address the office chose that the operator no longer allows ("" if none).
    withdrawn: str


def _sender_view(org: dict[str, Any]) -> SenderView:
    config = _config()
    allowed = config.mail.allowed_addresses
    withdrawn = ""
    if not office_mail.chosen_is_allowed(org, allowed=allowed):
        withdrawn = str(org.get("from_address") or "")
    return SenderView(
        header=office_mail.sender(config, org).header(),
        choices=allowed,
        withdrawn=withdrawn,
    )


def _page(values: dict[str, Any], *, errors: dict[str, str], current: dict[str, Any]) -> str:
    return render_template(
        "admin/organisation.html",
        values=values,
        errors=errors,
        fields=FIELDS,
        sender=_sender_view(current),
    )


@organisation_bp.route("/", methods=["GET", "POST"])
@requires(Action.ORGANISATION_SETTINGS)
def settings() -> ResponseReturnValue:
    db = get_db()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name, _l, _h in FIELDS}
        values["social"] = request.form.get("social", "")
        values["from_address"] = request.form.get("from_address", "")
        try:
            with db.transaction(db.session) as s:
                before = organisation.get(s).snapshot()
                after = organisation.save(
                    s, values, by=acting_user(s), allowed_from=_config().mail.allowed_addresses
                ).snapshot()
                changed = organisation.changed_fields(before, after)
                returned = edits.settings_changed(s, changed, by=acting_user(s))
        except organisation.SettingsInvalid as exc:
            errors = exc.errors
            current = organisation.get(db.session).snapshot()
            return _page(values, errors=errors, current=current), 400
        flash("Organisation settings saved. New messages use them from now on.", "success")
        for consultation in returned:
            flash(
                f'"{consultation.title}" was awaiting approval and its messages show these '
                "settings, so it is back to draft: it needs to be submitted again.",
                "warning",
            )
        return redirect(url_for("organisation.settings"))
    current = organisation.get(db.session).snapshot()
    values = dict(current)
    values["social"] = "\n".join(f"{a['name']} {a['url']}" for a in current["social"])
    values.setdefault("from_address", "")
    return _page(values, errors=errors, current=current)


branding_views.register(organisation_bp)
