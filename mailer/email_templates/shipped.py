"""A record of every version of the Stakeholder Special family a release has shipped.

An installation seeded by an older release holds that release's sources as its version
1 (:mod:`mailer.email_templates.seeds`). To offer it the current sources without ever
overwriting an office's own edit, the upgrade adds a new version only to a template
whose newest version is, byte for byte, one of these. Each entry is the digest of a
member's assembled parts (:func:`digest`), by kind.

When the seed sources change, add the new digests here (``tests/email_templates/
test_seed_upgrade.py`` fails until the current sources are recorded).
"""

from __future__ import annotations

import hashlib
import json

from mailer.email_templates.models import (
    KIND_BULLETIN,
    KIND_CLOSE_NOTICE,
    KIND_LAUNCH,
    KIND_REMINDER,
)
from mailer.rendering.prepare import TemplateParts


def digest(parts: TemplateParts) -> str:
    """The SHA-256 of a version's four parts, exactly as stored."""
    data = [parts.subject, parts.preheader, parts.html, parts.text]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


# Oldest first; each comment names the release (commit or issue) that shipped it.
SHIPPED: dict[str, tuple[str, ...]] = {
    KIND_LAUNCH: (
        "6f4221d15d0ae8d1c5da451f5e6e8f0a413101d4845e855b60e598bab4d3311b",  # 94bb1fe
        "caafde24f9acff5b8c70adedb7d2279aee021d24f1ac690e816cc666904bc724",  # 3afb3d9
        "03b5bd7df61dcbc7af754e567c75879b7981c8b9154c3cddba5a2fa32ffbb619",  # 4d5b1f4
        "e491f376d14115632f4a829dab3ea423676e3bc27c41540cb84f112f8fa9e697",  # 043b243
        "49f9a4af18e1f608e0723f65a9a506a46130e14ff4501a481fd74c5831e534d5",  # issue 20
    ),
    KIND_REMINDER: (
        "df6208f86b353162d7807b42d650dd9fec8321ff170773a2b0ee356859590d95",  # 94bb1fe
        "645a5089b636a4341261fc48d1549e8b7419bcd62fc03eeb8cd98f143cb68a29",  # 3afb3d9
        "131f385e156b2af1f738d52ffc0717f2f362b051dee8ec09936445af09ebd11a",  # 4d5b1f4
        "45f31456167787321dffe4f95e661facbffe57c9ec05f4a873e56079664d4dfa",  # 043b243
        "daec4cb90c9b596256ecb2e3a89aef8a9c3918ecbe1297055c6a1ca532286634",  # issue 20
    ),
    KIND_CLOSE_NOTICE: (
        "0ff03180bbbd1de8cffe28f16c611e56367a6ee6609121f691974455571daf77",  # 94bb1fe
        "9163cbff067bc9af0a6b64bce62e772ddb812b656bdeebe33f89da97ef54b35a",  # 3afb3d9
        "c6d826550ef0dacfa6af046ebe076a28cedfbfc7fda9c8370b295f948502bbcf",  # 4d5b1f4
        "3183c85b7acd274d004a73ea8cb78030c7cb84c7d8f979804359aaac75bb462e",  # 043b243
        "40eaba9f6bbe95b25452b1ef5b08da64b2eab5069feb42ebdd9dcb643fff48d0",  # issue 20
    ),
    KIND_BULLETIN: (
        "6457e703b1f394a2ba23097627a0c0826e35b69c28ae481000fb511613d3facc",  # 94bb1fe
        "1b36df939d22d6ba30cebb78e54fbaf86299f4bcb889b8894e27723d2b23aaf6",  # 3afb3d9
        "4341fca92666eb38ed0b6d11d12d4ba2198436c24a3fa88a0603b0f623e2e6c9",  # 4d5b1f4
        "5c5d5a06ae807943eeb35e5980874e9d69f1fbd2573a81afd3c99ec0a4544d8e",  # 043b243
        "a56fa27a33746873ab763fcbe502fc30f6f1cf1562f561b0c8bc239ec9e41d4d",  # issue 20
    ),
}
