"""A private Postfix for tests: its own configuration, queue and log in a temporary
folder, smtpd on a free loopback port, everything relayed to a test SMTP server
(``relayhost``). When that server refuses a message after accepting its recipient,
Postfix itself writes the delivery status notification and relays it to the envelope
sender, as a council's relay would.

Postfix needs root to start (its master runs as root and drops to ``postfix``).
"""

from __future__ import annotations

import os
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

from tests.cli_helpers import free_port

POSTFIX = "/usr/sbin/postfix"

_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-mailer-test
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
myhostname = relay.test.example.org
mydomain = test.example.org
myorigin = $mydomain
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{relay_port}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_dns_support_level = disabled
disable_dns_lookups = yes
notify_classes =
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""

# No chroot: the queue is a temporary folder without the files a chroot needs.
_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


@dataclass
class Postfix:
    root: Path
    port: int  # smtpd, for the product's worker

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""


def available() -> str | None:
    """Why a private Postfix cannot run here, or None."""
    if not Path(POSTFIX).exists():
        return "Postfix is not installed (Debian package postfix)"
    if os.geteuid() != 0:
        return "starting Postfix needs root"
    return None


def _postfix(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POSTFIX, "-c", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _wait_for(port: int, postfix: Postfix) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"postfix did not answer within 30 s: {postfix.log()[-2000:]}")


def _master_pid(root: Path) -> int | None:
    try:
        return int((root / "queue" / "pid" / "master.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def postfix(*, relay_port: int) -> Iterator[Postfix]:
    """A running private Postfix relaying to 127.0.0.1:``relay_port``; stopped and
    removed on leaving."""
    root = Path(tempfile.mkdtemp(prefix="mailer-postfix-"))
    os.chmod(root, 0o755)  # noqa: S103 (Postfix's own user must reach its queue)
    server = Postfix(root=root, port=free_port())
    server.config_dir.mkdir()
    (root / "queue").mkdir()
    (root / "data").mkdir()
    shutil.chown(root / "data", "postfix")
    (server.config_dir / "main.cf").write_text(_MAIN.format(root=root, relay_port=relay_port))
    (server.config_dir / "master.cf").write_text(_MASTER.format(port=server.port))
    started = _postfix(server.config_dir, "start")
    try:
        if started.returncode != 0:
            raise RuntimeError(f"postfix start failed: {started.stderr}{server.log()[-2000:]}")
        _wait_for(server.port, server)
        yield server
    finally:
        pid = _master_pid(root)
        _postfix(server.config_dir, "stop")
        if pid is not None:
            # "stop" asks the master to go; make sure it has, or kill it.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                # Its children see the master go and exit on their own.
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
