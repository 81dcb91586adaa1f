#!/usr/bin/env python3
"""Crash safety of `latchkey serve`: kill -9 and database restarts in the middle of a replay.

Drives the real binary (standard library only). Scenarios:

  sqlite      one `serve` on a SQLite file, killed with SIGKILL at random points (while
              webhooks arrive and jobs run) and restarted on the same file;
  replicas    three `serve` processes on one PostgreSQL database, webhooks round-robin,
              one replica at a time killed with SIGKILL and restarted;
  db-restart  one `serve` on PostgreSQL while PostgreSQL itself is stopped and started:
              /readyz must show the outage (503) and recover (200), the process must wait,
              not exit.

A pool of sender threads posts signed webhooks (distinct reservations, some followed by a
payment, a room move, a cancellation, with increasing versions) and retries every delivery
that was not answered 2xx, as a platform would. Guest messages go to a callback endpoint
this script serves (the example hotel plus `[notifications.callback]`), so what the guest
was really told is known. Once the job queue has drained, the checks: no acknowledged
webhook lost, the codes on record are what the rule asks for (no duplicate grant, nothing
left for a cancelled stay, nothing stuck pending or running), no dead letter, no duplicate
or out-of-order guest message, the last message names the PINs on record.

    python3 tests/crash/kill9.py                       # all three, from the repository root
    python3 tests/crash/kill9.py --scenario sqlite --webhooks 500 --seed 7

Exit status 0 only when every scenario run has 0 violations. See tests/crash/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[2]
SOURCE = "demo"
SOURCE_SECRET = "whsec_zNLR+bTPxvKLHY4iLDOs2bkgI3WOytRw"  # examples/hotel's published test secret
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
# Processes that use the shared PostgreSQL server: the server is not stopped while one runs.
PG_USERS = ["target/release/deps/it-", "latchkey replay .*--database postgres"]
T0 = time.monotonic()


# ---- output ---------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---- child processes: always killed on exit ---------------------------------------------

CHILDREN: list[subprocess.Popen] = []


def _kill_children() -> None:
    for p in CHILDREN:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_children)


def _on_signal(signum, _frame):
    _kill_children()
    sys.exit(128 + signum)


# ---- HTTP ------------------------------------------------------------------------------

def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """One request. Returns (status, headers, body) for any HTTP answer; raises OSError
    (connection refused or reset, timeout) when there is none."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except urllib.error.URLError as e:
        raise OSError(str(e.reason)) from e
    except (ConnectionError, TimeoutError, socket.timeout) as e:
        raise OSError(str(e)) from e
    except Exception as e:  # http.client.RemoteDisconnected, IncompleteRead, ...
        raise OSError(f"{type(e).__name__}: {e}") from e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


# ---- the property: examples/hotel, plus a callback channel to this script ---------------

@dataclass
class Property:
    """What the checks need to know of the property and its rule."""
    dir: Path
    timezone: ZoneInfo
    check_in: tuple[int, int]
    check_out: tuple[int, int]
    requires_payment: bool
    open_before: int
    close_after: int
    shared_doors: bool
    locks: list[dict]
    resources: dict[str, str]  # resource id -> branch
    callback: bool

    def offline(self, lock: str) -> bool:
        return any(l["id"] == lock and l.get("simulator") == "offline" for l in self.locks)

    def entitled(self, status: str) -> bool:
        return status in ("paid", "checked_out") or (status == "confirmed" and not self.requires_payment)

    def expected_locks(self, state: dict) -> set[str]:
        """The locks the rule opens for a reservation in `state` (rules/default.rhai)."""
        if not self.entitled(state["status"]):
            return set()
        branches = {self.resources[r] for r in state["resources"] if r in self.resources}
        # An overflow door (named by another lock's `overflow`) is the host's to give when
        # that lock is full; no rule grants it (docs/rules.md, "When a door is full").
        overflow_doors = {l["overflow"] for l in self.locks if l.get("overflow")}
        out = set()
        for l in self.locks:
            if not l.get("branch") or l["id"] in overflow_doors:
                continue
            if l.get("door") == "private":
                if set(l.get("resources", [])) & set(state["resources"]):
                    out.add(l["id"])
            elif self.shared_doors and l["branch"] in branches:
                out.add(l["id"])
        return out

    def expected_window(self, state: dict) -> tuple[int, int]:
        ci = datetime.fromisoformat(state["check_in"]).astimezone(self.timezone).date()
        co = datetime.fromisoformat(state["check_out"]).astimezone(self.timezone).date()

        def at(d: date, hm: tuple[int, int]) -> int:
            return int(datetime(d.year, d.month, d.day, hm[0], hm[1], tzinfo=self.timezone).timestamp())

        return at(ci, self.check_in) - self.open_before, at(co, self.check_out) + self.close_after


def _rule_const(text: str, name: str):
    m = re.search(rf"const {name}\s*=\s*([^;]+);", text)
    if not m:
        raise SystemExit(f"the rule has no `const {name}`: update tests/crash/kill9.py")
    return m.group(1).strip()


