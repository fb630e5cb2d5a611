"""Organisation types a file names that the office has not set up ("Faith group").

The writer chooses, per unknown type, what happens to the rows that carry it: create
the type, use an existing type instead, leave the type blank, or reject the rows. The
preview's first guess is an existing type with a near name ("Polce" is "Police",
"Charities" is "Charity"), else creating it; the command line rejects unless told
otherwise. Near is generous on purpose: a wrong guess is shown, selected, in the
preview, while a misspelt type created quietly stays in the office's list for good.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts.importing.report import ImportReport, UnknownType
from contacts.models import OrganisationType
from contacts.organisation_types import NAME_MAX
from contacts.values import clean_text, type_key
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions

log = logging.getLogger(__name__)

CREATE = "create"
BLANK = "blank"
REJECT = "reject"
GUESS = "guess"  # a default only: the near-identical existing type, else CREATE
_USE = "use:"
# A preview offers a choice for this many unknown types; more than that is a column of
# something else taken for types, so the guess for the rest is to leave them blank
# rather than create hundreds of types.
GUESSED_AT_MOST = 50
# How alike (difflib's ratio) a name must be to an existing type's to be guessed as it.
NEAR_ENOUGH = 0.75


def use(type_id: int) -> str:
    """The choice "use this existing type instead"."""
    return f"{_USE}{type_id}"


def used_type_id(choice: str) -> int | None:
    """The existing type a choice names, or None for the other choices."""
    if choice.startswith(_USE) and choice[len(_USE) :].isdecimal():
        return int(choice[len(_USE) :][:12])
    return None


def near_type(key: str, known: Mapping[str, int]) -> str | None:
    """The existing type's key that ``key`` most likely misspells or pluralises, or None
    when none is near (then adding it is the likely wish)."""
    singular = {_singular(k): k for k in known}
    if _singular(key) in singular:
        return singular[_singular(key)]
    near = difflib.get_close_matches(key, list(known), n=1, cutoff=NEAR_ENOUGH)
    return near[0] if near else None


def _singular(key: str) -> str:
    """ "charities" -> "charity", "schools" -> "school": a plural is the same type."""
    if key.endswith("ies") and len(key) > 4:
        return key[:-3] + "y"
    if key.endswith("s") and not key.endswith("ss") and len(key) > 3:
        return key[:-1]
    return key


class TypeResolver:
    """Turns the organisation type named in a row into the id to store (None for
    none), or the reason the row is rejected; creates chosen types in a real run."""

    def __init__(
        self,
        session: Session,
        report: ImportReport,
        *,
        choices: Mapping[str, str],
        default: str,
        write: bool,
        by: User | None,
        by_label: str | None,
    ) -> None:
        self.session = session
        self.report = report
        self.choices = choices
        self.default = default
        self.write = write
        self.by = by
        self.by_label = by_label
        self.known: dict[str, int] = {}
        self.names: dict[int, str] = {}
        for type_id, name in session.execute(select(OrganisationType.id, OrganisationType.name)):
            self.known[type_key(name)] = type_id
            self.names[type_id] = name
        self.unknown: dict[str, UnknownType] = {}
        self.created: dict[str, int] = {}  # type key -> the id made (negative in a dry run)

    def resolve(self, raw: str) -> tuple[int | None, str | None]:
        name = clean_text(raw)
        if not name:
            return None, None
        key = type_key(name)
        if key in self.known:
            return self.known[key], None
        unknown = self.unknown.get(key)
        if unknown is None:
            unknown = UnknownType(key=key, name=name, choice=self._choice(key))
            self.unknown[key] = unknown
            self.report.unknown_types.append(unknown)
        unknown.rows += 1
        choice = unknown.choice
        if choice == BLANK:
            return None, None
        if choice == CREATE:
            if len(unknown.name) > NAME_MAX:
                return None, f"the organisation type is longer than {NAME_MAX} characters"
            return self._created(unknown), None
        used = used_type_id(choice)
        if used is not None:
            return used, None
        return None, f"unknown organisation type {name!r}"

    def _choice(self, key: str) -> str:
        chosen = self.choices.get(key, self.default)
        used = used_type_id(chosen)
        if used is not None:
            # A type removed since the preview (or a forged number): the rows wait.
            return chosen if used in self.names else REJECT
        if chosen in (CREATE, BLANK, REJECT):
            return chosen
        if chosen == GUESS and len(self.unknown) >= GUESSED_AT_MOST:
            return BLANK
        if chosen == GUESS:
            near = near_type(key, self.known)
            return use(self.known[near]) if near is not None else CREATE
        return REJECT

    def _created(self, unknown: UnknownType) -> int:
        if unknown.key in self.created:
            return self.created[unknown.key]
        self.report.created_types.append(unknown.name)
        if not self.write:
            type_id = -len(self.created) - 1  # a stand-in: a dry run makes nothing
        else:
            last = self.session.scalar(select(func.max(OrganisationType.position))) or 0
            kind = OrganisationType(name=unknown.name[:NAME_MAX], position=last + 1)
            self.session.add(kind)
            self.session.flush()
            type_id = kind.id
            audit.record(
                self.session,
                actions.ORGANISATION_TYPE_ADDED,
                actor=self.by,
                actor_label=self.by_label,
                target_type="organisation_type",
                target_id=kind.id,
                summary=f"Added organisation type {kind.name!r} (from an import)",
            )
            log.info("import created organisation type %r (#%s)", kind.name, kind.id)
        self.created[unknown.key] = type_id
        return type_id

    def note_known_types(self) -> None:
        """Tell a reader whose rows were rejected for their type which types exist."""
        if any(u.choice == REJECT for u in self.unknown.values()):
            names = self.session.scalars(
                select(OrganisationType.name).order_by(
                    OrganisationType.position, OrganisationType.name
                )
            )
            self.report.notes.append("known organisation types: " + "; ".join(names))
