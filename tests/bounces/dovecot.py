"""A real Dovecot IMAP server for tests: its own configuration, users and maildirs in a
temporary folder, listening on loopback only, with a plain listener (STARTTLS offered)
and an implicit-TLS one whose self-signed certificate the product is given through
``[bounces] imap_ca_file``.

Run as root (CI), the mail is owned by ``nobody`` (Dovecot never gives mail access to
UID 0); run as anyone else, everything runs as the current user. Messages go in with
IMAP APPEND, as a mail server's delivery would put them in a mailbox.
"""

from __future__ import annotations

import datetime
import grp
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cli_helpers import free_port

DOVECOT = "/usr/sbin/dovecot"
USER = "bounces"
PASSWORD = "mailbox password 7f3a"

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
mail_privileged_group =
first_valid_uid = 1
{users}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # implicit TLS
    ca_file: Path  # the self-signed certificate, to trust
    process: subprocess.Popen[bytes] | None = None

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.connect()
        try:
            status, data = imap.append(folder, None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def count(self, folder: str = "INBOX") -> int:
        """Messages in ``folder`` not marked deleted (-1: no such folder)."""
        imap = self.connect()
        try:
            status, _ = imap.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return -1
            status, data = imap.uid("SEARCH", "UNDELETED")
            return len(data[0].split())
        finally:
            imap.logout()

    def folders(self) -> set[str]:
        imap = self.connect()
        try:
            _, data = imap.list()
            names = set()
            for line in data:
                if isinstance(line, bytes):
                    names.add(line.rsplit(b" ", 1)[-1].strip(b'"').decode())
            return names
        finally:
            imap.logout()

    def empty(self) -> None:
        """Every folder but INBOX gone, and INBOX emptied: a fresh mailbox."""
        imap = self.connect()
        try:
            for folder in self.folders() - {"INBOX"}:
                imap.delete(f'"{folder}"')
            imap.select("INBOX")
            imap.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            imap.expunge()
        finally:
            imap.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def available() -> bool:
    return Path(DOVECOT).exists()


def _certificate(root: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test mailbox")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = root / "cert.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(root / "key.pem", 0o600)
    return cert_file


def _wait_for(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_file = root / "dovecot.log"
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise RuntimeError(f"dovecot exited with {process.returncode}: {log[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not answer within 20 s")


@contextmanager
def dovecot(*, capabilities: str = "") -> Iterator[Dovecot]:
    """A running Dovecot, stopped and removed on leaving. ``capabilities``: the IMAP
    capabilities it announces instead of its own (a server without MOVE, say)."""
    # Not pytest's tmp_path: its folders are private to the test's user, and Dovecot's
    # mail processes run as another one when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="mailer-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 (Dovecot's own users must reach it)
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        users = ""  # Dovecot's own dovenull and dovecot users run the login and internals
    else:
        mail_user = pwd.getpwuid(os.getuid())
        users = (
            f"default_login_user = {mail_user.pw_name}\n"
            f"default_internal_user = {mail_user.pw_name}\n"
            f"default_internal_group = {grp.getgrgid(mail_user.pw_gid).gr_name}\n"
        )
    (root / "mail").mkdir()
    os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{mail_user.pw_uid}:{mail_user.pw_gid}::{root}/mail/{USER}\n"
    )
    server = Dovecot(root=root, port=free_port(), tls_port=free_port(), ca_file=_certificate(root))
    (root / "dovecot.conf").write_text(
        _CONFIG.format(root=root, users=users, port=server.port, tls_port=server.tls_port)
        + (f"imap_capability = {capabilities}\n" if capabilities else "")
    )
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(server.port, server.process, root)
        yield server
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGTERM)
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait()
        shutil.rmtree(root, ignore_errors=True)
