"""Start-up warnings: a DKIM domain DMARC would not align with a From domain."""

from __future__ import annotations

import dataclasses

from mailer.config import Config, DkimSection, config_warnings
from mailer.config.warnings import aligned


def with_dkim(domain: str, *, allowed: tuple[str, ...] = ()) -> Config:
    config = Config()
    return dataclasses.replace(
        config,
        dkim=DkimSection(domain=domain, selector="s1", private_key_file="/dev/null"),
        mail=dataclasses.replace(
            config.mail,
            from_address="Office <stakeholders@northshire-pcc.example.org>",
            allowed_from=allowed,
        ),
    )


def test_aligned_means_the_same_domain_or_a_subdomain_either_way() -> None:
    assert aligned("northshire-pcc.example.org", "NORTHSHIRE-PCC.example.org.")
    assert aligned("example.org", "mail.example.org")
    assert aligned("mail.example.org", "example.org")
    assert not aligned("example.org", "badexample.org")
    assert not aligned("a.example.org", "b.example.org")  # the documented limit


def test_an_unaligned_dkim_domain_is_named_with_its_keys() -> None:
    assert config_warnings(Config()) == []  # no DKIM, nothing to align
    assert config_warnings(with_dkim("example.org")) == []
    warnings = config_warnings(
        with_dkim(
            "mailer-host.example.net", allowed=("news@example.org", "x@mailer-host.example.net")
        )
    )
    assert len(warnings) == 2
    assert "[dkim] domain" in warnings[0] and "[mail] from_address" in warnings[0]
    assert "[mail] allowed_from" in warnings[1] and "news@example.org" in warnings[1]