def load_property(src: Path, workdir: Path, callback_url: str | None, callback_secret: str,
                  full_workload: bool) -> Property:
    """Reads `src` and writes a copy into `workdir`: with `callback_url`, its rule also asks
    for the callback channel and its `[notifications.callback]` points at this script;
    without `full_workload`, the slow lock (room 102) confirms at once like an online one.
    No booking of the default workload uses room 102, but the lock keeps a pool of backup
    codes, and the in-memory simulator forgets a code across a kill: a pool code the slow
    lock had not yet confirmed would then never be, which is the reason the default
    workload leaves room 102 out (see the README)."""
    toml_text = (src / "property.toml").read_text()
    conf = tomllib.loads(toml_text)
    rule_path = (src / conf["rules"]).resolve()
    rule = rule_path.read_text()
    text = re.sub(r'(?m)^rules\s*=.*$', 'rules = "rule.rhai"', toml_text, count=1)
    if callback_url:
        if "notifications" in conf:
            raise SystemExit(f"{src}/property.toml already has [notifications]: pass --no-callback")
        channels = _rule_const(rule, "NOTIFY_CHANNELS")
        if '"callback"' not in channels:
            rule = rule.replace(f"const NOTIFY_CHANNELS = {channels};",
                                f'const NOTIFY_CHANNELS = {channels[:-1].rstrip()}, "callback"];', 1)
        text += ("\n[notifications.callback]\n"
                 f'url = "{callback_url}"\nsecret = "{callback_secret}"\nallow_private = true\n')
    if not full_workload:
        text = text.replace('simulator = "slow"', 'simulator = "online"')
    prop_dir = workdir / "property"
    prop_dir.mkdir(parents=True, exist_ok=True)
    (prop_dir / "rule.rhai").write_text(rule)
    (prop_dir / "property.toml").write_text(text)
    p = conf["property"]

    def hm(s: str) -> tuple[int, int]:
        h, m = s.split(":")
        return int(h), int(m)

    return Property(
        dir=prop_dir,
        timezone=ZoneInfo(p["timezone"]),
        check_in=hm(p["check_in_time"]),
        check_out=hm(p["check_out_time"]),
        requires_payment=bool(p.get("requires_payment", False)),
        open_before=int(_rule_const(rule, "OPEN_BEFORE")),
        close_after=int(_rule_const(rule, "CLOSE_AFTER")),
        shared_doors=_rule_const(rule, "SHARED_DOORS") == "true",
        locks=conf.get("locks", []),
        resources={r["id"]: r.get("branch") for r in conf.get("resources", [])},
        callback=callback_url is not None,
    )


# ---- the callback endpoint: what guests were really told -------------------------------

class Sink:
    """Receives `access_code.*` callbacks; records each delivery in arrival order."""

    def __init__(self, secret: str):
        self.secret = secret
        self.deliveries: list[dict] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                msg_id = self.headers.get("webhook-id", "")
                ts = self.headers.get("webhook-timestamp", "0")
                want = sign(sink.secret, msg_id, int(ts) if ts.isdigit() else 0, body)
                ok = want in self.headers.get("webhook-signature", "").split()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {}
                with sink.lock:
                    if not ok:
                        sink.bad_signatures += 1
                    sink.deliveries.append({"id": msg_id, "type": doc.get("type"),
                                            "data": doc.get("data", {}), "at": time.time()})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/latchkey"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- one `latchkey serve` process --------------------------------------------------------

class Service:
    """A `serve` process that can be killed with SIGKILL and started again on the same
    database. Each incarnation logs (stdout and stderr) to its own file."""

    def __init__(self, name: str, binary: Path, database: str, prop: Path, workdir: Path):
        self.name, self.binary, self.database, self.prop, self.workdir = name, binary, database, prop, workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.incarnation = 0
        self.kills = 0
        self.logs: list[Path] = []
        self.unexpected_exits: list[str] = []

    def start(self) -> None:
        self.incarnation += 1
        path = self.workdir / f"{self.name}.{self.incarnation}.log"
        self.logs.append(path)
        with open(path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.binary), "serve", "--listen", f"127.0.0.1:{self.port}",
                 "--database", self.database, "--property", str(self.prop),
                 "--wasm-cache", str(self.workdir / "wasm-cache"),
                 "--sync-every", "0", "--log-format", "text"],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        CHILDREN.append(self.proc)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        """Records an exit nobody asked for (a crash, or giving up on the database)."""
        if self.proc is not None and self.proc.poll() is not None:
            msg = f"{self.name} (incarnation {self.incarnation}) exited by itself with status {self.proc.returncode}"
            if msg not in self.unexpected_exits:
                self.unexpected_exits.append(msg)

    def wait_ready(self, timeout: float = 60.0) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} while starting\n{self.tail()}")
            try:
                status, _, _ = http("GET", self.url + "/readyz", timeout=3)
                if status == 200:
                    return time.monotonic() - start
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready within {timeout:.0f} s\n{self.tail()}")

    def admin_key(self) -> str | None:
        m = re.search(r"\b(lk_[A-Za-z0-9_\-]+)", self.logs[0].read_text(errors="replace"))
        return m.group(1) if m else None

    def kill9(self) -> None:
        self.check_alive()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after `timeout`. Returns whether it stopped gracefully."""
        if not self.alive():
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return False

    def tail(self, lines: int = 40) -> str:
        if not self.logs:
            return ""
        text = ANSI.sub("", self.logs[-1].read_text(errors="replace"))
        text = re.sub(r"lk_[A-Za-z0-9_\-]+", "lk_…", text)
        body = "\n".join("    " + l for l in text.splitlines()[-lines:])
        return f"  --- tail of {self.logs[-1]} ---\n{body}"

    def log_lines(self, pattern: str) -> list[str]:
        """Lines of every incarnation's log matching `pattern`."""
        found = []
        for path in self.logs:
            for line in ANSI.sub("", path.read_text(errors="replace")).splitlines():
                if re.search(pattern, line):
                    found.append(f"{path.name}: {line.strip()[:300]}")
        return found


# ---- the workload ---------------------------------------------------------------------

@dataclass
class Delivery:
    webhook_id: str
    reservation: str
    version: int
    event_type: str
    data: dict
    status: int | None = None   # the 2xx that acknowledged it
    answer: str = ""
    attempts: int = 0
    errors: Counter = field(default_factory=Counter)
    acked_at: float | None = None


