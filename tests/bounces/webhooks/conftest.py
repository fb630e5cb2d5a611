"""An app with all three webhooks configured, its clock held, and a send whose
messages were handed over: the people the providers' notices are about."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import func, select

from contacts import suppression
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bounces import webhook_views
from mailer.bounces.models import Bounce, WebhookReceipt
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import SENT, Delivery
from mailer.web import security
from tests.bounces.webhooks.sns import SnsSigner
from tests.conftest import make_config
from tests.delivery.helpers import make_send

NOW = datetime(2027, 7, 21, 10, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:eu-west-2:123456789012:ses-bounces"
PEOPLE = ["ann@council.example.org", "bob@police.example.org", "cat@parish.example.org"]


@dataclass(frozen=True)
class Keys:
    sendgrid: ec.EllipticCurvePrivateKey
    mailgun: str


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(sendgrid=ec.generate_private_key(ec.SECP256R1()), mailgun=secrets.token_hex(16))


@pytest.fixture(scope="session")
def sns() -> SnsSigner:
    return SnsSigner()


def sendgrid_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture
def config(tmp_path: Path, db: Database, keys: Keys) -> Config:
    return make_config(
        tmp_path,
        db.url,
        bounces={
            "ses_topic_arns": [TOPIC],
            "sendgrid_public_key": sendgrid_key_text(keys.sendgrid),
            "mailgun_signing_key": keys.mailgun,
            "webhook_tolerance": "5m",
        },
    )


@pytest.fixture
def app(app: Flask, sns: SnsSigner) -> Iterator[Flask]:
    app.extensions[security.CLOCK] = lambda: NOW
    sns.source.reset()
    app.extensions[webhook_views.CERTIFICATES] = sns.source
    yield app


@dataclass(frozen=True)
class Sent:
    send_id: int
    message_ids: dict[str, str]  # address -> our Message-ID


@pytest.fixture
def sent(db: Database, admin_user: User) -> Sent:
    """A send whose three messages were handed over to the relay."""
    send_id = make_send(db, addresses=PEOPLE, author=admin_user)
    with db.transaction() as session:
        rows = session.scalars(select(Delivery).where(Delivery.send_id == send_id)).all()
        for row in rows:
            row.state = SENT
            row.sent_at = NOW
        return Sent(send_id=send_id, message_ids={row.address: row.message_id for row in rows})


@dataclass(frozen=True)
class Person:
    status: str
    suppressed: bool
    delivery_state: str


def person(db: Database, address: str) -> Person:
    with db.transaction() as session:
        contact = session.scalars(select(Contact).where(Contact.email_key == address)).one()
        delivery = session.scalars(
            select(Delivery).where(Delivery.contact_id == contact.id).order_by(Delivery.id)
        ).first()
        return Person(
            status=contact.status,
            suppressed=suppression.is_suppressed(session, address),
            delivery_state=delivery.state if delivery is not None else "",
        )


def counts(db: Database) -> tuple[int, int]:
    """Bounces recorded, receipts kept."""
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Bounce)) or 0,
            session.scalar(select(func.count()).select_from(WebhookReceipt)) or 0,
        )
