"""Drives the contract slice over HTTP at rising rates; prints throughput, latency and read-model lag.

`make bench` = `python -m bench.slice [--rates 25,50,100 --seconds 10] [--json PATH]`.

A command is one HTTP call to CLM: POST /api/v1/contracts (draft) or, once that returned,
POST /api/v1/contracts/{id}/activation. Commands are launched on a fixed schedule (open loop, at
most --max-inflight at once); each time slot activates a drafted contract if one is waiting, else
drafts a new one, so half the commands are drafts and half activations. For a sample of the
activations the projection's GET /api/v1/contracts/{id} is polled until it says "active": that is
the command-to-read-model lag. The same PostgreSQL server's raw insert-and-commit rate is measured
with asyncpg as a yardstick. Uses the running dev stack (`make run`) or starts and later stops it.
The generator shares the cores it measures, so its HTTP client is the lean keep-alive one of
bench/keepalive.py (`--client httpx`: the one used before 2026-12-04). See bench/README.md.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from bench import keepalive
from devstack.process import service_port
from services.catalogue import SERVICES, by_name

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".devstack" / "dev"
CLM_URL = f"http://127.0.0.1:{service_port(by_name('clm').local_port)}"
PROJECTION_URL = f"http://127.0.0.1:{service_port(by_name('projection').local_port)}"
ADMIN_DSN = f"postgresql://postgres:postgres@127.0.0.1:{os.environ.get('DEV_PG_PORT', 25432)}/postgres"

MISS_TOLERANCE = 0.20     # a stage fails when it achieves less than 80 % of its target rate,
P99_LIMIT_MS = 2000.0     # or its p99 HTTP latency is above 2 s,
ERROR_LIMIT = 0.01        # or more than 1 % of its commands fail
LAG_POLL_S = 0.020
LAG_GIVE_UP_S = 30.0


# --------------------------------------------------------------------------------------------
# figures


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@dataclass
class StageResult:
    target: float
    seconds: float
    launched: int = 0
    ok: int = 0
    errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: {"draft": [], "activate": []})
    wall_s: float = 0.0
    max_slip_ms: float = 0.0
    waited_for_slot: int = 0
    lags_ms: list[float] = field(default_factory=list)
    lag_timeouts: int = 0
    lag_skipped: int = 0
    lag_polls: int = 0
    settle_s: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def achieved(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    @property
    def latencies(self) -> list[float]:
        return self.latency_ms["draft"] + self.latency_ms["activate"]

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float | None:
        return percentile(self.latencies, 99)

    @property
    def failures(self) -> list[str]:
        why = []
        if self.achieved < (1 - MISS_TOLERANCE) * self.target:
            why.append(f"achieved {self.achieved:.0f}/s < {(1 - MISS_TOLERANCE) * self.target:.0f}/s")
        if self.p99 is None or self.p99 > P99_LIMIT_MS:
            why.append(f"p99 {fmt(self.p99)} ms > {P99_LIMIT_MS:.0f} ms")
        if self.launched and self.errors / self.launched > ERROR_LIMIT:
            why.append(f"{self.errors}/{self.launched} errors")
        return why

    def as_dict(self) -> dict:
        return {
            "target_per_s": self.target, "seconds": self.seconds, "launched": self.launched, "ok": self.ok,
            "errors": self.errors, "error_kinds": dict(self.error_kinds), "wall_s": round(self.wall_s, 3),
            "achieved_per_s": round(self.achieved, 1),
            "latency_ms": {"p50": self.p50, "p99": self.p99,
                           **{f"{k}_p50": percentile(v, 50) for k, v in self.latency_ms.items()},
                           **{f"{k}_p99": percentile(v, 99) for k, v in self.latency_ms.items()}},
            "max_launch_slip_ms": round(self.max_slip_ms, 1), "launches_waiting_for_slot": self.waited_for_slot,
            "lag_ms": {"p50": percentile(self.lags_ms, 50), "p99": percentile(self.lags_ms, 99),
                       "max": max(self.lags_ms, default=None), "samples": len(self.lags_ms),
                       "timeouts": self.lag_timeouts, "skipped": self.lag_skipped, "polls": self.lag_polls},
            "settle_s": self.settle_s, "cpu_percent_of_one_core": self.cpu,
            "passed": not self.failures, "failures": self.failures,
        }


# --------------------------------------------------------------------------------------------
# CPU by process group, from /proc (Linux only; empty elsewhere)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """Per-group CPU time of the dev stack's processes (a group: a process and its children)."""

    def __init__(self) -> None:
        self.enabled = Path("/proc/stat").exists()
        self.hz = os.sysconf("SC_CLK_TCK") if self.enabled else 100
        roots: dict[str, int | None] = {s.name: _read_pid(STATE / "run" / f"{s.name}.pid") for s in SERVICES}
        roots["kafka"] = _read_pid(STATE / "kafka" / "kafka.pid")
        roots["postgres"] = _read_pid(STATE / "postgres" / "pgdata" / "postmaster.pid")
        roots["bench"] = os.getpid()
        self.roots = {name: pid for name, pid in roots.items() if pid}

    def snapshot(self) -> tuple[int, dict[str, dict[int, int]]]:
        if not self.enabled:
            return 0, {}
        procs: dict[int, tuple[int, int]] = {}  # pid -> (ppid, jiffies)
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        groups = {}
        for name, root in self.roots.items():
            members = {pid: j for pid, (ppid, j) in procs.items() if pid == root or ppid == root}
            groups[name] = members
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(map(int, cpu)) - int(cpu[3]) - int(cpu[4])  # minus idle and iowait
        return busy, groups

    def percent(self, before, after, seconds: float) -> dict[str, float]:
        """% of one core per group over the interval, plus the whole machine and everything else."""
        if not self.enabled or seconds <= 0:
            return {}
        (busy0, g0), (busy1, g1) = before, after
        out = {}
        for name, members in g1.items():
            jiffies = sum(j - g0.get(name, {}).get(pid, 0) for pid, j in members.items())
            out[name] = round(100 * jiffies / self.hz / seconds, 1)
        out["machine"] = round(100 * (busy1 - busy0) / self.hz / seconds, 1)
        out["other"] = round(max(0.0, out["machine"] - sum(v for k, v in out.items() if k != "machine")), 1)
        return out