def make_workload(n: int, rng: random.Random, run_id: str, full: bool) -> list[list[Delivery]]:
    """Chains of deliveries, one chain per reservation, about `n` deliveries in all.
    Rooms 101 (online lock) and 201 (offline lock); `full` adds room 102 (the `slow` lock)
    and date changes, whose codes the in-memory simulator forgets across a kill (see the
    README)."""
    rooms = ["101", "201"] + (["102"] if full else [])
    shapes = [("paid", 40), ("starts_soon", 10), ("move", 18), ("cancel", 14),
              ("move_cancel", 8), ("unpaid", 5), ("unpaid_cancel", 5)]
    if full:
        shapes.append(("redate", 15))
    names, weights = zip(*shapes)
    today = datetime.now(timezone.utc).date()
    chains: list[list[Delivery]] = []
    total = 0
    while total < n:
        shape = rng.choices(names, weights)[0]
        rid = f"K-{run_id}-{len(chains) + 1:04d}"
        ci = today + timedelta(days=rng.choice([1, 2]))
        co = ci + timedelta(days=rng.randint(1, 3))
        state = {
            "id": rid, "status": "confirmed", "resources": [rng.choice(rooms)],
            "check_in": f"{ci}T15:00:00Z", "check_out": f"{co}T11:00:00Z",
            "guest": {"name": f"Guest {rid}", "email": f"{rid.lower()}@example.com",
                      "phone": f"+3519{rng.randint(10000000, 99999999)}", "locale": rng.choice(["en", "pt-PT", "cs", "es"])},
        }
        steps: list[tuple[str, dict]] = [("reservation.confirmed", dict(state))]
        if not shape.startswith("unpaid"):
            state = dict(state, status="paid")
            steps.append(("reservation.paid", state))
        if shape == "starts_soon":
            steps.append(("reservation.starts_soon", dict(state)))
        if "move" in shape:
            other = rng.choice([r for r in rooms if r != state["resources"][0]])
            state = dict(state, resources=[other])
            steps.append(("reservation.modified", state))
        if shape == "redate":
            state = dict(state, check_out=f"{co + timedelta(days=1)}T11:00:00Z")
            steps.append(("reservation.modified", state))
        if "cancel" in shape:
            state = dict(state, status="cancelled")
            steps.append(("reservation.cancelled", state))
        chain = []
        for version, (kind, st) in enumerate(steps, start=1):
            data = json.loads(json.dumps(st))
            data["version"] = version
            chain.append(Delivery(f"msg_{rid}_v{version}", rid, version, kind, data))
        chains.append(chain)
        total += len(chain)
    return chains


# ---- the sender: a platform that retries until it gets a 2xx -----------------------------

class Sender:
    def __init__(self, services: list[Service], threads: int, rate: float, rng: random.Random,
                 deliver_timeout: float):
        self.services, self.threads, self.rate, self.deliver_timeout = services, threads, rate, deliver_timeout
        self.rng = random.Random(rng.random())
        self.lock = threading.Lock()
        self.next_slot = time.monotonic()
        self.rr = 0
        self.acked = 0
        self.total = 0
        self.done = threading.Event()
        self.stop = threading.Event()
        self.chains: list[list[Delivery]] = []

    def start(self, chains: list[list[Delivery]]) -> None:
        self.chains = chains
        self.total = sum(len(c) for c in chains)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self._chain, self.chains))
        self.done.set()

    def _pace(self) -> None:
        with self.lock:
            slot = max(self.next_slot, time.monotonic())
            self.next_slot = slot + 1.0 / self.rate
        time.sleep(max(0.0, slot - time.monotonic()))

    def _target(self) -> Service:
        with self.lock:
            self.rr += 1
            return self.services[self.rr % len(self.services)]

    def _chain(self, chain: list[Delivery]) -> None:
        for d in chain:
            if self.stop.is_set():
                return
            self._pace()
            self._deliver(d)
            time.sleep(self.rng.uniform(0, 0.2))  # the platform's next change comes a moment later

    def _deliver(self, d: Delivery) -> None:
        deadline = time.monotonic() + self.deliver_timeout
        backoff = 0.1
        while not self.stop.is_set() and time.monotonic() < deadline:
            d.attempts += 1
            ts = int(time.time())
            body = json.dumps({"type": d.event_type,
                               "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "data": d.data}).encode()
            headers = {"content-type": "application/json", "webhook-id": d.webhook_id,
                       "webhook-timestamp": str(ts), "webhook-signature": sign(SOURCE_SECRET, d.webhook_id, ts, body)}
            target = self._target()
            try:
                status, _, answer = http("POST", f"{target.url}/v1/hooks/{SOURCE}", body, headers, timeout=15)
            except OSError as e:
                d.errors["no answer"] += 1
                status, answer = None, str(e).encode()
            if status is not None and 200 <= status < 300:
                d.status, d.answer, d.acked_at = status, answer.decode(errors="replace"), time.time()
                with self.lock:
                    self.acked += 1
                return
            if status is not None:
                d.errors[status] += 1
                if 400 <= status < 500 and status not in (408, 429):
                    d.answer = answer.decode(errors="replace")
                    log(f"REFUSED {d.webhook_id}: {status} {d.answer[:300]}")
                    return  # the script's bug, not a fault to retry
            time.sleep(backoff)
            backoff = min(2.0, backoff * 1.5)
        log(f"gave up on {d.webhook_id} after {d.attempts} attempts: {dict(d.errors)}")

    def deliveries(self) -> list[Delivery]:
        return [d for c in self.chains for d in c]

    def wait_acked(self, count: float) -> None:
        while self.acked < count and not self.done.is_set():
            time.sleep(0.01)


# ---- the database, read directly -----------------------------------------------------

class SqliteDb:
    def __init__(self, path: Path):
        self.path = path
        self.url = str(path)

    def rows(self, sql: str) -> list[dict]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()


def psql(sql: str, db: str = "postgres", timeout: float = 60) -> str:
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT),
                        "-U", PG_USER, "-d", db, "-c", sql], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r.stdout


