"""Keys for second-factor secrets, derived from the app's secret key.

An authenticator app's shared key must be readable again (to check each code) but must
not sit in the database as it is: a copy of the database alone must not let anyone make
codes. It is sealed with Fernet under a key derived (HKDF) from the app's secret key;
recovery codes are kept as an HMAC under another derived key, so a stolen table cannot
be searched offline either. The ring holds the current secret first and any
``[app] old_secret_keys`` after it: what was sealed before a rotation still opens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOTP_KEY = "totp key"
RECOVERY_CODE = "recovery code"


class SealBroken(Exception):
    """A sealed value that no key of the ring opens (the secret key changed and the old
    one is not in ``[app] old_secret_keys``)."""


def _derive(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"stakeholder-mailer: {purpose}".encode(),
    ).derive(secret.encode())


@dataclass(frozen=True)
class KeyRing:
    secrets: tuple[str, ...]

    @classmethod
    def of(cls, current: str, old: Iterable[str] = ()) -> KeyRing:
        return cls((current, *(key for key in old if key and key != current)))

    def _fernet(self, purpose: str) -> MultiFernet:
        return MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(s, purpose))) for s in self.secrets]
        )

    def seal(self, text: str, *, purpose: str) -> str:
        return self._fernet(purpose).encrypt(text.encode()).decode("ascii")

    def unseal(self, token: str, *, purpose: str) -> str:
        try:
            return self._fernet(purpose).decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SealBroken(purpose) from exc

    def digest(self, text: str, *, purpose: str) -> str:
        """The keyed hash of ``text`` under the current key (what is stored)."""
        return self.digests(text, purpose=purpose)[0]

    def digests(self, text: str, *, purpose: str) -> list[str]:
        """The keyed hash under every key of the ring (what a stored one may be)."""
        return [
            hmac.new(_derive(s, purpose), text.encode(), hashlib.sha256).hexdigest()
            for s in self.secrets
        ]