CPU_COLUMNS = [("clm", "clm"), ("projection", "proj"), ("asset_coverage", "asset"), ("order_sync", "order"),
               ("lifecycle_scheduler", "sched"), ("postgres", "pg"), ("kafka", "kafka"), ("bench", "bench"),
               ("other", "other"), ("machine", "total")]


def cpu_line(cpu: dict[str, float]) -> str:
    return "  ".join(f"{short} {cpu[name]:.0f}" for name, short in CPU_COLUMNS if name in cpu)


# --------------------------------------------------------------------------------------------
# the slice


class SliceDriver:
    def __init__(self, token: str, *, max_inflight: int, lag_every: int, lag_max: int, lag_pollers: int,
                 timeout: float, client: str = "keepalive"):
        headers = {"Authorization": f"Bearer {token}"}
        if client == "httpx":  # the generator before 2026-12-04, for comparing runs
            self.clm = httpx.AsyncClient(
                base_url=CLM_URL, headers=headers, timeout=timeout,
                limits=httpx.Limits(max_connections=max_inflight, max_keepalive_connections=max_inflight),
            )
            self.projection = httpx.AsyncClient(
                base_url=PROJECTION_URL, headers=headers, timeout=5.0,
                limits=httpx.Limits(max_connections=lag_pollers + 2, max_keepalive_connections=lag_pollers + 2),
            )
        else:
            self.clm = keepalive.Client(CLM_URL, headers=headers, timeout=timeout, max_idle=max_inflight)
            self.projection = keepalive.Client(PROJECTION_URL, headers=headers, timeout=5.0, max_idle=lag_pollers + 2)
        self.max_inflight = max_inflight
        self.lag_every = lag_every
        self.lag_max = lag_max
        self.lag_pollers = lag_pollers
        today = dt.date.today()
        self.start_date, self.end_date = today.isoformat(), (today + dt.timedelta(days=730)).isoformat()

    async def close(self) -> None:
        await self.clm.aclose()
        await self.projection.aclose()

    def draft_body(self, contract_id: uuid.UUID) -> dict:
        return {
            "contract_id": str(contract_id),
            "title": "Maintenance of robot cell 4 (bench)",
            "parties": [{"role": "customer", "name": "ACME Robotics"}, {"role": "vendor", "name": "Kuka Service"}],
            "start_date": self.start_date,
            "end_date": self.end_date,
            "time_zone": "Europe/Berlin",
        }

    async def state_of(self, contract_id: uuid.UUID) -> str | None:
        try:
            r = await self.projection.get(f"/api/v1/contracts/{contract_id}")
        except (httpx.HTTPError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, keepalive.HttpError):
            return None
        return r.json().get("state") if r.status_code == 200 else None

    async def lag(self, contract_id: uuid.UUID, since: float, res: StageResult) -> None:
        """Polls the read model every ~20 ms from `since` (activation returned) until it says active."""
        loop = asyncio.get_running_loop()
        while True:
            res.lag_polls += 1
            state = await self.state_of(contract_id)
            now = loop.time()
            if state in ("active", "expired"):
                res.lags_ms.append((now - since) * 1000)
                return
            if now - since > LAG_GIVE_UP_S:
                res.lag_timeouts += 1
                return
            await asyncio.sleep(LAG_POLL_S)

    async def run_stage(self, rate: float, seconds: float, meter: CpuMeter | None) -> StageResult:
        loop = asyncio.get_running_loop()
        res = StageResult(rate, seconds)
        slots = asyncio.Semaphore(self.max_inflight)
        drafted: deque[uuid.UUID] = deque()
        commands: set[asyncio.Task] = set()
        samplers: set[asyncio.Task] = set()
        state = {"last_done": 0.0, "activated": 0, "sampled": 0, "last_activated": None}

        async def command(kind: str, contract_id: uuid.UUID) -> None:
            t0 = loop.time()
            try:
                if kind == "draft":
                    r = await self.clm.post("/api/v1/contracts", json=self.draft_body(contract_id))
                else:
                    r = await self.clm.post(f"/api/v1/contracts/{contract_id}/activation", json={"expected_version": 1})
            except Exception as exc:  # timeouts, refused or reset connections
                res.errors += 1
                res.error_kinds[f"{kind} {type(exc).__name__}"] += 1
                return
            finally:
                slots.release()
                state["last_done"] = loop.time()
            t1 = state["last_done"]
            if not 200 <= r.status_code < 300:
                res.errors += 1
                res.error_kinds[f"{kind} HTTP {r.status_code}"] += 1
                return
            res.ok += 1
            res.latency_ms[kind].append((t1 - t0) * 1000)
            if kind == "draft":
                drafted.append(contract_id)
                return
            state["activated"] += 1
            state["last_activated"] = contract_id
            if state["activated"] % self.lag_every == 0 and state["sampled"] < self.lag_max:
                if len(samplers) < self.lag_pollers:
                    state["sampled"] += 1
                    task = asyncio.create_task(self.lag(contract_id, t1, res))
                    samplers.add(task)
                    task.add_done_callback(samplers.discard)
                else:
                    res.lag_skipped += 1

        cpu_before = meter.snapshot() if meter else None
        start = loop.time()
        total = int(round(rate * seconds))
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if slots.locked():
                res.waited_for_slot += 1
            await slots.acquire()
            res.max_slip_ms = max(res.max_slip_ms, (loop.time() - due) * 1000)
            if drafted:
                task = asyncio.create_task(command("activate", drafted.popleft()))
            else:
                task = asyncio.create_task(command("draft", uuid.uuid4()))
            commands.add(task)
            task.add_done_callback(commands.discard)
            res.launched += 1
        while commands:
            await asyncio.gather(*list(commands))
        res.wall_s = max(state["last_done"], start + seconds) - start
        if meter:
            res.cpu = meter.percent(cpu_before, meter.snapshot(), loop.time() - start)
        while samplers:
            await asyncio.gather(*list(samplers))
        # Let the pipeline drain before the next stage, so stages do not share a backlog.
        if state["last_activated"] is not None:
            settle_start = loop.time()
            while loop.time() - settle_start < 60:
                if await self.state_of(state["last_activated"]) in ("active", "expired"):
                    res.settle_s = round(loop.time() - settle_start, 2)
                    break
                await asyncio.sleep(0.1)
        return res


