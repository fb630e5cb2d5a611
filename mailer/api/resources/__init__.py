"""The API's resources, one module (and blueprint) each, listed here in the order the
reference shows them."""

from __future__ import annotations

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    from mailer.api.resources import contacts, keys, lists, organisation_types, suppressions

    return [
        keys.blp,
        contacts.blp,
        lists.blp,
        organisation_types.blp,
        suppressions.blp,
    ]
