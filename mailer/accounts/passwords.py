"""What makes a password acceptable, and a generator of ones that are.

Length alone let `aaaaaaaaaaaa` and `password1234` through. zxcvbn estimates how many
guesses a password would take, using its own lists of the most common passwords, names
and words and its spotting of keyboard walks, repeats, sequences and dates, so a
password that an attacker's first guesses would find is refused with the reason.
"""

from __future__ import annotations

import re
import secrets

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing cost grows with length; refuse absurd input
# zxcvbn's score 3: "safely unguessable", about 10^8 guesses or more (2 would fall to an
# attacker allowed a few thousand guesses an hour for a year).
MIN_SCORE = 3
# zxcvbn's own limit; the start of a longer password is what it judges (a long one
# whose start is weak is still weak).
_ESTIMATED = 72
# Words an attacker would try first against this product's users.
_PRODUCT_WORDS = ("stakeholder", "mailer", "consultation", "police", "crime", "commissioner")


class PasswordRefused(ValueError):
    """The sentence says why."""


def check(password: str, *, email: str = "", name: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"The password must be at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"The password must be at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if email and folded == email.casefold():
        raise PasswordRefused("The password must not be the email address.")
    local = email.partition("@")[0].casefold()
    if len(local) >= 3 and local in folded:
        raise PasswordRefused(
            f"The password must not contain the name in the email address ({local})."
        )
    hints = [email, local, *re.split(r"[._+\-\s]+", local), *name.split(), *_PRODUCT_WORDS]
    result = zxcvbn(password[:_ESTIMATED], user_inputs=[h for h in hints if len(h) >= 3])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        why = feedback.get("warning") or "It would be among an attacker's first guesses."
        advice = " ".join(feedback.get("suggestions") or []) or (
            "A few unrelated words make a password that is long and easy to remember."
        )
        raise PasswordRefused(f"That password is too easy to guess. {_sentence(why)} {advice}")


def generate() -> str:
    """A random password the rule accepts (shown once, changed by its owner)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check(password)
        except PasswordRefused:
            continue
        return password


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
