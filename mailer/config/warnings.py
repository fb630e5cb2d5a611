"""Settings that load but would let the product down: said at start-up and offered to
the admin's dashboard (``config_warnings``), never refused, since mail still goes.

DMARC passes on DKIM only when the signing domain (``d=``) is aligned with the From
domain. Relaxed alignment asks for the same organisational domain, which needs the
public suffix list to know exactly; without it, aligned here means one domain is the
other or a subdomain of it (``mail.example.org`` signs for ``example.org``). Two
subdomains of one organisation (``a.example.org`` and ``b.example.org``) are aligned for
DMARC too but are reported here: name the common domain in ``[dkim] domain`` to quiet it.
"""

from __future__ import annotations

from mailer.config.sections import Config


def aligned(first: str, second: str) -> bool:
    """Whether two domains are one or one is a subdomain of the other (case ignored)."""
    first, second = first.lower().rstrip("."), second.lower().rstrip(".")
    return first == second or first.endswith(f".{second}") or second.endswith(f".{first}")


def config_warnings(config: Config) -> list[str]:
    """What an operator should fix in the configuration, each a sentence naming its
    keys; empty when nothing is wrong."""
    warnings: list[str] = []
    if config.dkim is not None:
        domain = config.dkim.domain
        for key, address in (
            ("[mail] from_address", config.mail.default_address),
            *(("[mail] allowed_from", a) for a in config.mail.allowed_from),
        ):
            from_domain = address.rpartition("@")[2]
            if from_domain and not aligned(domain, from_domain):
                warnings.append(
                    f"[dkim] domain {domain!r} is not aligned with the domain of {key} "
                    f"{address!r}: DMARC fails for messages from that address, and "
                    "receivers may reject them or file them as spam. Sign with the From "
                    "domain (or a parent of it)."
                )
    return warnings
