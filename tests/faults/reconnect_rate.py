"""How often each service tries to connect to the broker while it is down: `python -m tests.faults.reconnect_rate`.

Starts the test stack (tests/stack.py, the TEST_* ports of the environment) and every service as a
process (tests/platform.py), stops the broker and holds its port bound, not listening (as the
fault-injection suite does), counts each service's connect() calls to the broker's port with
strace for SECONDS, prints connects per second per service, then starts the broker again.
"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from services.catalogue import by_name
from services.provision import provision, service_database_url
from tests.conftest import JWT_SECRET
from tests.faults.harness import Load
from tests.platform import PORT_BASE, running_platform
from tests.stack import TEST_PASSWORDS, start_stack

SECONDS = float(os.environ.get("RECONNECT_RATE_SECONDS", "30"))
SPY = os.environ.get("RECONNECT_RATE_SPY")  # a folder: py-spy samples of each service during the outage


class _LoadThread:
    """The fault suite's load of commands on CLM (harness.Load), in a thread of its own."""

    def __init__(self, clm: str):
        self.load, self._loop = Load(clm), asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self.load.run(self._stop),))

    def __enter__(self):
        self._thread.start()
        return self.load

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)


def count_connects(pids: dict[str, int], port: int, seconds: float, out: Path, slice_seconds: float = 5.0
                   ) -> dict[str, list[int]]:
    """connect() calls to 127.0.0.1:`port` per process, in slices of `slice_seconds` over `seconds`,
    by strace (every thread)."""
    tracers = {name: subprocess.Popen(["strace", "-f", "-qq", "-ttt", "-e", "trace=connect",
                                       "-o", str(out / f"{name}.strace"), "-p", str(pid)], stderr=subprocess.DEVNULL)
               for name, pid in pids.items()}
    time.sleep(0.5)  # attached
    began = time.time()
    time.sleep(seconds)
    for tracer in tracers.values():
        tracer.send_signal(signal.SIGINT)
    for tracer in tracers.values():
        tracer.wait(timeout=30)
    pattern = re.compile(rf"^(?:\d+ +)?(\d+\.\d+) connect\(.*sin_port=htons\({port}\)")
    counts = {}
    for name in pids:
        slices = [0] * int(seconds // slice_seconds)
        for line in (out / f"{name}.strace").read_text().splitlines():
            if (m := pattern.search(line)) and 0 <= (i := int((float(m.group(1)) - began) // slice_seconds)) < len(slices):
                slices[i] += 1
        counts[name] = slices
    return counts


def _rates(counts: dict[str, list[int]], slice_seconds: float = 5.0) -> str:
    return "; ".join(f"{n} " + " ".join(f"{c / slice_seconds:.0f}" for c in slices) for n, slices in counts.items())


def main() -> None:
    stack = start_stack()
    try:
        asyncio.run(provision(stack.admin_url, TEST_PASSWORDS))

        def env(name: str, **extra: str) -> dict[str, str]:
            return {"DATABASE_URL": service_database_url(stack.admin_url, by_name(name), TEST_PASSWORDS[name]),
                    **stack.kafka_env(name), "AUTH_JWT_SECRET": JWT_SECRET, "LOG_LEVEL": "WARNING", **extra}

        with (tempfile.TemporaryDirectory() as tmp, running_platform(env, Path(tmp), PORT_BASE + 200) as platform,
              _LoadThread(platform.urls["clm"]) as load):
            time.sleep(3)
            pids = {n: p for n, p in platform.pids().items() if p}
            up = count_connects(pids, stack.kafka.port, 5, Path(tmp))
            print(f"broker up, connects/s: {_rates(up)}")
            stack.kafka.stop()
            guard = socket.socket()
            guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the broker's TIME_WAIT sockets
            guard.bind(("127.0.0.1", stack.kafka.port))  # refused, as by a stopped broker; never a source port
            try:
                time.sleep(0.5)
                spies = [subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking",
                                           "--format", "raw", "-d", str(int(SECONDS)), "-r", "50",
                                           "-o", f"{SPY}/{name}.txt", "-p", str(pid)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for name, pid in pids.items()] if SPY else []
                down = count_connects(pids, stack.kafka.port, SECONDS, Path(tmp))
            finally:
                guard.close()
                for spy in spies:
                    spy.wait(60)
            print(f"broker down, connects/s in each 5s of {SECONDS:g}s: {_rates(down)}")
            print("  means: " + ", ".join(f"{n} {sum(c) / SECONDS:.1f}/s" for n, c in down.items()))
            stack.kafka.start(150)
            print(f"load: {load.sent} commands sent, {load.accepted_count} accepted, {load.unavailable} answered 503")
    finally:
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