class PgDb:
    def __init__(self, name: str):
        self.name = name
        self.url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    def create(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        try:
            psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log(f"could not drop database {self.name}: {e}")

    def rows(self, sql: str) -> list[dict]:
        out = psql(f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) t", self.name)
        return json.loads(out)


# ---- waiting for the queue to drain ----------------------------------------------------

def unsettled(db) -> dict:
    now = int(time.time())
    jobs = db.rows("SELECT state, attempts, run_at FROM jobs")
    codes = db.rows("SELECT state FROM access_codes WHERE state IN ('pending', 'revoking')")
    msgs = db.rows("SELECT state FROM notifications WHERE state = 'queued'")
    out = {
        "running jobs": sum(j["state"] == "running" for j in jobs),
        "due jobs": sum(j["state"] == "queued" and j["run_at"] <= now for j in jobs),
        "retrying jobs": sum(j["state"] == "queued" and j["attempts"] > 0 for j in jobs),
        "pending codes": sum(c["state"] == "pending" for c in codes),
        "revoking codes": sum(c["state"] == "revoking" for c in codes),
        "queued messages": len(msgs),
    }
    return {k: v for k, v in out.items() if v}


def wait_settled(db, services: list[Service], timeout: float) -> tuple[bool, float, dict]:
    start = time.monotonic()
    last_log = 0.0
    calm = 0
    left: dict = {}
    while time.monotonic() - start < timeout:
        for s in services:
            s.check_alive()
        try:
            left = unsettled(db)
        except (RuntimeError, sqlite3.Error, subprocess.TimeoutExpired) as e:
            left = {"database error": str(e)[:200]}
        calm = calm + 1 if not left else 0
        if calm >= 3:
            return True, time.monotonic() - start, {}
        if time.monotonic() - last_log > 15:
            log(f"  draining: {left or 'nothing left'}")
            last_log = time.monotonic()
        time.sleep(1)
    return False, time.monotonic() - start, left


# ---- the checks ------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.violations: dict[str, list[str]] = defaultdict(list)
        self.figures: dict[str, object] = {}
        self.errors_logged: list[str] = []  # shown, not counted: an outage is logged as errors

    def fail(self, kind: str, detail: str) -> None:
        self.violations[kind].append(detail)

    def count(self, kind: str) -> int:
        return len(self.violations.get(kind, []))

    def total(self) -> int:
        return sum(len(v) for v in self.violations.values())


def check_webhooks(r: Report, deliveries: list[Delivery], reservations: dict, events: dict) -> None:
    """(a) every acknowledged delivery is stored, and its reservation is at least as new."""
    for d in deliveries:
        if d.status is None:
            r.fail("unacknowledged", f"{d.webhook_id}: never answered 2xx ({dict(d.errors)}; {d.answer[:200]})")
            continue
        if d.webhook_id not in events:
            r.fail("lost", f"{d.webhook_id} was answered {d.status} {d.answer[:120]} but is not in the inbox")
        res = reservations.get(d.reservation)
        if res is None:
            r.fail("lost", f"{d.webhook_id}: reservation {d.reservation} acknowledged but missing")
        elif res["version"] < d.version:
            r.fail("lost", f"{d.webhook_id}: reservation {d.reservation} at version {res['version']} < acknowledged {d.version}")
    by_res = defaultdict(list)
    for d in deliveries:
        by_res[d.reservation].append(d)
    for rid, ds in by_res.items():
        acked = [d for d in ds if d.status is not None]
        res = reservations.get(rid)
        if not acked or res is None:
            continue
        last = max(acked, key=lambda d: d.version)
        if res["version"] == last.version and res["status"] != last.data["status"]:
            r.fail("lost", f"{rid}: status {res['status']} on record, version {last.version} says {last.data['status']}")


def final_state(ds: list[Delivery], res: dict | None) -> dict | None:
    """The delivered state the reservation on record is at (by version)."""
    if res is None:
        return None
    for d in ds:
        if d.version == res["version"]:
            return d.data
    return None


def check_codes(r: Report, prop: Property, by_res: dict, reservations: dict, codes: list[dict]) -> dict:
    """(b) the codes on record are what the rule asks for: one live code per entitled lock,
    with the rule's window; none left on a revocable lock otherwise; nothing half-done.
    Returns the live codes by reservation."""
    live: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for c in codes:
        if c["state"] in ("pending", "revoking"):
            r.fail("stuck", f"code {c['id']} ({c['reservation_id']} on {c['lock_id']}) still {c['state']}")
        if c["state"] == "failed":
            r.fail("failed code", f"code {c['id']} ({c['reservation_id']} on {c['lock_id']}) failed")
        if c["state"] == "active" and int(c["unrevocable"]) != 0:
            if not prop.offline(c["lock_id"]):
                r.fail("stale access", f"code {c['id']} on revocable lock {c['lock_id']} flagged unrevocable")
            continue
        if c["state"] in ("active", "pending"):
            live[c["reservation_id"]][c["lock_id"]].append(c)
    for rid, ds in by_res.items():
        state = final_state(ds, reservations.get(rid))
        if state is None:
            continue
        want = prop.expected_locks(state)
        window = prop.expected_window(state)
        have = live.get(rid, {})
        for lock in sorted(want | set(have)):
            cs = have.get(lock, [])
            if lock in want and not cs:
                r.fail("lockout", f"{rid} ({state['status']}, {state['resources']}) has no live code on {lock}")
            if len(cs) > 1:
                r.fail("duplicate grant", f"{rid} has {len(cs)} live codes on {lock}: ids {[c['id'] for c in cs]}")
            if lock not in want and cs:
                r.fail("stale access", f"{rid} ({state['status']}, {state['resources']}) still has code(s) {[c['id'] for c in cs]} on {lock}")
            for c in cs:
                if lock in want and (c["starts_at"], c["ends_at"]) != window:
                    r.fail("wrong window", f"{rid} code {c['id']} on {lock}: {c['starts_at']}..{c['ends_at']}, rule says {window[0]}..{window[1]}")
    # Two stays must not share a PIN on one lock.
    pins = defaultdict(set)
    for rid, locks in live.items():
        for lock, cs in locks.items():
            for c in cs:
                if c["pin"]:
                    pins[(lock, c["pin"])].add(rid)
    for (lock, pin), rids in pins.items():
        if len(rids) > 1:
            r.fail("shared PIN", f"PIN {pin} on {lock} is live for {sorted(rids)}")
    return live


def check_jobs(r: Report, jobs: list[dict], dead_api: list[dict] | None) -> None:
    """(b, d) nothing left running or retrying, no dead letter."""
    for j in jobs:
        if j["state"] == "running":
            r.fail("stuck", f"job {j['id']} {j['kind']} still running (lease until {j['lease_until']})")
        elif j["state"] == "queued" and int(j["attempts"]) > 0:
            r.fail("stuck", f"job {j['id']} {j['kind']} still retrying after {j['attempts']} attempts: {j['last_error']}")
        elif j["state"] == "dead":
            r.fail("dead letter", f"job {j['id']} {j['kind']} {j['dedupe_key']} after {j['attempts']} attempts: {j['last_error']}")
    if dead_api:
        r.fail("dead letter", f"GET /v1/jobs/dead lists {len(dead_api)}: {[d['id'] for d in dead_api]}")


def _doors(content: dict) -> list[tuple]:
    return sorted((d.get("lock"), d.get("pin")) for d in content.get("doors", []))


def check_messages(r: Report, prop: Property, by_res: dict, reservations: dict, live: dict,
                   messages: list[dict], sink: list[dict] | None) -> None:
    """(c) no guest message decided or delivered twice, none out of order, and the last
    one names the PINs on record."""
    seen_keys = Counter(m["idempotency_key"] for m in messages)
    for key, n in seen_keys.items():
        if n > 1:
            r.fail("duplicate message", f"idempotency key {key} written {n} times")
    slots = Counter((m["reservation_id"], m["seq"], m["channel"]) for m in messages)
    for slot, n in slots.items():
        if n > 1:
            r.fail("duplicate message", f"{slot} written {n} times")
    chan = defaultdict(list)
    for m in messages:
        chan[(m["reservation_id"], m["channel"])].append(m)
    for (rid, channel), ms in chan.items():
        ms.sort(key=lambda m: m["seq"])
        for a, b in zip(ms, ms[1:]):
            if a["kind"] == b["kind"] and json.loads(a["content"]) == json.loads(b["content"]):
                r.fail("duplicate message", f"{rid} {channel}: seq {a['seq']} and {b['seq']} tell the same {a['kind']}")
    last = {}
    for m in messages:
        if m["reservation_id"] not in last or m["seq"] > last[m["reservation_id"]]["seq"]:
            last[m["reservation_id"]] = m
    for rid, ds in by_res.items():
        state = final_state(ds, reservations.get(rid))
        if state is None:
            continue
        m = last.get(rid)
        if prop.expected_locks(state):
            told = sorted((lock, c["pin"]) for lock, cs in live.get(rid, {}).items() for c in cs)
            if m is None:
                r.fail("never told", f"{rid} ({state['status']}) has codes but no message")
            elif m["kind"] not in ("issued", "changed") or _doors(json.loads(m["content"])) != told:
                r.fail("wrong PIN told", f"{rid}: last message (seq {m['seq']}, {m['kind']}) names {_doors(json.loads(m['content']))}, codes on record {told}")
        elif m is not None and m["kind"] != "revoked":
            r.fail("wrong PIN told", f"{rid} ({state['status']}): last message is {m['kind']} (seq {m['seq']}), not a revocation")
    if sink is None:
        return
    # What the callback endpoint really received.
    by_id = defaultdict(list)
    for d in sink:
        by_id[d["id"]].append(d)
    r.figures["callbacks received"] = len(sink)
    r.figures["callbacks redelivered"] = sum(len(v) - 1 for v in by_id.values())
    rows = {m["idempotency_key"]: m for m in messages if m["channel"] == "callback"}
    for key, m in rows.items():
        if m["state"] == "sent" and key not in by_id:
            r.fail("lost message", f"{key} recorded sent, never received")
        if m["state"] in ("queued", "failed"):
            r.fail("lost message", f"{key} left {m['state']}: {m['detail']}")
    for key, ds in by_id.items():
        m = rows.get(key)
        if m is None:
            r.fail("phantom message", f"received {key}, which is not in the outbox")
        elif m["state"] != "sent":
            r.fail("phantom message", f"received {key}, recorded {m['state']} ({m['detail']})")
        if len({json.dumps(d["data"], sort_keys=True) for d in ds}) > 1:
            r.fail("duplicate message", f"{key} delivered {len(ds)} times with different bodies")
    arrivals = defaultdict(list)
    for key in dict.fromkeys(d["id"] for d in sink):  # first arrival of each id, in order
        parts = key.rsplit(":", 3)
        arrivals[parts[1] if len(parts) == 4 else key].append((int(parts[2]) if len(parts) == 4 else -1, by_id[key][0]))
    for rid, got in arrivals.items():
        for (sa, a), (sb, b) in zip(got, got[1:]):
            if sb < sa:
                r.fail("out of order", f"{rid}: message seq {sb} arrived after seq {sa}")
        ordered = sorted(got, key=lambda x: x[0])
        for (sa, a), (sb, b) in zip(ordered, ordered[1:]):
            if a["type"] == b["type"] and a["data"].get("doors") == b["data"].get("doors"):
                r.fail("duplicate message", f"{rid}: guest received seq {sa} and {sb}, both {a['type']} with the same doors")
    if r.figures.get("bad signatures"):
        r.fail("bad signature", f"{r.figures['bad signatures']} callbacks with a bad signature")


def api_checks(r: Report, service: Service, key: str, deliveries: list[Delivery], rng: random.Random) -> list[dict] | None:
    """The admin API agrees: dead letters, and a sample of reservations."""
    auth = {"authorization": f"Bearer {key}"}

    def get(path: str):
        for _ in range(20):
            status, headers, body = http("GET", service.url + path, headers=auth)
            if status != 429:
                return status, body
            time.sleep(float(headers.get("Retry-After", headers.get("retry-after", "1")) or 1))
        return status, body

    status, body = get("/v1/jobs/dead")
    if status != 200:
        r.fail("api", f"GET /v1/jobs/dead answered {status}: {body[:200]!r}")
        return None
    dead = json.loads(body)["dead_letters"]
    newest = {}
    for d in deliveries:
        if d.status is not None and d.version > newest.get(d.reservation, 0):
            newest[d.reservation] = d.version
    for rid in rng.sample(sorted(newest), min(25, len(newest))):
        status, body = get(f"/v1/reservations/{rid}")
        if status != 200:
            r.fail("lost", f"GET /v1/reservations/{rid} answered {status}")
            continue
        res = json.loads(body)["reservation"]
        if res["version"] < newest[rid]:
            r.fail("lost", f"GET /v1/reservations/{rid}: version {res['version']} < acknowledged {newest[rid]}")
    return dead


def run_checks(prop: Property, db, sender: Sender, dead_api, sink: Sink | None) -> Report:
    r = Report()
    deliveries = sender.deliveries()
    by_res = defaultdict(list)
    for d in deliveries:
        by_res[d.reservation].append(d)
    reservations = {x["id"]: x for x in db.rows("SELECT id, version, status FROM reservations")}
    events = {x["webhook_id"]: x for x in db.rows(f"SELECT webhook_id, version, outcome FROM events WHERE source = '{SOURCE}'")}
    codes = db.rows("SELECT id, reservation_id, lock_id, pin, starts_at, ends_at, state, unrevocable FROM access_codes")
    jobs = db.rows("SELECT id, kind, dedupe_key, state, attempts, lease_until, last_error FROM jobs")
    messages = db.rows("SELECT reservation_id, seq, kind, channel, content, idempotency_key, state, detail FROM notifications")
    check_webhooks(r, deliveries, reservations, events)
    live = check_codes(r, prop, by_res, reservations, codes)
    check_jobs(r, jobs, dead_api)
    received = None
    if sink is not None:
        received = sink.snapshot()
        r.figures["bad signatures"] = sink.bad_signatures
    check_messages(r, prop, by_res, reservations, live, messages, received)
    r.figures.update({
        "reservations": len(by_res),
        "codes": len(codes),
        "live codes": sum(len(cs) for locks in live.values() for cs in locks.values()),
        "messages": len(messages),
        "messages sent": sum(m["state"] == "sent" for m in messages),
        "messages superseded": sum(m["state"] == "superseded" for m in messages),
    })
    return r


# ---- scenarios ---------------------------------------------------------------------------

@dataclass
class Ctx:
    args: argparse.Namespace
    binary: Path
    rng: random.Random
    workdir: Path


def kill_points(rng: random.Random, total: int, kills: int) -> list[float]:
    """Ack counts at which to kill: all but one during the sending, the last while the
    queue drains (-1)."""
    during = sorted(rng.uniform(0.05, 0.95) * total for _ in range(kills - 1))
    return during + [-1]


def chaos_kills(services: list[Service], sender: Sender, rng: random.Random, kills: int) -> list[str]:
    notes = []
    for point in kill_points(rng, sender.total, kills):
        if point >= 0:
            sender.wait_acked(point)
        else:
            sender.done.wait()
        time.sleep(rng.uniform(0, 0.5) if point >= 0 else rng.uniform(0.1, 2.0))
        victim = rng.choice(services)
        victim.check_alive()
        victim.kill9()
        where = f"after {sender.acked}/{sender.total} acknowledged" + (" (draining)" if point < 0 else "")
        time.sleep(rng.uniform(0, 1.0))  # down for a moment: deliveries to it fail meanwhile
        victim.start()
        took = victim.wait_ready()
        note = f"kill -9 {victim.name} {where}; back in {took:.1f} s"
        log(note)
        notes.append(note)
    return notes


def settle_and_check(ctx: Ctx, name: str, prop: Property, db, services: list[Service], sender: Sender,
                     sink: Sink | None, key: str, extra: dict, started: float,
                     earlier: Report | None = None) -> Report:
    """Waits for the queue to drain, checks, stops the services; `earlier` holds the
    violations found during the run."""
    sender.done.wait()
    ok, took, left = wait_settled(db, services, ctx.args.settle_timeout)
    log(f"queue {'drained' if ok else 'NOT drained'} in {took:.0f} s {left or ''}")
    pre = earlier or Report()
    dead_api = None
    try:
        dead_api = api_checks(pre, services[0], key, sender.deliveries(), ctx.rng)
    except OSError as e:
        pre.fail("api", f"admin API did not answer: {e}")
    graceful = [s.name for s in services if not s.stop()]
    r = run_checks(prop, db, sender, dead_api, sink)
    for kind, vs in pre.violations.items():
        r.violations[kind].extend(vs)
    if not ok:
        r.fail("stuck", f"queue not drained after {took:.0f} s: {left}")
    for s in services:
        for msg in s.unexpected_exits:
            r.fail("crash", msg)
        for line in s.log_lines(r"panicked"):
            r.fail("panic", line)
        r.errors_logged.extend(s.log_lines(r"\bERROR\b"))
    if graceful:
        r.fail("shutdown", f"{graceful} did not stop within 30 s of SIGTERM")
    deliveries = sender.deliveries()
    r.figures = {
        "webhooks": len(deliveries),
        "acknowledged": sum(d.status is not None for d in deliveries),
        "duplicate answers": sum(d.status == 200 for d in deliveries),
        "retried deliveries": sum(d.attempts > 1 for d in deliveries),
        "failed attempts": sum(sum(d.errors.values()) for d in deliveries),
        "failures": ",".join(f"{k}:{v}" for k, v in sum((d.errors for d in deliveries), Counter()).items()).replace(" ", "_") or "none",
        "kills": sum(s.kills for s in services),
        "error lines": len(r.errors_logged),
        **extra,
        **r.figures,
        "drain s": round(took),
        "run s": round(time.monotonic() - started),
    }
    summarize(name, r, services)
    return r


def summarize(name: str, r: Report, services: list[Service]) -> None:
    counts = {k: r.count(k) for k in ("lost", "duplicate grant", "stuck", "dead letter", "duplicate message",
                                      "wrong PIN told", "out of order", "stale access", "lockout")}
    figures = " ".join(f"{k.replace(' ', '_')}={v}" for k, v in {**r.figures, **counts}.items())
    verdict = "PASS" if r.total() == 0 else "FAIL"
    log(f"SUMMARY {name}: {verdict} {figures} violations={r.total()}")
    for kind, vs in sorted(r.violations.items()):
        log(f"  {kind}: {len(vs)}")
        for v in vs[:15]:
            log(f"    - {v}")
        if len(vs) > 15:
            log(f"    ... {len(vs) - 15} more")
    if r.errors_logged:
        log(f"  ERROR lines logged: {len(r.errors_logged)} (not violations by themselves), first ones:")
        for line in r.errors_logged[:5]:
            log(f"    {line}")
    if r.total():
        for s in services:
            print(s.tail(), flush=True)


def start_services(services: list[Service]) -> str:
    """Starts the first, takes the admin key it prints, then the others."""
    services[0].start()
    services[0].wait_ready()
    key = services[0].admin_key()
    if not key:
        raise RuntimeError(f"{services[0].name} printed no admin key\n{services[0].tail()}")
    for s in services[1:]:
        s.start()
    for s in services[1:]:
        s.wait_ready()
    return key


def setup(ctx: Ctx, name: str) -> tuple[Path, Property, Sink | None]:
    work = ctx.workdir / name
    work.mkdir(parents=True, exist_ok=True)
    sink = None
    if ctx.args.no_callback:
        prop = load_property(REPO / ctx.args.property, work, None, "", ctx.args.full_workload)
    else:
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        sink = Sink(secret)
        prop = load_property(REPO / ctx.args.property, work, sink.url, secret,
                             ctx.args.full_workload)
    return work, prop, sink


def scenario_sqlite(ctx: Ctx) -> Report:
    started = time.monotonic()
    work, prop, sink = setup(ctx, "sqlite")
    db = SqliteDb(work / "latchkey.db")
    svc = Service("serve", ctx.binary, db.url, prop.dir, work)
    key = start_services([svc])
    chains = make_workload(ctx.args.webhooks, ctx.rng, f"{ctx.args.seed}s", ctx.args.full_workload)
    sender = Sender([svc], ctx.args.threads, ctx.args.rate, ctx.rng, ctx.args.deliver_timeout)
    kills = ctx.args.kills or ctx.rng.randint(3, 5)
    log(f"sqlite: {len(chains)} reservations, {sum(map(len, chains))} webhooks, {kills} kills, db {db.path}")
    sender.start(chains)
    try:
        chaos_kills([svc], sender, ctx.rng, kills)
        return settle_and_check(ctx, "sqlite", prop, db, [svc], sender, sink, key, {}, started)
    finally:
        sender.stop.set()
        svc.stop()
        if sink:
            sink.close()


def scenario_replicas(ctx: Ctx) -> Report:
    started = time.monotonic()
    work, prop, sink = setup(ctx, "replicas")
    db = PgDb(f"latchkey_crash_replicas_{os.getpid()}")
    db.create()
    services = [Service(f"replica-{i + 1}", ctx.binary, db.url, prop.dir, work) for i in range(ctx.args.replicas)]
    passed = False
    try:
        key = start_services(services)
        chains = make_workload(ctx.args.webhooks, ctx.rng, f"{ctx.args.seed}r", ctx.args.full_workload)
        sender = Sender(services, ctx.args.threads, ctx.args.rate, ctx.rng, ctx.args.deliver_timeout)
        kills = ctx.args.kills or ctx.rng.randint(3, 5)
        log(f"replicas: {len(services)} on {db.name}, {len(chains)} reservations, {sum(map(len, chains))} webhooks, {kills} kills")
        sender.start(chains)
        try:
            chaos_kills(services, sender, ctx.rng, kills)
            r = settle_and_check(ctx, "replicas", prop, db, services, sender, sink, key, {}, started)
            passed = r.total() == 0
            return r
        finally:
            sender.stop.set()
    finally:
        for s in services:
            s.stop()
        if sink:
            sink.close()
        drop_unless_kept(ctx, db, passed)


def drop_unless_kept(ctx: Ctx, db: PgDb, passed: bool) -> None:
    if passed and not ctx.args.keep:
        db.drop()
    else:
        log(f"kept PostgreSQL database {db.name} (drop it with: psql -h {PG_HOST} -U {PG_USER} "
            f"-c 'DROP DATABASE \"{db.name}\" WITH (FORCE)')")


def wait_pg_unused() -> None:
    """PostgreSQL is shared: never stop it under someone else's test run."""
    while True:
        busy = [p for p in PG_USERS
                if subprocess.run(["pgrep", "-f", p], capture_output=True).returncode == 0]
        if not busy:
            return
        log(f"waiting: {busy} running, PostgreSQL is not restarted under it")
        time.sleep(10)


def pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    r = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"pg_ctlcluster {action} failed: {r.stderr.strip()}")


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", PG_HOST, "-p", str(PG_PORT)]).returncode == 0


