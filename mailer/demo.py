# ruff: noqa: E501 - the demo contacts are CSV lines, kept whole to be read as rows
"""A fictional office to explore: ``mailer demo``, and the first ``mailer run``.

Northshire's Police and Crime Commissioner consults on a draft plan: partners of every
statutory kind on a stakeholder list, a public updates list, the draft plan as a PDF,
and a consultation written by the admin and waiting for the demo approver, so a
newcomer can walk the whole approval. Every address is at example.org; nothing here is
a real person or body.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.importing import import_contacts
from contacts.models import ContactList
from mailer.accounts import passwords, roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User
from mailer.bulletins import files
from mailer.config import Config
from mailer.organisation import service as organisation
from scheduler.consultations import documents, editing, lifecycle, planning
from scheduler.consultations.details import Details
from scheduler.models import TYPE_PLAN_DRAFT

log = logging.getLogger(__name__)

STAKEHOLDERS = "Northshire stakeholders"
PUBLIC_UPDATES = "Plan updates (public)"
APPROVER_EMAIL = "approver@example.org"

CONTACTS_CSV = """email,name,organisation,organisation_type,role,area,tags
chief.constable@police.example.org,Dana Reeve,Northshire Police,Chief Constable's office,Chief Constable,Force-wide,statutory
staff.officer@police.example.org,Sam Okafor,Northshire Police,Chief Constable's office,Staff Officer,Force-wide,statutory
panel.chair@council.example.org,Cllr Priya Shah,Northshire Police and Crime Panel,Police and Crime Panel,Chair,Force-wide,statutory
panel.support@council.example.org,Tom Birch,Northshire Police and Crime Panel,Police and Crime Panel,Panel Support Officer,Force-wide,statutory
safer.eastbury@council.example.org,Jo Marsh,Eastbury Community Safety Partnership,Community Safety Partnership,Partnership Manager,Eastbury,csp
safer.westmoor@council.example.org,Ali Haddad,Westmoor Community Safety Partnership,Community Safety Partnership,Partnership Manager,Westmoor,csp
chief.exec@eastbury.example.org,Helen Price,Eastbury Borough Council,Local authority,Chief Executive,Eastbury,council
community@westmoor.example.org,Grace Lin,Westmoor District Council,Local authority,Head of Communities,Westmoor,council
hello@victimsupport.example.org,Chris Day,Northshire Victim Care,Victims' service,Service Manager,Force-wide,victims
refuge@safehaven.example.org,Amira Noor,Safe Haven Domestic Abuse Service,Victims' service,Director,Eastbury,victims
vrp@northshire.example.org,Lee Carter,Northshire Violence Reduction Partnership,Violence Reduction partnership,Lead,Force-wide,
probation@justice.example.org,Kim Walsh,Northshire Probation Delivery Unit,Criminal justice partner,Head of Service,Force-wide,
nhs.safeguarding@nhs.example.org,Dr Ravi Menon,Northshire Integrated Care Board,Health,Safeguarding Lead,Force-wide,
station@fire.example.org,Pat Quinn,Northshire Fire and Rescue Service,Fire and rescue,Area Manager,Force-wide,
info@youthclub.example.org,Bea Lowe,Eastbury Youth Trust,Voluntary and community group,Coordinator,Eastbury,youth
office@faithforum.example.org,Rev. Ola Adeyemi,Northshire Faith Forum,Voluntary and community group,Secretary,Force-wide,faith
chamber@business.example.org,Nina Patel,Northshire Chamber of Commerce,Business,Policy Officer,Force-wide,
cllr.jones@westmoor.example.org,Cllr Gareth Jones,Westmoor District Council,Elected member,Ward Councillor,Westmoor,
resident.one@example.org,Morgan Ellis,,Member of the public,,Eastbury,
resident.two@example.org,Robin Ashby,,Member of the public,,Westmoor,
"""

PUBLIC_CSV = """email,name,organisation_type,area
resident.one@example.org,Morgan Ellis,Member of the public,Eastbury
resident.two@example.org,Robin Ashby,Member of the public,Westmoor
resident.three@example.org,Sasha Greene,Member of the public,Eastbury
"""

LAUNCH_BODY = """I am pleased to share my draft Police and Crime Plan for Northshire.

It sets out my priorities for policing and community safety over the next four years:

