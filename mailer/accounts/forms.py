from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField

# SelectChoice is new in WTForms 3.3; the stubs (types-WTForms) still describe 3.2.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, Optional

from mailer.accounts import roles

ROLE_CHOICES = [SelectChoice(role, roles.LABELS[role]) for role in roles.ROLES]


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired(), Length(max=320)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class NewUserForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired(), Length(max=320)],
        render_kw={"autocomplete": "off"},
    )
    name = StringField("Full name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=roles.EDITOR)
    password = PasswordField(
        "Initial password",
        validators=[Optional(), Length(max=1024)],
        description=(
            "At least 12 characters, hard to guess (a few unrelated words work well),"
            " without the email name. Leave blank to generate one, shown once."
        ),
        render_kw={"autocomplete": "new-password"},
    )


class UserRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class UserStatusForm(FlaskForm):
    pass


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=1024)],
        description=(
            "At least 12 characters, hard to guess (a few unrelated words work well),"
            " without your email name."
        ),
        render_kw={"autocomplete": "new-password"},
    )