class ReadyProbe:
    """Polls /readyz every 0.2 s and keeps every answer: (asked at, answered at, status,
    the `database` field), in wall-clock seconds."""

    def __init__(self, service: Service):
        self.service = service
        self.samples: list[tuple[float, float, int | None, str]] = []
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.is_set():
            asked = time.time()
            try:
                status, _, body = http("GET", self.service.url + "/readyz", timeout=5)
                detail = json.loads(body).get("database", "") if body else ""
            except (OSError, ValueError) as e:
                status, detail = None, str(e)
            self.samples.append((asked, time.time(), status, detail))
            time.sleep(0.2)

    def answered(self, after: float, status: int) -> list[tuple[float, float, int | None, str]]:
        return [s for s in self.samples if s[1] >= after and s[2] == status]


def outage(svc: Service, sender: Sender, probe: ReadyProbe, hold: float, how: str, r: Report) -> str:
    """Stops PostgreSQL (`stop`, held down `hold` s, `start`) or restarts it (`restart`), and
    checks that /readyz showed it and came back, that the process waited, and that nothing
    was acknowledged while the database was down."""
    wait_pg_unused()
    at = f"after {sender.acked}/{sender.total} acknowledged"
    stop_called = time.time()
    if how == "stop":
        pg_ctl("stop")
        stopped = time.time()  # down for sure from here...
        log(f"PostgreSQL stopped {at}")
        while time.time() - stop_called < hold or (
                not probe.answered(stop_called, 503) and time.time() - stop_called < 30):
            time.sleep(0.2)
        start_called = time.time()  # ...to here
        pg_ctl("start")
    else:
        stopped = start_called = None
        pg_ctl("restart")
    started = time.time()
    while not pg_ready() and time.time() - started < 60:
        time.sleep(0.2)
    ref = start_called if how == "stop" else started
    while time.time() - started < 30 and not probe.answered(ref, 200):
        time.sleep(0.2)
    shown = [s for s in probe.answered(stop_called, 503) if s[1] <= started + 5]
    back = probe.answered(ref, 200)
    note = (f"{how} {at}: PostgreSQL down {started - stop_called:.1f} s, /readyz 503 {len(shown)}x"
            + (f" ({shown[0][3][:80]!r})" if shown else ""))
    if back:
        note += f", 200 again {max(0.0, back[0][1] - started):.1f} s after PostgreSQL was back"
    else:
        note += ", NOT ready again within 30 s"
        r.fail("no recovery", f"/readyz not 200 within 30 s after PostgreSQL {how}")
    log(note)
    if how == "stop":
        if not shown:
            r.fail("outage not shown", f"/readyz never answered 503 while PostgreSQL was stopped")
        lying = [s for s in probe.samples if s[2] == 200 and s[0] >= stopped and s[1] <= start_called]
        if lying:
            r.fail("outage not shown", f"/readyz answered 200 {len(lying)}x while PostgreSQL was stopped")
        acked = [d.webhook_id for d in sender.deliveries() if d.acked_at and stopped <= d.acked_at <= start_called]
        if acked:
            r.fail("lost", f"{len(acked)} webhooks answered 2xx while PostgreSQL was stopped: {acked[:5]}")
    svc.check_alive()
    if not svc.alive():
        r.fail("crash", f"{svc.name} exited during the outage")
    return note


