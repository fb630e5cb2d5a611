"""Each running send's message, prepared once per worker process.

Preparing runs the sandboxed template and premailer (about a tenth of a second); after
that a recipient's copy is spliced from it (mailer.rendering.prepare). The worker
threads of one process share one cache, so a send is prepared once there rather than
once per SMTP connection, and it holds only the last few sends, so a long-running
`mailer run` does not keep every bulletin (and its attachments) it ever sent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from contacts.audience import Audience
from contacts.models import ContactList
from mailer.bulletins import messages
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.database import Database
from mailer.delivery.models import (
    LINK_BODY,
    LINK_DOCUMENT,
    LINK_SURVEY,
    LINK_WEB_VERSION,
    Send,
    TrackedLink,
)
from mailer.public_urls import PublicUrls
from mailer.rendering.prepare import PreparedMessage

KEEP = 8  # sends kept prepared; more than run at once in any office we know of


class Prepared(NamedTuple):
    message: PreparedMessage
    # The links every recipient of the send shares (the personal ones are added per
    # recipient) ...
    links: dict[str, str]
    # ... and whether the survey link names its reader ([tracking] per_person, and a
    # tracked survey link to add the reader's share code to): decided once per send.
    personal_survey: bool
    # The List-Id value of each list the send's audience names, by list id (lowest
    # first): a recipient's is that of the first they belong to (recipients.first_lists).
    lists: dict[int, str] = {}


class SendUnusable(Exception):
    """The send's message cannot be made (a template problem, a missing document)."""


class PreparedSends:
    def __init__(
        self,
        db: Database,
        settings: messages.Settings,
        *,
        clock: Callable[[], datetime],
        per_person: bool = False,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.per_person = per_person
        self._cache: OrderedDict[int, Prepared] = OrderedDict()
        # One thread prepares a send while the others wait for it, rather than each
        # running premailer on the same bulletin at the same moment.
        self._lock = threading.Lock()

    def get(self, send_id: int) -> Prepared:
        cached = self._cache.get(send_id)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(send_id)
            if cached is None:
                cached = self._cache[send_id] = self._prepare(send_id)
                while len(self._cache) > KEEP:
                    self._cache.popitem(last=False)
            return cached

    def forget(self, send_id: int) -> None:
        """Prepare it again next time (after a pause: the problem may have been fixed)."""
        with self._lock:
            self._cache.pop(send_id, None)

    def _prepare(self, send_id: int) -> Prepared:
        base = self.settings.base_url
        with self.db.transaction() as session:
            send = session.get(Send, send_id)
            if send is None or send.frozen is None:
                raise SendUnusable(f"send {send_id} has nothing approved to send")
            frozen = messages.Frozen.from_json(send.frozen)
            web = PublicUrls(base).web_version(send.web_token) if send.web_token else ""
            audience = Audience.from_json(send.audience)
            lists = {
                row.id: messages.list_id(self.settings, list_id=row.id, name=row.name)
                for row in session.execute(
                    select(ContactList.id, ContactList.name)
                    .where(ContactList.id.in_(audience.lists))
                    .order_by(ContactList.id)
                )
            }
            tracked = {
                (link.kind, link.target): PublicUrls(base).follow(link.token)
                for link in session.scalars(
                    select(TrackedLink).where(TrackedLink.send_id == send_id)
                )
            }
        known = FrozenConsultation.in_extra(frozen.extra)
        consultation = known.view() if known else None
        document_links = {
            d.sha256: tracked[(LINK_DOCUMENT, messages.document_url(base, d))]
            for d in frozen.documents
            if (LINK_DOCUMENT, messages.document_url(base, d)) in tracked
        }
        # The writer's own links, each through its tracked link (made when the send fell due).
        body_links = {target: url for (kind, target), url in tracked.items() if kind == LINK_BODY}
        try:
            prepared = messages.prepare_frozen(
                frozen,
                settings=self.settings,
                consultation=consultation,
                now=self.clock(),
                document_links=document_links,
                body_links=body_links,
                web_version=tracked.get((LINK_WEB_VERSION, web), web),
                send_id=send_id,
            )
        except Exception as exc:  # a template problem or a missing document
            raise SendUnusable(f"the message cannot be made: {exc}") from exc
        # A bulletin about no consultation is passed on as its web version: the site's
        # own address may have no page at all.
        page = consultation.page_url if consultation else (web or base)
        survey = consultation.survey_url if consultation else base
        links = {
            "share": page,
            "survey": tracked.get((LINK_SURVEY, survey), survey),
            "confirm_cascade": f"{page}#shared",
            "web_version": web,
        }
        personal = self.per_person and (LINK_SURVEY, survey) in tracked
        return Prepared(prepared, links, personal, lists)
