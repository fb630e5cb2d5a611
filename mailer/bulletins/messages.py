"""From a bulletin to a prepared message: the one path previews, test sends and real
sends all take.

``freeze`` captures everything a message depends on (the template version's sources,
the bulletin's words, the organisation settings, the documents by content hash) as one
JSON-able value. A send stores that value when it is approved, so later edits to the
template, the bulletin or the settings never change what it delivers. ``prepare_frozen``
turns a frozen value into a :class:`PreparedMessage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer import public_urls
from mailer.bulletins import blocks, context, files
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.email_templates import office_mail
from mailer.email_templates.models import KIND_BULLETIN, TemplateVersion
from mailer.organisation import service as organisation
from mailer.public_urls import PublicUrls
from mailer.rendering.dkim import DkimSigner
from mailer.rendering.prepare import (
    Attachment,
    PreparedMessage,
    Recipient,
    Sender,
    TemplateParts,
    prepare,
)

TEST_SUBJECT_PREFIX = "[TEST] "


class TemplateUnusable(Exception):
    """The bulletin's template has a problem that stops it from being used."""


@dataclass(frozen=True)
class Settings:
    """What rendering needs from the configuration."""

    base_url: str
    timezone: str
    # [mail] from_address's name and address (also the envelope sender): the name is
    # used only for an office without one; the address unless the office chose another
    # of ``allowed_from`` (office_mail.choose, applied to each frozen organisation).
    sender: Sender
    files_folder: Path
    signer: DkimSigner | None = None
    allowed_from: tuple[str, ...] = ()
    # [mail] feedback_id: the sender id of each send's Feedback-ID ("" for none).
    feedback_id: str = ""

    @property
    def message_id_domain(self) -> str:
        return self.sender.from_address.rpartition("@")[2]


def settings_from(config: Config) -> Settings:
    name, address = parseaddr(config.mail.from_address)
    signer = None
    if config.dkim is not None:
        signer = DkimSigner.from_file(
            domain=config.dkim.domain,
            selector=config.dkim.selector,
            path=config.dkim.private_key_file,
        )
    return Settings(
        base_url=config.app.base_url.rstrip("/"),
        timezone=config.app.timezone,
        sender=Sender(
            from_name=name,
            from_address=address,
            list_id=config.mail.list_id,
            reply_to=config.mail.reply_to,
        ),
        files_folder=files.folder_for(config),
        signer=signer,
        allowed_from=config.mail.allowed_addresses,
        feedback_id=config.mail.feedback_id,
    )


def list_id(settings: Settings, *, list_id: int | None = None, name: str = "") -> str:
    """The List-Id value of a contact list (RFC 2919), ``"Name <list-3.example.org>"``
    under ``[mail] list_id``; without a list, the office's own."""
    base = settings.sender.list_id
    if list_id is None:
        return base
    bare = base.rpartition("<")[2].rstrip(">") if base.endswith(">") else base
    return f"{name} <list-{list_id}.{bare}>"


def feedback_id(settings: Settings, *, send_id: int, kind: str) -> str:
    """Gmail's Feedback-ID (``a:b:c:SenderId``): the send, its kind, the product and
    ``[mail] feedback_id``, so complaints are counted per send; "" when not set."""
    if not settings.feedback_id:
        return ""
    return f"{send_id}:{kind}:stakeholder-mailer:{settings.feedback_id}"


@dataclass(frozen=True)
class Document:
    filename: str
    title: str
    sha256: str
    content_type: str
    size: int
    # Its accessible web version (a consultation document's), "" for none.
    alternative_url: str = ""


