"""Where webhooks may go: the SSRF rules, with [webhooks] allow_private_addresses off."""

from __future__ import annotations

import pytest

from mailer.events import addresses
from mailer.events.addresses import UrlRefused, check


def _fixed(*answers: str) -> addresses.Resolver:
    return lambda host, port: list(answers)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1, a loopback address"),
        ("https://10.0.0.1/hook", "10.0.0.1, a private address"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254, a link-local address"),
        ("https://192.168.1.20/", "a private address"),
        ("https://[::1]/hook", "::1, a loopback address"),
        ("https://0.0.0.0/hook", "an unspecified address"),
        ("https://224.0.0.1/hook", "a multicast address"),
        ("https://100.64.0.1/hook", "not a public address"),
    ],
)
def test_private_addresses_are_refused(url: str, words: str):
    with pytest.raises(UrlRefused) as refused:
        check(url, allow_private=False)
    assert words in str(refused.value)


def test_a_name_resolving_to_loopback_is_refused():
    with pytest.raises(UrlRefused, match=r"localhost resolves to 127\.0\.0\.1, a loopback address"):
        check("https://localhost/hook", allow_private=False, resolver=_fixed("127.0.0.1"))


def test_a_name_with_any_private_address_is_refused():
    with pytest.raises(UrlRefused, match=r"10\.1\.2\.3"):
        check("https://crm.example.org/", allow_private=False,
              resolver=_fixed("93.184.215.14", "10.1.2.3"))  # fmt: skip


def test_an_ipv4_mapped_ipv6_address_is_seen_through():
    with pytest.raises(UrlRefused, match="loopback"):
        check("https://x.example.org/", allow_private=False, resolver=_fixed("::ffff:127.0.0.1"))


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ],
)
def test_an_ipv4_address_inside_6to4_or_teredo_is_seen_through(address: str, words: str):
    with pytest.raises(UrlRefused, match=words):
        check("https://x.example.org/", allow_private=False, resolver=_fixed(address))
    with pytest.raises(UrlRefused, match=words):
        check(f"https://[{address}]/", allow_private=False)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://crm.example.org/hook", "must start with https://"),
        ("ftp://crm.example.org/hook", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://user:pw@crm.example.org/hook", "must not carry a user name or password"),
        ("https://crm.example.org/" + "a" * 2000, "at most 2,000 characters"),
        ("https://crm.example.org/a b", "spaces or control characters"),
        ("https://crm.example.org/\r\nX: y", "spaces or control characters"),
        ("https:///nohost", "no host name"),
        ("", "Enter the endpoint's URL"),
    ],
)
def test_bad_urls_are_refused_in_words(url: str, words: str):
    with pytest.raises(UrlRefused) as refused:
        check(url, allow_private=False, resolver=_fixed("93.184.215.14"))
    assert words in str(refused.value)


def test_a_public_https_url_is_taken_and_pinned_to_its_address():
    target = check("https://crm.example.org:8443/in?x=1", allow_private=False,
                   resolver=_fixed("93.184.215.14"))  # fmt: skip
    assert target == addresses.Target(
        scheme="https", host="crm.example.org", port=8443, path="/in?x=1",
        address="93.184.215.14",
    )  # fmt: skip


def test_allow_private_addresses_lets_loopback_and_http_through():
    target = check("http://127.0.0.1:8080/hook", allow_private=True)
    assert (target.address, target.port) == ("127.0.0.1", 8080)