# --------------------------------------------------------------------------------------------
# raw PostgreSQL yardstick


def admin_dsn() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", ADMIN_DSN).replace("postgresql+asyncpg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


async def raw_inserts(dsn: str, connections: int, seconds: float) -> dict:
    """Single-row INSERTs, each its own (autocommitted) transaction, from N connections."""
    table = f"bench_raw_{os.getpid()}"
    payload = json.dumps({"contract_id": str(uuid.uuid4()), "title": "Maintenance of robot cell 4 (bench)",
                          "parties": [{"role": "customer", "name": "ACME Robotics"}],
                          "start_date": "2026-01-01", "end_date": "2027-06-30", "time_zone": "Europe/Berlin"})
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")
        settings = {k: await admin.fetchval(f"SHOW {k}") for k in ("synchronous_commit", "fsync", "wal_sync_method")}
        conns = [await asyncpg.connect(dsn) for _ in range(connections)]
        try:
            sql = f"INSERT INTO {table} (payload) VALUES ($1::jsonb)"
            for c in conns:
                await c.execute(sql, payload)  # prepare outside the timed window
            await admin.execute(f"TRUNCATE {table}")
            loop = asyncio.get_running_loop()
            start = loop.time()
            deadline = start + seconds
            counts = [0] * connections

            async def worker(i: int, c: asyncpg.Connection) -> None:
                while loop.time() < deadline:
                    await c.execute(sql, payload)
                    counts[i] += 1

            await asyncio.gather(*(worker(i, c) for i, c in enumerate(conns)))
            wall = loop.time() - start
        finally:
            for c in conns:
                await c.close()
        rows = await admin.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await admin.execute(f"DROP TABLE IF EXISTS {table}")
        await admin.close()
    return {"rows": rows, "seconds": round(wall, 2), "rows_per_s": round(rows / wall, 1),
            "connections": connections, "server_settings": settings}


