"""Every public address a stakeholder follows, in one place.

Each rule below is the one its route registers (``@bp.get(public_urls.SHARE)``), and
:class:`PublicUrls` fills the same rule in from ``[app] base_url``. The two cannot drift
apart, and links can be built where there is no request: in the delivery workers, the
scheduler and the command line.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, urlencode

# Unsubscribe and preferences, answered by contacts.public_views.
UNSUBSCRIBE = "/u/<token>"
RESUBSCRIBE = "/u/<token>/resubscribe"
PREFERENCES = "/p/<token>"
# The stand-in token of previews and test messages: static routes win over /u/<token>,
# so no real token is shadowed ("test" is never a valid signed token).
TEST_TOKEN = "test"
UNSUBSCRIBE_TEST = "/u/" + TEST_TOKEN
PREFERENCES_TEST = "/p/" + TEST_TOKEN

# Tracked links, share codes and the consultation page, answered by
# mailer.tracking.public_views.
FOLLOW = "/r/<token>"
FOLLOW_VIA = "/r/<token>/<code>"
SHARE = "/s/<code>"
SHARED = "/s/<code>/shared"
CONSULTATION = "/consultations/<slug>"
CONSULTATION_REGISTER = "/consultations/<slug>/register"
CONSULTATION_CONFIRM = "/consultations/<slug>/confirm/<token>"
CONSULTATION_SHARED = "/consultations/<slug>/shared"
# The address a survey tool sends a respondent to when they finish, answered by
# mailer.tracking.completion_views.
COMPLETION = "/c/<code>"

# Documents attached to bulletins and consultations, answered by
# mailer.bulletins.public_views.
DOCUMENT = "/documents/<sha256>/<path:filename>"

# The web version of a send ("view in your browser") and the archive of the ones the
# office published, answered by mailer.delivery.public_views.
ARCHIVE = "/bulletins"
WEB_VERSION = "/bulletins/<token>"

# The standing sign-up page for the lists stakeholders may choose, and the link in its
# confirmation email, answered by mailer.tracking.subscribe_views.
SUBSCRIBE = "/subscribe"
SUBSCRIBE_CONFIRM = "/subscribe/confirm/<token>"

# The link in a review notice to staff that turns such notices off, answered by
# scheduler.reviews.views.
NOTICES_OFF = "/notices/off/<token>"

# Signed bounce and complaint notices from mail providers (POST only, no sign-in, no
# CSRF token: the provider's signature stands in for both), answered by
# mailer.bounces.webhook_views.
WEBHOOK_SES = "/webhooks/ses"
WEBHOOK_SENDGRID = "/webhooks/sendgrid"
WEBHOOK_MAILGUN = "/webhooks/mailgun"

_PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
# Values made only of these need no percent-encoding (tokens and codes always are).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")


@functools.cache
def _compiled(rule: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``rule`` as a format string and, in order, each value's name and the characters
    it may keep unencoded. Links are built for every message a worker sends, so each
    rule is parsed once."""
    fields: list[tuple[str, str]] = []

    def hole(match: re.Match[str]) -> str:
        fields.append((match.group("name"), "/" if match.group("converter") == "path" else ""))
        return "{}"

    template = _PLACEHOLDER.sub(hole, rule.replace("{", "{{").replace("}", "}}"))
    return template, tuple(fields)


def _encoded(value: str | int, safe: str) -> str:
    text = str(value)
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe=safe)


def fill(rule: str, **values: str | int) -> str:
    """``rule`` with each ``<name>`` replaced by its value, percent-encoded.

    A ``path:`` value may hold slashes; every other value is one path segment.
    """
    template, fields = _compiled(rule)
    try:
        return template.format(*[_encoded(values[name], safe) for name, safe in fields])
    except KeyError as exc:
        raise KeyError(f"{rule} needs a value for {exc.args[0]!r}") from None


class PublicUrls:
    """Absolute public addresses under one ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def _absolute(self, rule: str, query: dict[str, str] | None = None, **values: str | int) -> str:
        url = self.base + fill(rule, **values)
        if query:
            url += "?" + urlencode(query)
        return url

    def unsubscribe(self, token: str) -> str:
        return self._absolute(UNSUBSCRIBE, token=token)

    def preferences(self, token: str) -> str:
        return self._absolute(PREFERENCES, token=token)

    def unsubscribe_test(self) -> str:
        return self.base + UNSUBSCRIBE_TEST

    def preferences_test(self) -> str:
        return self.base + PREFERENCES_TEST

    def follow(self, token: str) -> str:
        """A tracked link: counts the click, then redirects to its target."""
        return self._absolute(FOLLOW, token=token)

    def share(self, code: str) -> str:
        """A stakeholder's personal share link (their referral code)."""
        return self._absolute(SHARE, code=code)

    def shared(self, code: str) -> str:
        """The "tell us you shared this" link in a stakeholder's message."""
        return self._absolute(SHARED, code=code)

    def consultation(self, slug: str) -> str:
        return self._absolute(CONSULTATION, slug=slug)

    def completion(self, code: str) -> str:
        """Where the survey tool sends someone who finished (counts a response)."""
        return self._absolute(COMPLETION, code=code)

    def consultation_confirm(self, slug: str, token: str) -> str:
        """The link in a sign-up's confirmation email."""
        return self._absolute(CONSULTATION_CONFIRM, slug=slug, token=token)

    def document(self, sha256: str, filename: str) -> str:
        return self._absolute(DOCUMENT, sha256=sha256, filename=filename)

    def archive(self) -> str:
        """The public archive of published bulletins."""
        return self.base + ARCHIVE

    def web_version(self, token: str) -> str:
        """A send's web version: the message as sent, without anyone's personal data."""
        return self._absolute(WEB_VERSION, token=token)

    def subscribe(self) -> str:
        return self.base + SUBSCRIBE

    def subscribe_confirm(self, token: str) -> str:
        """The link in the standing sign-up page's confirmation email."""
        return self._absolute(SUBSCRIBE_CONFIRM, token=token)

    def notices_off(self, token: str) -> str:
        return self._absolute(NOTICES_OFF, token=token)
