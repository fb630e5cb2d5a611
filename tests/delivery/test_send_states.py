"""The send state machine: every move in the table from every state, and no module
but mailer/delivery/send_states.py sets a send's state."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailer.delivery import send_states
from mailer.delivery.models import (
    SEND_DONE,
    SEND_MISSED,
    SEND_PAUSED,
    SEND_SCHEDULED,
    SEND_SENDING,
    SEND_STATES,
    Send,
)
from mailer.delivery.send_states import MOVES, IllegalMove

NOW = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("mailer", "contacts", "scheduler")
OWNER = Path("mailer/delivery/send_states.py")

CALLS: dict[str, Callable[[Send], None]] = {
    "submit": lambda s: send_states.submit(s, now=NOW, by_id=1),
    "withdraw": lambda s: send_states.withdraw(s, note="edited"),
    "schedule": lambda s: send_states.schedule(s, now=NOW, by_id=1, frozen={}, audience={}),
    "return_to_draft": send_states.return_to_draft,
    "mark_missed": lambda s: send_states.mark_missed(s, now=NOW),
    "reschedule_missed": send_states.reschedule_missed,
    "leave_out": send_states.leave_out,
    "fire": lambda s: send_states.fire(s, now=NOW),
    "finish": lambda s: send_states.finish(s, now=NOW),
    "reopen": send_states.reopen,
    "pause": lambda s: send_states.pause(s, reason="held", by_role="admin"),
    "resume": send_states.resume,
    "cancel": lambda s: send_states.cancel(s, now=NOW),
}


def test_every_move_has_a_function_and_names_only_known_states() -> None:
    assert set(CALLS) == set(MOVES)
    for move in MOVES.values():
        assert move.sources <= set(SEND_STATES), move.name
        assert move.targets <= set(SEND_STATES), move.name


@pytest.mark.parametrize("name", sorted(MOVES))
@pytest.mark.parametrize("state", SEND_STATES)
def test_a_move_goes_where_the_table_says_and_nowhere_else(name: str, state: str) -> None:
    send = Send(id=7, state=state, fired_at=None)
    move = MOVES[name]
    if state in move.sources:
        CALLS[name](send)
        assert send.state in move.targets
    else:
        with pytest.raises(IllegalMove, match=f"send 7 cannot .*: it is {state}"):
            CALLS[name](send)
        assert send.state == state


def test_the_moves_a_send_makes_on_its_way() -> None:
    send = Send(id=1, state="draft", fired_at=None)
    send_states.schedule(send, now=NOW, by_id=3, frozen={"a": 1}, audience={"lists": [1]})
    assert (send.state, send.approved_by_id, send.frozen) == (SEND_SCHEDULED, 3, {"a": 1})
    send_states.pause(send, reason="held", by_role="admin")
    send_states.resume(send)  # never fired: back to waiting
    assert send.state == SEND_SCHEDULED and send.paused_reason == ""
    send_states.mark_missed(send, now=NOW)
    assert (send.state, send.missed_at) == (SEND_MISSED, NOW)
    send_states.reschedule_missed(send)
    send_states.fire(send, now=NOW)
    send_states.pause(send, reason="relay refused", by_role="")
    assert send.state == SEND_PAUSED
    send_states.resume(send)  # fired: back to sending
    assert send.state == SEND_SENDING
    send_states.finish(send, now=NOW)
    assert (send.state, send.finished_at) == (SEND_DONE, NOW)
    send_states.reopen(send)
    assert (send.state, send.finished_at) == (SEND_SENDING, None)


def test_a_bulletin_sent_on_its_own_is_submitted_before_it_is_approved() -> None:
    send = Send(id=2, state="draft", fired_at=None)
    send_states.submit(send, now=NOW, by_id=4)
    assert (send.state, send.submitted_by_id, send.submitted_at) == ("awaiting_approval", 4, NOW)
    send_states.withdraw(send, note="the words were edited after it was submitted")
    assert send.state == "draft" and "edited" in send.returned_note
    send_states.submit(send, now=NOW, by_id=4)
    assert send.returned_note == ""
    send_states.schedule(send, now=NOW, by_id=5, frozen={"a": 1}, audience={"lists": [1]})
    assert (send.state, send.approved_by_id) == (SEND_SCHEDULED, 5)


def _assigns_send_state(tree: ast.AST) -> list[int]:
    """Lines that set ``.state`` on what looks like a send: an object named for one,
    or a value naming a SEND_ state."""

    def sendish(target: ast.expr, value: ast.expr | None) -> bool:
        if not (isinstance(target, ast.Attribute) and target.attr == "state"):
            return False
        owner = ast.unparse(target.value).lower()
        names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} if value else set()
        return "send" in owner or "launch" in owner or any(n.startswith("SEND_") for n in names)

    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets, value = [node.target], node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) == 3
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "state"
        ):
            if "send" in ast.unparse(node.args[0]).lower():
                found.append(node.lineno)
            continue
        flat: list[ast.expr] = []
        for target in targets:
            flat.extend(target.elts if isinstance(target, ast.Tuple) else [target])
        if any(sendish(t, value) for t in flat):
            found.append(node.lineno)
    return found


def test_only_the_state_machine_sets_a_sends_state() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == OWNER or "migrations" in relative.parts:
                continue
            lines = _assigns_send_state(ast.parse(path.read_text(encoding="utf-8")))
            offenders += [f"{relative}:{line}" for line in lines]
    assert offenders == [], (
        "Set a send's state through mailer/delivery/send_states.py (a named move the "
        f"table allows), not directly: {offenders}"
    )


def test_the_scan_finds_a_direct_assignment() -> None:
    tree = ast.parse(
        "send.state = SEND_DONE\n"
        "send.state, send.missed_at = SEND_SCHEDULED, None\n"
        "x.state = SEND_MISSED\n"
        "consultation.state = DRAFT\n"
    )
    assert _assigns_send_state(tree) == [1, 2, 3]
