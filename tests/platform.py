"""Every service of the platform as its own process (`python -m services.<name>`), on ports from
E2E_PORT_BASE (or the given base) up: what the end-to-end and the fault-injection tests run.

`running_platform` starts them all and waits until each answers /readyz, and SIGTERMs them at the
end. A test may kill one (`kill`) and start it again (`start`); `pids` tells whether any was
restarted behind its back.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import httpx

from services.catalogue import SERVICES
from tests.stack import ROOT

PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "18000"))


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
    while dt.datetime.now() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready in {timeout}s:\n{log.read_text()[-3000:]}")


class Platform:
    def __init__(self, service_env: Callable[..., dict[str, str]], logs: Path, port_base: int = PORT_BASE):
        self._service_env = service_env
        self.logs = logs
        self.urls = {spec.name: f"http://127.0.0.1:{port_base + i}" for i, spec in enumerate(SERVICES, start=1)}
        self._ports = {spec.name: port_base + i for i, spec in enumerate(SERVICES, start=1)}
        self.processes: dict[str, subprocess.Popen] = {}
        self._log_files: list = []

    def _env(self, name: str) -> dict[str, str]:
        extra = {"PORT": str(self._ports[name]), "PYTHONPATH": str(ROOT)}
        if name == "lifecycle_scheduler":
            extra |= {"ALLOW_CLOCK_CONTROL": "true", "SCHEDULER_TICK_SECONDS": "0.2"}
        if name == "order_sync":
            extra |= {"ALLOW_CLOCK_CONTROL": "true"}
        if name == "clm":  # the signing links it mails open its own page
            extra |= {"SIGNING_BASE_URL": self.urls["clm"], "SIGNING_MAIL_TICK_SECONDS": "0.2",
                      "ALLOW_CLOCK_CONTROL": "true"}  # a notice after the deadline (phase 7) needs clm's "today"
        return {**os.environ, **self._service_env(name, **extra)}

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self, name: str, wait: bool = True) -> None:
        """Starts `name` (appending to its log), and waits until it is ready unless told not to."""
        log = open(self.log(name), "ab")
        self._log_files.append(log)
        spec = next(s for s in SERVICES if s.name == name)
        self.processes[name] = subprocess.Popen([sys.executable, "-m", spec.module], cwd=ROOT, env=self._env(name),
                                                stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(name)

    def wait_ready(self, name: str) -> None:
        wait_ready(self.urls[name], self.processes[name], self.log(name))

    def start_all(self) -> None:
        for spec in SERVICES:
            self.start(spec.name, wait=False)
        for spec in SERVICES:
            self.wait_ready(spec.name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Sends `sig` to `name` and waits for it to end; returns its exit code."""
        proc = self.processes[name]
        proc.send_signal(sig)
        return proc.wait(timeout=40)

    def pids(self) -> dict[str, int | None]:
        """Each service's process id, None for one that has exited."""
        return {name: (p.pid if p.poll() is None else None) for name, p in self.processes.items()}

    def stop_all(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._log_files:
            log.close()


@contextmanager
def running_platform(service_env, logs: Path, port_base: int = PORT_BASE):
    platform = Platform(service_env, logs, port_base)
    try:
        platform.start_all()
        yield platform
    finally:
        platform.stop_all()