def scenario_db_restart(ctx: Ctx) -> Report:
    wait_pg_unused()
    started = time.monotonic()
    work, prop, sink = setup(ctx, "db-restart")
    db = PgDb(f"latchkey_crash_dbrestart_{os.getpid()}")
    db.create()
    svc = Service("serve", ctx.binary, db.url, prop.dir, work)
    probe = None
    passed = False
    try:
        key = start_services([svc])
        chains = make_workload(ctx.args.webhooks, ctx.rng, f"{ctx.args.seed}d", ctx.args.full_workload)
        sender = Sender([svc], ctx.args.threads, ctx.args.rate, ctx.rng, ctx.args.deliver_timeout)
        log(f"db-restart: {db.name}, {len(chains)} reservations, {sum(map(len, chains))} webhooks")
        probe = ReadyProbe(svc)
        pre = Report()
        notes = []
        sender.start(chains)
        try:
            for point, how in ((0.3, "stop"), (0.7, "restart")):
                sender.wait_acked(point * sender.total)
                notes.append(outage(svc, sender, probe, ctx.args.outage_hold, how, pre))
            r = settle_and_check(ctx, "db-restart", prop, db, [svc], sender, sink, key,
                                 {"outages": len(notes),
                                  "readyz 503": sum(1 for s in probe.samples if s[2] == 503)},
                                 started, pre)
            passed = r.total() == 0
            return r
        finally:
            sender.stop.set()
    finally:
        if probe:
            probe.stop.set()
        svc.stop()
        if sink:
            sink.close()
        if not pg_ready():
            log("PostgreSQL is down: starting it")
            pg_ctl("start")
        drop_unless_kept(ctx, db, passed)


