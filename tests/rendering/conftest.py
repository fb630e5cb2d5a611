"""A sample organisation, consultation and awkward recipients for rendering tests."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.bulletins import context
from mailer.email_templates.models import KINDS
from mailer.email_templates.seeds import seed_parts
from mailer.organisation.service import DEFAULT_ORGANISATION
from mailer.rendering.dkim import DkimSigner
from mailer.rendering.prepare import (
    Attachment,
    PreparedMessage,
    Recipient,
    Sender,
    prepare,
)

NOW = datetime(2027, 7, 20, 9, 0, tzinfo=UTC)
ORG = {
    **DEFAULT_ORGANISATION,
    "name": "Office of the Police and Crime Commissioner for Northshire",
    "logo_url": "https://www.northshire-pcc.example.org/logo.png",
    "website": "https://www.northshire-pcc.example.org",
    "phone": "01632 960000",
    "email": "contact@northshire-pcc.example.org",
    "social": [{"name": "Facebook", "url": "https://facebook.example.org/northshirepcc"}],
    "postal_address": "1 Example Street, Northshire NS1 1AA",
    "signatory": "Alex Morgan",
    "signatory_title": "Police and Crime Commissioner for Northshire",
    "register_url": "https://alerts.example.org/northshire",
}
CONSULTATION = context.ConsultationView(
    title="Draft Police and Crime Plan 2027-2030",
    summary="Tell us whether the draft plan reflects your priorities for policing.",
    opens_at=NOW,
    # 23:59 on Sunday 15 August 2027, British Summer Time.
    closes_at=datetime(2027, 8, 15, 22, 59, tzinfo=UTC),
    page_url="https://mailer.example.org/consultations/plan",
    survey_url="https://survey.example.org/plan",
)
SENDER = Sender(
    from_name="Northshire PCC",
    from_address="stakeholders@northshire-pcc.example.org",
    list_id="Stakeholder Specials <stakeholders.northshire-pcc.example.org>",
)
BODY = (
    "I am pleased to share my **draft plan**. Its priorities:\n\n"
    "- prevent and tackle crime\n- safer roads\n\n"
    "Read [the summary](https://www.northshire-pcc.example.org/summary).\n"
)


def links(code: str = "abc") -> dict[str, str]:
    base = "https://mailer.example.org"
    return {
        "unsubscribe": f"{base}/u/{code}",
        "preferences": f"{base}/p/{code}",
        "share": f"{base}/s/{code}",
        "survey": f"{base}/r/{code}",
        "confirm_cascade": f"{base}/consultations/plan?shared={code}",
    }


AWKWARD = [
    Recipient("plain@example.org", "Sam Smith", "Northshire Council", links=links("a")),
    Recipient(
        "zoe.oconnor@example.org",
        "Zoë O'Connor-Ñúñez 王",
        "Société Générale de Sécurité",
        links=links("b"),
    ),
    Recipient(
        "long@example.org",
        "Pat",
        "The Northshire and District Community Safety and Violence Reduction "
        "Partnership Board (Voluntary Sector Representatives' Forum)",
        links=links("c"),
    ),
    Recipient(
        "evil@example.org",
        '<script>alert("x")</script> "Mallory" <b>',
        "<img src=x onerror=alert(1)>",
        links=links("d"),
    ),
    Recipient("noname@example.org", "", "", links=links("e")),
]


def build_context(kind: str, body: str = BODY) -> dict[str, Any]:
    return context.build(
        kind=kind,
        content=context.Content(
            subject="Have your say: the draft Police and Crime Plan",
            preheader="Closes at 23:59 on Sunday 15 August",
            body_markdown=body,
        ),
        org=ORG,
        consultation=CONSULTATION,
        documents=[{"title": "Draft plan (PDF)", "url": "https://example.org/plan.pdf"}],
        timezone="Europe/London",
        now=NOW,
    )


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signer(rsa_key: rsa.RSAPrivateKey) -> DkimSigner:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DkimSigner(domain="northshire-pcc.example.org", selector="mail", private_key=pem)


@pytest.fixture(scope="session")
def dns(rsa_key: rsa.RSAPrivateKey) -> Callable[..., bytes]:
    """A DNS lookup for dkimpy's verifier that knows only our selector."""
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.northshire-pcc.example.org."
        return record

    return lookup


def prepared(
    kind: str, *, signer: DkimSigner | None = None, attachments: list[Attachment] | None = None
) -> PreparedMessage:
    return prepare(
        seed_parts(kind),
        build_context(kind),
        sender=SENDER,
        attachments=attachments or [],
        signer=signer,
    )


ALL_KINDS = KINDS
