"""Rendering benchmark: the per-recipient cost of a finished personalised message.

Prepares one send of each shipped template (Jinja in the sandbox, premailer, MIME
encoding: once per send), then times `personalise` for many recipients, each with its
own name, organisation and links: bytes ready for SMTP DATA. Prints the median and
95th percentile per message, without and with DKIM (RSA-2048 through OpenSSL), and
shows that premailer is not called per recipient. Targets: under 0.5 ms
median without DKIM, under 1.5 ms with it. Measures only; never fails on a figure.

    .venv/bin/python bench/bench_render.py [--messages N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.rendering import inline
from mailer.rendering.dkim import DkimSigner
from mailer.rendering.prepare import Attachment, PreparedMessage, Recipient
from tests.rendering.conftest import ALL_KINDS, links, prepared


def recipients(count: int) -> list[Recipient]:
    return [
        Recipient(
            f"person{i}@example.org",
            f"Person {i} Ó'Brien",
            f"Organisation {i % 700}",
            links=links(f"tok{i:08d}"),
        )
        for i in range(count)
    ]


def measure(message: PreparedMessage, people: list[Recipient]) -> list[float]:
    message.personalise(people[0], message_id="<warm@example.org>")  # the first
    timings = []
    clock = time.perf_counter_ns
    for index, person in enumerate(people):
        started = clock()
        message.personalise(person, message_id=f"<{index}.bench@example.org>")
        timings.append((clock() - started) / 1e6)
    return timings


def line(label: str, timings: list[float], size: int) -> str:
    timings = sorted(timings)
    p95 = timings[int(len(timings) * 0.95)]
    return (
        f"{label:<38} median {statistics.median(timings):6.3f} ms   p95 {p95:6.3f} ms   "
        f"{1000 / statistics.mean(timings):8,.0f} msg/s   {size / 1024:5.1f} KB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    people = recipients(args.messages)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = DkimSigner(
        domain="northshire-pcc.example.org",
        selector="mail",
        private_key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    print(f"{args.messages:,} recipients per case; targets: < 0.5 ms median, < 1.5 ms with DKIM")
    plan = Attachment("draft-plan.pdf", "application/pdf", b"%PDF-1.7\n" + b"x" * 400_000)
    for kind in ALL_KINDS:
        inline.inline_css.cache_clear()
        started = time.perf_counter()
        plain = prepared(kind)
        prepare_ms = (time.perf_counter() - started) * 1000
        signed = prepared(kind, signer=signer)
        with mock.patch.object(
            inline, "Premailer", side_effect=AssertionError("premailer per recipient")
        ):
            size = len(plain.personalise(people[0], message_id="<s@example.org>"))
            print(f"[{kind}] prepare once (sandbox + premailer + MIME): {prepare_ms:.1f} ms")
            print(line(f"[{kind}] per message, no DKIM", measure(plain, people), size))
            print(line(f"[{kind}] per message, DKIM rsa-2048", measure(signed, people), size))
    with_pdf = prepared("launch", signer=signer, attachments=[plan])
    size = len(with_pdf.personalise(people[0], message_id="<s@example.org>"))
    print(line("[launch + 400 KB PDF] DKIM rsa-2048", measure(with_pdf, people[:1000]), size))
    print("premailer calls while personalising: 0 (patched to fail if called)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