SCENARIOS = {"sqlite": scenario_sqlite, "replicas": scenario_replicas, "db-restart": scenario_db_restart}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    ap.add_argument("--binary", default="target/release/latchkey", help="the latchkey binary (relative paths from the repository root)")
    ap.add_argument("--webhooks", type=int, default=300, help="deliveries per scenario (about)")
    ap.add_argument("--seed", type=int, default=None, help="drives the workload and the kill points")
    ap.add_argument("--kills", type=int, default=0, help="kills per scenario (default: 3 to 5 at random)")
    ap.add_argument("--threads", type=int, default=8, help="sender threads")
    ap.add_argument("--rate", type=float, default=30.0, help="webhooks per second, all threads together")
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--outage-hold", type=float, default=15.0,
                    help="seconds PostgreSQL stays stopped (longer than the pool's 10 s wait, so deliveries fail)")
    ap.add_argument("--settle-timeout", type=float, default=420.0,
                    help="seconds to wait for the queue to drain (a killed worker's lease is 120 s)")
    ap.add_argument("--deliver-timeout", type=float, default=300.0, help="seconds the sender retries one delivery")
    ap.add_argument("--property", default="examples/hotel", help="property directory, relative to the repository root")
    ap.add_argument("--no-callback", action="store_true",
                    help="use the property as it is (no callback channel: messages are only checked on record)")
    ap.add_argument("--full-workload", action="store_true",
                    help="also the slow lock (room 102) and date changes: see the README on the simulator's memory")
    ap.add_argument("--workdir", help="where databases and logs go (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory and PostgreSQL databases")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    binary = (REPO / args.binary).resolve()
    if not binary.is_file():
        print(f"no binary at {binary}: cargo build --release -p latchkey", file=sys.stderr)
        return 2
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="latchkey-crash-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(args, binary, random.Random(args.seed), workdir)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    log(f"binary {binary}, seed {args.seed}, work directory {workdir}")
    failed = []
    for name in names:
        log(f"== {name}")
        try:
            r = SCENARIOS[name](ctx)
        except Exception as e:  # a scenario that could not run is a failure, with its cause
            log(f"SUMMARY {name}: ERROR {type(e).__name__}: {e}")
            failed.append(name)
            continue
        if r.total():
            failed.append(name)
    _kill_children()
    if failed:
        log(f"FAILED: {', '.join(failed)} (seed {args.seed}; logs and databases in {workdir})")
        return 1
    log(f"all passed: {', '.join(names)} (seed {args.seed})")
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
