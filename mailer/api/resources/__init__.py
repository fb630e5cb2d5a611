"""The API's resources, one module (and blueprint) each, listed here in the order the
reference shows them."""

from __future__ import annotations

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    from mailer.api.resources import (
        bulletins,
        consultations,
        contacts,
        keys,
        lists,
        organisation_types,
        sends,
        stats,
        suppressions,
    )

    return [
        keys.blp,
        contacts.blp,
        lists.blp,
        organisation_types.blp,
        suppressions.blp,
        bulletins.blp,
        sends.blp,
        consultations.blp,
        stats.blp,
    ]
