"""A real SMTP server for the dev and test stacks (aiosmtpd): every message it receives is stored
as an .eml file in its mailbox directory, so developers and tests read the mails really sent.

`python -m devstack.smtp --port 2525 --mailbox DIR` runs it in the foreground; `LocalSmtp` starts
it detached, as the local PostgreSQL and Kafka are; `Mailbox` reads what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import signal
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from devstack.process import pid_alive, start_detached, stop_pidfile, wait_tcp


class MailboxHandler:
    """aiosmtpd handler: accept every message and write it (with its envelope recipients) to the mailbox."""

    def __init__(self, mailbox: Path):
        self.mailbox = mailbox
        mailbox.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        self.mailbox.mkdir(parents=True, exist_ok=True)  # again: a test session may have cleared its state
        temporary = self.mailbox / f".{name}.tmp"
        temporary.write_bytes(header + content)
        temporary.rename(self.mailbox / f"{name}.eml")  # a reader never sees half a message
        return "250 Message accepted for delivery"


class Mailbox:
    """The messages an SMTP server of this module stored, oldest first."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def messages(self) -> list[EmailMessage]:
        paths = sorted(self.directory.glob("*.eml")) if self.directory.exists() else []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address in m["X-Envelope-To"]]


class LocalSmtp:
    def __init__(self, root: Path, port: int, host: str = "127.0.0.1"):
        self.root, self.port, self.host = Path(root), port, host
        self.mailbox = Mailbox(self.root / "mailbox")
        self._pid = self.root / "smtp.pid"

    def is_running(self) -> bool:
        return pid_alive(self._pid) is not None

    def start(self) -> tuple[str, int]:
        if not self.is_running():
            argv = [sys.executable, "-m", "devstack.smtp", "--host", self.host, "--port", str(self.port),
                    "--mailbox", str(self.mailbox.directory)]
            start_detached("smtp", argv,
                           env=None, cwd=Path(__file__).resolve().parent.parent, log_path=self.root / "smtp.log",
                           pid_path=self._pid)
        wait_tcp(self.host, self.port, timeout=30)
        return self.host, self.port

    def stop(self) -> None:
        stop_pidfile(self._pid, timeout=10)


def main() -> int:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(prog="python -m devstack.smtp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--mailbox", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(MailboxHandler(args.mailbox), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP on {args.host}:{args.port}, mailbox {args.mailbox}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    try:
        loop.run_until_complete(stopped.wait())
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