- preventing crime and keeping neighbourhoods safe
- making our roads safer
- putting victims first
- tackling violence against women and girls

The plan matters to all of us, and I want it to reflect what you and the people you
work with tell us. Please take the survey, and pass this message on through your own
networks, newsletters and meetings.
"""


@dataclass(frozen=True)
class Loaded:
    consultation_id: int
    approver_email: str
    approver_password: str | None  # None when the approver already existed


def demo_pdf() -> bytes:
    """A one-page PDF standing in for the draft plan (valid enough for any reader)."""
    text = "Northshire Draft Police and Crime Plan (demo document)"
    stream = f"BT /F1 18 Tf 60 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def is_loaded(session: Session) -> bool:
    return (
        session.scalar(select(ContactList.id).where(ContactList.name == STAKEHOLDERS)) is not None
    )


def load(session: Session, config: Config, *, author: User, now: datetime) -> Loaded | None:
    """Load the demo office into the caller's transaction; None when it is there already."""
    if is_loaded(session):
        return None
    settings = organisation.get(session)
    settings.name = "Office of the Police and Crime Commissioner for Northshire"
    settings.website = "https://pcc.example.org"
    settings.phone = "01234 567890"
    settings.email = "contact@pcc.example.org"
    settings.postal_address = "Northshire OPCC, 1 Example Street, Eastbury, EX1 2AB"
    settings.signatory = "Alex Morgan"
    settings.signatory_title = "Police and Crime Commissioner for Northshire"
    settings.social = [
        {"name": "Facebook", "url": "https://social.example.org/northshirepcc"},
        {"name": "Instagram", "url": "https://photos.example.org/northshirepcc"},
    ]
    import_contacts(
        session,
        io.BytesIO(CONTACTS_CSV.encode()),
        lists=[STAKEHOLDERS],
        filename="demo-stakeholders.csv",
        by=author,
    )
    import_contacts(
        session,
        io.BytesIO(PUBLIC_CSV.encode()),
        lists=[PUBLIC_UPDATES],
        filename="demo-public.csv",
        by=author,
    )
    public = session.scalar(select(ContactList).where(ContactList.name == PUBLIC_UPDATES))
    if public is not None:
        public.choosable = True
        public.description = "News about the Police and Crime Plan, for anyone who asks."
    approver = accounts.find_by_email(session, APPROVER_EMAIL)
    password = None
    if approver is None:
        password = passwords.generate()
        approver = accounts.create_user(
            session,
            email=APPROVER_EMAIL,
            password=password,
            role=roles.APPROVER,
            name="Jordan Approver",
            by_label="mailer demo",
        )
    lists = [
        list_id
        for list_id in session.scalars(
            select(ContactList.id).where(ContactList.name.in_([STAKEHOLDERS, PUBLIC_UPDATES]))
        )
    ]
    # Opening in an hour (moved to the next allowed time if that falls in quiet hours or
    # on a weekend), so approving it sends nothing at once; "Open now" sends the launch
    # to the outbox within seconds, which is what a newcomer trying it wants.
    opens = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    zone = config.app.tz
    closes_day = (opens.astimezone(zone) + timedelta(days=42)).date()
    created, _ = editing.create(
        session,
        Details(
            title="Draft Police and Crime Plan 2027 to 2031",
            opens_at=opens,
            closes_at=datetime(
                closes_day.year, closes_day.month, closes_day.day, 23, 59, tzinfo=zone
            ),
            survey_url="https://survey.example.org/northshire-plan",
            summary="The Commissioner's priorities for policing and community safety in "
            "Northshire for the next four years. Tell us what matters to you.",
            type=TYPE_PLAN_DRAFT,
            lists=tuple(lists),
            launch_body=LAUNCH_BODY,
        ),
        by=author,
        rules=planning.rules_for(session, config),
        now=now,
    )
    documents.add_document(
        session,
        created,
        filename="northshire-draft-police-and-crime-plan.pdf",
        data=demo_pdf(),
        title="Draft Police and Crime Plan 2027 to 2031",
        folder=files.folder_for(config),
        limit_bytes=config.mail.max_attachments_mb * 1024 * 1024,
        by=author,
    )
    lifecycle.submit(session, created, by=author, now=now)
    log.info("demo office loaded: consultation %s awaits approval", created.id)
    return Loaded(created.id, approver.email, password)