# --------------------------------------------------------------------------------------------
# the stack and the token


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_stack() -> bool:
    """Starts the dev stack unless CLM answers; True if this run started it (and so stops it)."""
    started = False
    if not ready(CLM_URL) or not ready(PROJECTION_URL):
        started = not ready(CLM_URL)
        print("the dev stack is not up: python -m devstack up ...", file=sys.stderr, flush=True)
        # Its output goes to stderr, so stdout carries only the figures.
        proc = subprocess.run([sys.executable, "-m", "devstack", "up"], cwd=ROOT, stdout=sys.stderr)
        if proc.returncode != 0:
            if started:
                stop_stack()
            raise SystemExit(f"python -m devstack up failed ({proc.returncode})")
    return started


def stop_stack() -> None:
    print("stopping the dev stack this run started: python -m devstack down ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "devstack", "down"], cwd=ROOT, stdout=sys.stderr)


def dev_token() -> str:
    """The dev stack's token, or one signed afresh with its secret when the file is missing or stale."""
    import jwt

    from shared.backbone.auth import Role, issue_token

    if os.environ.get("BENCH_TOKEN"):
        return os.environ["BENCH_TOKEN"]
    try:
        token = (STATE / "token").read_text().strip()
        claims = jwt.decode(token, options={"verify_signature": False})
        if claims.get("exp", 0) > time.time() + 3600:
            return token
    except (OSError, jwt.PyJWTError):
        pass
    secret = os.environ.get("AUTH_JWT_SECRET") or json.loads((STATE / "secrets.json").read_text())["AUTH_JWT_SECRET"]
    return issue_token(secret, "bench", [r.value for r in Role], ttl=dt.timedelta(hours=2))


# --------------------------------------------------------------------------------------------
# main


HEADER = (f"{'target/s':>8} {'ok/s':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'lag p50':>8} {'lag p99':>8} {'lag n':>6} {'t/o':>4} {'slip ms':>8}  verdict")


def row(r: StageResult) -> str:
    verdict = "ok" if not r.failures else "MISS: " + "; ".join(r.failures)
    return (f"{r.target:>8.0f} {r.achieved:>7.1f} {r.errors:>6} {fmt(r.p50):>7} {fmt(r.p99):>7} "
            f"{fmt(percentile(r.lags_ms, 50)):>8} {fmt(percentile(r.lags_ms, 99)):>8} {len(r.lags_ms):>6} "
            f"{r.lag_timeouts:>4} {r.max_slip_ms:>8.0f}  {verdict}")


async def run(args) -> dict:
    token = dev_token()
    meter = CpuMeter()
    results: dict = {"machine": {"cpus": os.cpu_count(), "mem_gib": _mem_gib()}, "stages": []}
    print(f"slice benchmark: {os.cpu_count()} CPUs, {_mem_gib()} GiB; everything below shares them", flush=True)

    print(f"\nraw PostgreSQL: single-row INSERT + commit, {args.raw_connections} connections, {args.raw_seconds:g} s ...",
          flush=True)
    raw = await raw_inserts(admin_dsn(), args.raw_connections, args.raw_seconds)
    results["raw_postgres"] = raw
    print(f"  {raw['rows_per_s']:.0f} rows/s ({raw['rows']} rows in {raw['seconds']} s; {raw['server_settings']})")

    driver = SliceDriver(token, max_inflight=args.max_inflight, lag_every=args.lag_every, lag_max=args.lag_max,
                         lag_pollers=args.lag_pollers, timeout=args.timeout, client=args.client)
    try:
        if args.warmup > 0:
            print(f"\nwarm-up: {args.warmup:g} s at 20 commands/s (not reported) ...", flush=True)
            warm = await driver.run_stage(20, args.warmup, None)
            if warm.ok == 0:
                raise SystemExit(f"no command succeeded during the warm-up: {dict(warm.error_kinds)}")
        print(f"\nslice: {args.seconds:g} s per stage, at most {args.max_inflight} commands in flight; "
              f"lag sampled every {args.lag_every}th activation ({args.lag_pollers} pollers, "
              f"<= {args.lag_max}/stage)\n", flush=True)
        print(HEADER)
        stages: list[StageResult] = []
        for rate in args.rates:
            r = await driver.run_stage(rate, args.seconds, meter)
            stages.append(r)
            results["stages"].append(r.as_dict())
            print(row(r), flush=True)
            detail = f"{'':>8} cpu %: {cpu_line(r.cpu)}" if r.cpu else ""
            lat = (f"draft p50/p99 {fmt(percentile(r.latency_ms['draft'], 50))}/{fmt(percentile(r.latency_ms['draft'], 99))}"
                   f" ms, activate {fmt(percentile(r.latency_ms['activate'], 50))}/"
                   f"{fmt(percentile(r.latency_ms['activate'], 99))} ms")
            print(f"{'':>8} {lat}; wall {r.wall_s:.1f} s; settle {fmt(r.settle_s, 1)} s; "
                  f"lag polls {r.lag_polls / r.wall_s:.0f}/s, {r.lag_skipped} samples skipped")
            if detail:
                print(detail)
            if r.error_kinds:
                print(f"{'':>8} errors: {dict(r.error_kinds)}")
            if r.failures and not args.keep_going:
                break
            await asyncio.sleep(1)
    finally:
        await driver.close()

    passed = [r for r in stages if not r.failures]
    best = max(passed, key=lambda r: r.target) if passed else None
    results["best"] = best.as_dict() if best else None
    results["ratio_slice_to_raw"] = round(best.achieved / raw["rows_per_s"], 4) if best and raw["rows_per_s"] else None

    print("\nsummary")
    print(HEADER)
    for r in stages:
        print(row(r))
    print()
    if best:
        print(f"highest sustained rate: target {best.target:.0f} commands/s, achieved {best.achieved:.1f} commands/s "
              f"(p99 {fmt(best.p99)} ms, read-model lag p50/p99 {fmt(percentile(best.lags_ms, 50))}/"
              f"{fmt(percentile(best.lags_ms, 99))} ms)")
        print(f"raw PostgreSQL single-row inserts: {raw['rows_per_s']:.0f} rows/s ({raw['connections']} connections)")
        print(f"ratio slice commands/s / raw inserts/s = {results['ratio_slice_to_raw']:.3f} "
              f"(1 : {raw['rows_per_s'] / best.achieved:.1f})")
    else:
        print("no stage met its target: lower the rates (--rates)")
    return results


def _mem_gib() -> float | None:
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        return round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.slice", description=__doc__.splitlines()[0])
    p.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",") if x.strip()],
                   default=[25, 50, 100, 200, 400], help="target commands/s per stage (default 25,50,100,200,400)")
    p.add_argument("--seconds", type=float, default=10, help="length of each stage (default 10)")
    p.add_argument("--max-inflight", type=int, default=200, help="commands in flight at most (default 200)")
    p.add_argument("--timeout", type=float, default=30, help="HTTP timeout of a command, s (default 30)")
    p.add_argument("--lag-every", type=int, default=5, help="sample the lag of every n-th activation (default 5)")
    p.add_argument("--lag-max", type=int, default=500, help="lag samples per stage at most (default 500)")
    p.add_argument("--lag-pollers", type=int, default=4, help="lag samples polled at once at most (default 4)")
    p.add_argument("--warmup", type=float, default=3, help="unreported warm-up, s (default 3; 0: none)")
    p.add_argument("--raw-connections", type=int, default=10, help="connections of the raw insert test (default 10)")
    p.add_argument("--raw-seconds", type=float, default=5, help="length of the raw insert test (default 5)")
    p.add_argument("--client", choices=["keepalive", "httpx"], default="keepalive",
                   help="the generator's HTTP client (default keepalive: bench/keepalive.py; httpx: as before)")
    p.add_argument("--keep-going", action="store_true", help="run every stage even after one missed")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = p.parse_args(argv)
    if not args.rates or min(args.rates) <= 0:
        p.error("--rates needs positive numbers")

    started = ensure_stack()
    try:
        results = asyncio.run(run(args))
    finally:
        if started:
            stop_stack()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
