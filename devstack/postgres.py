"""A throwaway PostgreSQL 15 cluster in a project folder, driven by initdb/pg_ctl."""
from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

from devstack.process import as_user_kwargs, wait_tcp

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# initdb and pg_ctl refuse to run as root, so as root the cluster belongs to this system user.
SYSTEM_USER = "postgres"


class LocalPostgres:
    def __init__(self, root: Path, port: int, password: str = "postgres"):
        self.root = Path(root).absolute()
        self.port = port
        self.password = password
        self.pgdata = self.root / "pgdata"
        self.sock = self.root / "sock"
        self.log = self.root / "postgres.log"
        self._user = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def admin_dsn(self) -> str:
        pw = urllib.parse.quote(self.password, safe="")
        return f"postgresql://postgres:{pw}@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(PG_BIN / argv[0]), *argv[1:]], cwd=self.root, check=check,
                              capture_output=True, text=True, **as_user_kwargs(self._user))

    def _prepare_dirs(self) -> None:
        for d in (self.pgdata, self.sock):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        self.log.touch()
        if self._user:
            for p in (self.pgdata, self.sock, self.log):
                shutil.chown(p, self._user, self._user)
            # Every parent of root must be traversable by the postgres user (e.g. not under /root).
            if subprocess.run(["test", "-w", str(self.pgdata)], **as_user_kwargs(self._user)).returncode:
                raise PermissionError(f"user {self._user!r} cannot reach {self.pgdata}; "
                                      "put the dev stack under a world-traversable directory")

    def _initdb(self) -> None:
        pwfile = self.sock / ".pwfile"
        pwfile.write_text(self.password + "\n")
        try:
            if self._user:
                shutil.chown(pwfile, self._user, self._user)
            self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", f"--pwfile={pwfile}",
                      "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C")
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"initdb failed:\n{e.stdout}{e.stderr}") from None
        finally:
            pwfile.unlink(missing_ok=True)

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0

    def accepts_connections(self) -> bool:
        """What pg_isready says: False while it is down, starting up or shutting down."""
        return self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t", "3", check=False).returncode == 0

    def start(self) -> str:
        """Create the cluster on first use and start it if needed; returns the admin DSN."""
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self.is_running():
            running_port = (self.pgdata / "postmaster.pid").read_text().splitlines()[3].strip()
            if running_port != str(self.port):
                raise RuntimeError(f"postgres in {self.pgdata} already runs on port {running_port}, not {self.port}")
        else:
            # The defaults (128 MB of buffers, a checkpoint every 1 GB of WAL) are sized for a
            # small machine; a book of 100,000 contracts writes millions of event and inbox rows.
            opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k '{self.sock}' "
                    "-c shared_buffers=512MB -c max_wal_size=4GB")
            # pg_ctl puts the postmaster in its own session, so it outlives this process.
            res = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata),
                            "-l", str(self.log), "-o", opts, check=False)
            if res.returncode != 0:
                tail = "".join(self.log.read_text(errors="replace").splitlines(True)[-20:])
                raise RuntimeError(f"postgres did not start on port {self.port}:\n{res.stdout}{res.stderr}\n{tail}")
        wait_tcp("127.0.0.1", self.port, 30)
        return self.admin_dsn

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        """Stops the server. `fast` rolls back open transactions and disconnects every session;
        `smart` lets sessions finish and waits until the last one has disconnected (new ones are
        refused meanwhile); `immediate` aborts. Raises TimeoutError if it is still running after
        `timeout` seconds (a smart shutdown then goes on waiting: stop it again with `fast`)."""
        if not self.is_running():
            return
        res = self._run("pg_ctl", "stop", "-w", "-m", mode, "-t", str(max(1, int(timeout))), "-D", str(self.pgdata),
                        check=False)
        if res.returncode != 0:
            if not self.is_running():
                return
            raise TimeoutError(f"postgres on port {self.port} did not stop ({mode}) within {timeout:g}s: "
                               f"{res.stdout}{res.stderr}".strip())

    def restart(self, mode: str = "fast", timeout: float = 60) -> str:
        """`stop(mode, timeout)` then `start()`: the same cluster and port, as an operator's restart."""
        self.stop(mode, timeout)
        return self.start()
