"""Start long-lived local processes detached from us, find and stop them again via pid files."""
from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

# Popen objects of children we started, so we can reap them (a dead child of ours is a zombie and
# would still look alive to kill(pid, 0)) and so Popen.__del__ doesn't warn "still running".
_children: dict[int, subprocess.Popen] = {}


def service_port(local_port: int) -> int:
    """A service's port on this machine: its catalogue port moved by DEV_PORT_OFFSET (default 0), so
    two checkouts can run their stacks side by side (with DEV_PG_PORT, DEV_KAFKA_PORT, ... as well)."""
    return local_port + int(os.environ.get("DEV_PORT_OFFSET", "0"))


def as_user_kwargs(user: str | None) -> dict:
    """subprocess kwargs that run the child as `user` when we are root; nothing otherwise."""
    if user is None or os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam(user)
    env = {**os.environ, "HOME": pw.pw_dir, "USER": user, "LOGNAME": user}
    return {"user": pw.pw_uid, "group": pw.pw_gid,
            "extra_groups": os.getgrouplist(user, pw.pw_gid), "env": env}


def start_detached(name: str, argv: list[str], *, env: dict[str, str] | None, cwd: Path,
                   log_path: Path, pid_path: Path, user: str | None = None) -> int:
    """Start argv in its own session, output appended to log_path, pid written to pid_path.

    env holds variables added on top of os.environ (None: inherit as is).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = as_user_kwargs(user)
    full_env = {**kwargs.pop("env", os.environ), **(env or {})}
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
    _children[proc.pid] = proc
    pid_path.write_text(f"{proc.pid}\n")
    return proc.pid


def _proc_stat(pid: int) -> tuple[str, float] | None:
    """(state, start time as epoch seconds) from /proc, None if unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces or ')'
    return fields[0], btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    stat = _proc_stat(pid)
    return stat is None or stat[0] not in ("Z", "X")


def pid_alive(pid_path: Path) -> int | None:
    """The pid from pid_path if that process still runs, else None."""
    try:
        pid = int(pid_path.read_text().split()[0])
        written = pid_path.stat().st_mtime
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid):
        return None
    # A process started well after the pid file was written is a stranger that reused the pid
    # (typically after a reboot): never signal it.
    stat = _proc_stat(pid)
    if stat is not None and stat[1] > written + 5:
        return None
    return pid


def stop_pidfile(pid_path: Path, *, timeout: float = 30.0, sig=signal.SIGTERM) -> bool:
    """Send sig, wait up to timeout, then SIGKILL; remove the pid file. True if something was stopped."""
    pid = pid_alive(pid_path)
    if pid is not None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            try:  # the whole group, so no orphaned helpers keep ports or files open
                os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        _children.pop(pid, None)
    pid_path.unlink(missing_ok=True)
    return pid is not None


def wait_tcp(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{host}:{port} did not accept TCP connections within {timeout:g}s ({e})") from None
        time.sleep(0.1)


def wait_http_ok(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except OSError as e:  # URLError and HTTPError are OSErrors
            last = str(e)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout:g}s (last: {last})")
        time.sleep(0.2)