@dataclass(frozen=True)
class Frozen:
    template_version_id: int
    kind: str
    parts: TemplateParts
    content: context.Content
    org: dict[str, Any]
    documents: tuple[Document, ...] = ()
    link_documents: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.content.blocks:
            # Left out when unused, so a version frozen before blocks existed keeps its
            # content hash (scheduler/approval.py).
            del data["content"]["blocks"]
        for document in data["documents"]:
            # Likewise: a document without an accessible version hashes as before.
            if not document["alternative_url"]:
                del document["alternative_url"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frozen:
        return cls(
            template_version_id=data["template_version_id"],
            kind=data["kind"],
            parts=TemplateParts(**data["parts"]),
            content=context.Content(**data["content"]),
            org=dict(data["org"]),
            documents=tuple(Document(**d) for d in data.get("documents", ())),
            link_documents=bool(data.get("link_documents")),
            extra=dict(data.get("extra", {})),
        )


def current_version(bulletin: Bulletin) -> TemplateVersion:
    versions = bulletin.template.versions
    if not versions:
        raise TemplateUnusable(f"the template {bulletin.template.name!r} has no version")
    return versions[-1]


def freeze(
    session: Session,
    bulletin: Bulletin,
    *,
    documents: Sequence[Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Frozen:
    """Everything ``bulletin`` would send now. Raises TemplateUnusable.

    ``documents`` (anything with filename, title and file) stand in for the bulletin's
    own attachments: a consultation's sends carry the consultation's documents.
    ``extra`` is kept as it is (the consultation the message is about)."""
    version = current_version(bulletin)
    if version.problem:
        raise TemplateUnusable(
            f'The template "{bulletin.template.name}" cannot be used until its problem '
            f"is fixed: {version.problem}"
        )
    return Frozen(
        template_version_id=version.id,
        kind=bulletin.kind,
        parts=TemplateParts(
            subject=version.subject,
            preheader=version.preheader,
            html=version.html,
            text=version.text,
        ),
        content=context.Content(
            subject=bulletin.subject,
            preheader=bulletin.preheader,
            body_markdown=bulletin.body_markdown,
            blocks=blocks.clean(bulletin.blocks),
        ),
        org=organisation.get(session).snapshot(),
        documents=tuple(
            Document(
                filename=a.filename,
                title=a.title,
                sha256=a.file.sha256,
                content_type=a.file.content_type,
                size=a.file.size,
                alternative_url=getattr(a, "alternative_url", "") or "",
            )
            for a in (bulletin.attachments if documents is None else documents)
        ),
        link_documents=bulletin.link_documents,
        extra=dict(extra or {}),
    )


def consultation_or_example(
    kind: str,
    consultation: context.ConsultationView | None,
    *,
    settings: Settings,
    now: datetime,
    example: bool = False,
) -> context.ConsultationView | context.PendingConsultation | None:
    """The consultation a message of ``kind`` shows: the given one; for a kind that
    needs one and has none, a pending one (words saying it is not chosen yet, no dates),
    so a bulletin's preview or test message never shows invented facts. ``example``:
    the template editor's example consultation instead, for a template on its own."""
    if consultation is None and kind != KIND_BULLETIN:
        if example:
            return context.sample_consultation(
                now=now, timezone=settings.timezone, base_url=settings.base_url
            )
        archive = PublicUrls(settings.base_url).archive()
        return context.PendingConsultation(page_url=archive, survey_url=archive)
    return consultation


def document_url(base_url: str, document: Document) -> str:
    return PublicUrls(base_url).document(document.sha256, document.filename)


def prepare_frozen(
    frozen: Frozen,
    *,
    settings: Settings,
    consultation: context.ConsultationView | context.PendingConsultation | None,
    now: datetime,
    subject_prefix: str = "",
    document_links: dict[str, str] | None = None,
    body_links: dict[str, str] | None = None,
    web_version: str | None = None,
    send_id: int | None = None,
) -> PreparedMessage:
    """The message a frozen bulletin makes. Raises sandbox.TemplateProblem and
    FileNotFoundError (a stored document missing from disk). ``document_links`` (by
    content hash) replace the documents' plain addresses (tracked links), as
    ``body_links`` (by address) do the links the writer put in the body.
    ``web_version``: the send's web version address ("" for none); None, for previews
    and test messages, stands in the public archive's address. ``send_id``: a real
    send's, for its Feedback-ID."""
    attachments: list[Attachment] = []
    tracked = document_links or {}
    carried = [
        context.DocumentView(
            title=d.title,
            filename=d.filename,
            size=d.size,
            url=(
                tracked.get(d.sha256, document_url(settings.base_url, d))
                if frozen.link_documents
                else ""
            ),
            accessible_url=d.alternative_url,
        )
        for d in frozen.documents
    ]
    links = [context.describe_document(f) for f in carried if f.url]
    if not frozen.link_documents:
        attachments = [
            Attachment(
                filename=d.filename,
                content_type=d.content_type,
                data=files.read(settings.files_folder, d.sha256),
            )
            for d in frozen.documents
        ]
    values = context.build(
        kind=frozen.kind,
        content=frozen.content,
        org=frozen.org,
        consultation=consultation,
        documents=links,
        files=carried,
        timezone=settings.timezone,
        now=now,
        body_links=body_links,
        web_version=PublicUrls(settings.base_url).archive() if web_version is None else web_version,
    )
    parts = frozen.parts
    if subject_prefix:
        parts = TemplateParts(
            subject=subject_prefix.replace("{", "") + parts.subject,
            preheader=parts.preheader,
            html=parts.html,
            text=parts.text,
        )
    # The office's name at its chosen address, as frozen at approval (office_mail's
    # one rule for every message the product sends).
    office = office_mail.choose(
        frozen.org,
        default_name=settings.sender.from_name,
        default_address=settings.sender.from_address,
        allowed=settings.allowed_from or (settings.sender.from_address,),
    )
    sender = Sender(
        from_name=office.name,
        from_address=office.address,
        list_id=settings.sender.list_id,
        reply_to=settings.sender.reply_to,
        feedback_id=(
            feedback_id(settings, send_id=send_id, kind=frozen.kind) if send_id is not None else ""
        ),
    )
    return prepare(parts, values, sender=sender, attachments=attachments, signer=settings.signer)


def preview_recipient(
    settings: Settings,
    *,
    email: str,
    contact: Contact | None = None,
    consultation: context.ConsultationView | context.PendingConsultation | None = None,
) -> Recipient:
    """A recipient whose personal links are harmless stand-ins: a preview or a test
    message must never let its reader unsubscribe, or share as, a real stakeholder."""
    urls = PublicUrls(settings.base_url)
    # Previews and tests have no web version yet: the public archive stands in for it.
    page = consultation.page_url if consultation else urls.archive()
    survey = consultation.survey_url if consultation else page
    return Recipient(
        email=contact.email if contact else email,
        name=contact.name if contact else "",
        organisation=contact.organisation if contact else "",
        role=contact.role if contact else "",
        links={
            "unsubscribe": urls.unsubscribe(public_urls.TEST_TOKEN),
            "preferences": urls.preferences(public_urls.TEST_TOKEN),
            "share": page,
            "survey": survey,
            "confirm_cascade": page,
        },
    )
