#!/usr/bin/env python3
"""A bounded mixed load and soak of `guardrail serve` on loopback, with its memory curve.

    python3 scripts/soak.py [--seconds 300] [--rate 200] [--binary target/release/guardrail]
    python3 scripts/soak.py --url http://127.0.0.1:8080 --token grd.… [--pid PID]

By default it starts its own `guardrail serve` over a fresh SQLite ledger in a temporary
directory (publishing the default text policy plus one invented banned term first, then
restarting, since the service reads its text policy once), seeds a small platform (a few
hundred placeholder accounts with follows and posts through POST /v1/events; two bios carry
the invented term so the network map has seeds; then POST /v1/admin/remap so decisions read
a mapped snapshot, which it checks), and then sends, for --seconds, an open-loop mix at a fixed --rate: decisions
(POST /v1/decide/{surface} over every surface, /v1/text/check, /v1/autocomplete/filter),
small event batches with new ids, reports with fresh client keys, and PDQ hash matches.

The load is bounded: a fixed schedule (request n is due at start + n/rate) served by a
fixed pool of keep-alive connections, never more requests in flight than connections.
Latency is measured from when a request was due, not from when it was sent, so a stall
shows up as the latency of every request that waited behind it (no coordinated omission).
Every second it samples the server's RSS (/proc/PID/status VmRSS), open file descriptors
(/proc/PID/fd) and CPU, when it started the server itself or was given --pid. It also
records how far the client itself fell behind its schedule: on a busy machine that lag,
not the server, explains the tail (it warns past 10 ms at p99). `--mix events=0,...`
changes the weights, to tell which kind moves a curve.

It prints a table per route (requests, errors, p50/p95/p99/max ms) and the memory and fd
summary (first-minute mean against last-minute mean, least-squares slope per minute; the
first and last fifth for runs under two minutes), and writes to --out: samples.csv,
latency.csv, summary.json and soak.svg (RSS, fds and p99 per 10 s window, drawn by hand).

It exits 1, naming why, on any error (a non-2xx answer, a timeout, a connection error, or a
decision answered fail-closed for the whole snapshot), on a p99 past its bound, or on RSS
or fd growth past its bound. The service folds every event it stores into memory, by
design, so RSS growth is judged beyond --rss-per-event-bytes for each event written (the
read-only mix, --mix events=0,reports=0, shows the curve without data).

It must never talk to anything but loopback servers it started or was given, never send
more than the fixed schedule (no retries, no unbounded concurrency), and it stops the server
it started on exit (SIGTERM, so acknowledged writes finish). Data is invented placeholders.
"""

import argparse
import csv
import http.client
import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

import guardrail_serve

PREFIX = "soak"
DECISION_KINDS = ("decide", "text_check", "autocomplete_filter")
KINDS = DECISION_KINDS + ("events", "reports", "media_match")
# Share of the schedule per kind: mostly reads, as discovery traffic is.
MIX = {"decide": 45, "text_check": 12, "autocomplete_filter": 8, "events": 15, "reports": 8, "media_match": 12}
FAMILIES = {"decisions": DECISION_KINDS, "writes": ("events", "reports"), "matches": ("media_match",)}
SURFACES = ("account_suggestions", "similar_accounts", "feed", "search", "autocomplete",
            "related_hashtags", "message_requests")
WORDS = ("sunset", "hiking", "cooking", "garden", "bicycle", "museum", "football", "guitar",
         "recipes", "coffee", "mountains", "sketching", "chess", "pottery", "astronomy", "running")
PLACES = ("search", "hashtag", "autocomplete", "bio", "caption", "comment", "username")
CATEGORIES = ("spam", "harassment", "impersonation", "other", "child_sexual_exploitation")
# An invented term on the soak platform's own ban list: two cluster bios carry it, so the
# text guard confirms them and the network map has seeds to propagate from.
SOAK_TERM = "zandrelq"
DEFAULT_POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "guardrail-text",
                              "policies", "default.toml")


def parse_mix(text):
    """`kind=weight,...` over MIX's defaults (`events=0` leaves events out)."""
    mix = dict(MIX)
    for part in filter(None, text.split(",")):
        kind, _, weight = part.partition("=")
        if kind not in MIX or not weight.isdigit():
            raise argparse.ArgumentTypeError(f"{part!r}: expected KIND=INTEGER with KIND one of {', '.join(KINDS)}")
        mix[kind] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("every weight is 0: nothing to send")
    return mix


# ---------------------------------------------------------------- the server and the client

class Client:
    """One persistent keep-alive connection; reopened after any failure."""

    def __init__(self, host, port, token, timeout):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.connection = None

    def call(self, method, path, body=None):
        """Returns (status, body bytes); raises OSError/HTTPException after closing."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        try:
            self.connection.request(method, path, body=data, headers=headers)
            answer = self.connection.getresponse()
            text = answer.read()
            if answer.will_close:
                self.close()
            return answer.status, text
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def start_server(binary, ledger_dir, log_path, token=None):
    """Starts `guardrail serve` on a SQLite ledger; returns (process, host, port, token)."""
    db = os.path.join(ledger_dir, "ledger.db")
    if token is None:
        token = guardrail_serve.admin_token(binary, db)
    process, (host, port) = guardrail_serve.start(binary, db, log_path)
    return process, host, port, token


def start_with_policy(binary, ledger_dir, log_path):
    """Publishes the default text policy plus SOAK_TERM, then restarts: the service reads
    the text policy once, at its first load, so it must be in the ledger before that."""
    try:
        with open(DEFAULT_POLICY) as text:
            policy = text.read()
    except OSError as e:
        raise SystemExit(f"soak: cannot read the default text policy at {DEFAULT_POLICY}: {e}")
    policy += (f'\n# The soak platform\'s own ban list: one invented term.\n[[term]]\nid = "platform-banned-{SOAK_TERM}"\n'
               f'text = "{SOAK_TERM}"\ntier = "block"\ncategory = "platform.banned"\nnotes = "Invented for the soak."\n')
    process, host, port, token = start_server(binary, ledger_dir, log_path)
    try:
        status, text = Client(host, port, token, 60).call("POST", "/v1/events", [
            {"id": f"{PREFIX}-policy", "type": "policy_published", "at": int(time.time()), "version": 1,
             "toml": policy, "actor": "scripts/soak.py"}])
    finally:
        guardrail_serve.stop(process)
    if status != 200:
        raise SystemExit(f"soak: publishing the soak's text policy: POST /v1/events answered {status}: {text[:300]!r}")
    return start_server(binary, ledger_dir, log_path, token)


# ---------------------------------------------------------------- the platform

class World:
    """The placeholder platform the seed created: ids the load refers to."""

    def __init__(self, run, accounts, rng):
        self.run = run
        self.accounts = [f"{PREFIX}-{run}-a{i}" for i in range(accounts)]
        self.handles = {a: f"{PREFIX}_{run}_{i}" for i, a in enumerate(self.accounts)}
        self.ages = {a: (rng.randint(13, 17) if rng.random() < 0.15 else rng.randint(18, 60)) for a in self.accounts}
        self.posts = []
        # A dense adult cluster that follows many minors, two of it confirmed by the text
        # guard: the map has something to find and decisions exercise the network rules.
        self.cluster = [a for a in self.accounts if self.ages[a] >= 18][:12]

    def seed_events(self, rng, at):
        events = []
        for a in self.accounts:
            bio = " and ".join(rng.sample(WORDS, 2))
            if a in self.cluster[:2]:
                bio = f"{SOAK_TERM} {bio}"
            events.append({"id": f"{a}-created", "type": "account_created", "at": at, "account": a,
                           "handle": self.handles[a], "declared_age": self.ages[a],
                           "bio": bio, "interests": rng.sample(WORDS, 3)})
        minors = [a for a in self.accounts if self.ages[a] < 18]
        cluster = self.cluster
        edges = set()
        for a in self.accounts:
            for b in rng.sample(self.accounts, 6):
                if a != b:
                    edges.add((a, b))
        for a in cluster:
            edges.update((a, b) for b in cluster if a != b)
            edges.update((a, b) for b in rng.sample(minors, min(len(minors), 15)))
        for n, (a, b) in enumerate(sorted(edges)):
            events.append({"id": f"{PREFIX}-{self.run}-f{n}", "type": "follow", "at": at + 1, "account": a, "target": b})
        for a in self.accounts:
            for k in range(2):
                post = f"{a}-p{k}"
                self.posts.append(post)
                words = rng.sample(WORDS, 3)
                events.append({"id": f"{post}-posted", "type": "post", "at": at + 2, "account": a, "post": post,
                               "text": f"a day of {words[0]} and {words[1]}", "hashtags": [f"#{w}" for w in words]})
        return events


def seed(client, world, rng, require_map):
    """Sends the platform and re-maps; returns (snapshot version decisions read, events, map)."""
    events = world.seed_events(rng, int(time.time()) - 3600)
    for start in range(0, len(events), 500):
        status, text = client.call("POST", "/v1/events", events[start:start + 500])
        if status != 200:
            raise SystemExit(f"soak: seeding: POST /v1/events answered {status}: {text[:300]!r}")
    status, text = client.call("POST", "/v1/admin/remap", {})
    if status != 200:
        raise SystemExit(f"soak: seeding: POST /v1/admin/remap answered {status}: {text[:300]!r}")
    snapshot = json.loads(text)["snapshot"]
    status, text = client.call("POST", "/v1/decide/account_suggestions",
                               {"viewer": world.accounts[0], "candidates": world.accounts[1:4]})
    answer = json.loads(text) if status == 200 else {}
    if status != 200 or not isinstance(answer.get("snapshot"), int) or answer["snapshot"] < snapshot:
        raise SystemExit(f"soak: seeding: a decision after the re-map does not read snapshot v{snapshot}: {status} {text[:300]!r}")
    status, text = client.call("GET", "/v1/network/map")
    mapped = json.loads(text) if status == 200 else {}
    mapped = {"map_version": mapped.get("map_version"), "accounts": mapped.get("accounts"),
              "seeds": len(mapped.get("seeds") or []), "suspects": mapped.get("suspects_total"),
              "network_size": (mapped.get("size") or {}).get("accounts"), "reason": mapped.get("reason")}
    if status != 200 or not mapped["seeds"]:
        # Without a map every account decision fails closed on network membership and is
        # written to the decision log: a load unlike a mapped platform's.
        why = f"the re-map published no network map ({status}: {mapped.get('reason') or text[:200]!r})"
        if require_map:
            raise SystemExit(f"soak: seeding: {why}")
        print(f"soak: WARNING: {why}; account decisions will fail closed on network membership")
    return snapshot, len(events), mapped


def build_request(kind, n, rng, world, batch):
    """The n-th request of `kind`: (label, path, body). Ids are new for every n."""
    pick = world.accounts
    if kind == "decide":
        surface = SURFACES[n % len(SURFACES)]
        word = rng.choice(WORDS)
        if surface in ("autocomplete", "related_hashtags"):
            body = {"query": word[:3], "candidates": [f"#{w}" if surface == "related_hashtags" else w
                                                      for w in rng.sample(WORDS, 8)]}
        elif surface == "search":
            body = {"query": word, "viewer": rng.choice(pick), "candidates": rng.sample(pick, 10)}
        elif surface == "message_requests":
            body = {"sender": rng.choice(pick), "candidates": rng.sample(pick, 5)}
        else:
            body = {"viewer": rng.choice(pick), "candidates": rng.sample(pick, 20)}
        return f"decide/{surface}", f"/v1/decide/{surface}", body
    if kind == "text_check":
        words = rng.sample(WORDS, 2)
        text = rng.choice((f"{words[0]} {words[1]}", f"#{words[0]}{words[1]}", f"{words[0].upper()} 4 {words[1]}!",
                           f"{words[0][:4]}0{words[0][4:]}", f"{words[0]}\u200b{words[1]}"))
        return "text/check", "/v1/text/check", {"text": text, "place": rng.choice(PLACES)}
    if kind == "autocomplete_filter":
        prefix = rng.choice(WORDS)[:2]
        return "autocomplete/filter", "/v1/autocomplete/filter", {"prefix": prefix, "suggestions": rng.sample(WORDS, 6)}
    if kind == "events":
        now, events = int(time.time()), []
        for j in range(batch):
            event_id, a = f"{PREFIX}-{world.run}-e{n}-{j}", rng.choice(pick)
            roll = rng.random()
            if roll < 0.3:
                events.append({"id": event_id, "type": "follow", "at": now, "account": a, "target": rng.choice(pick)})
            elif roll < 0.55:
                events.append({"id": event_id, "type": "like", "at": now, "account": a, "post": rng.choice(world.posts)})
            elif roll < 0.75:
                events.append({"id": event_id, "type": "view", "at": now, "account": a, "target": rng.choice(pick)})
            elif roll < 0.85:
                events.append({"id": event_id, "type": "comment", "at": now, "account": a,
                               "post": rng.choice(world.posts), "text": f"nice {rng.choice(WORDS)}"})
            elif roll < 0.95:
                events.append({"id": event_id, "type": "search", "at": now, "account": a, "query": rng.choice(WORDS)})
            else:
                events.append({"id": event_id, "type": "post", "at": now, "account": a, "post": f"{event_id}-post",
                               "text": f"more {rng.choice(WORDS)}", "hashtags": [f"#{rng.choice(WORDS)}"]})
        return "events", "/v1/events", events
    if kind == "reports":
        subject = {"account": rng.choice(pick)} if n % 3 else {"post": rng.choice(world.posts)}
        return "reports", "/v1/reports", {"client_key": f"{PREFIX}-{world.run}-r{n}", "reporter": rng.choice(pick),
                                          "subject": subject, "category": rng.choice(CATEGORIES),
                                          "text": "placeholder report from the soak"}
    hashes = ["".join(rng.choice("0123456789abcdef") for _ in range(64)) for _ in range(rng.randint(1, 4))]
    return "media/match", "/v1/media/match", {"hashes": hashes}


def judge(kind, status, text):
    """None when the answer is a success, else why it is an error."""
    if not 200 <= status < 300:
        return f"HTTP {status}: {text[:160].decode(errors='replace')}"
    if kind in ("decide", "autocomplete_filter"):
        # A 200 without a snapshot is the service failing closed because no fresh snapshot
        # was there: a stall hidden behind a success status, so it counts as an error here.
        try:
            answer = json.loads(text)
        except ValueError as e:
            return f"answer is not JSON: {e}"
        if not isinstance(answer.get("snapshot"), int):
            return f"failed closed without a snapshot: {answer.get('fail_closed_reason') or 'no reason given'}"
    return None


# ---------------------------------------------------------------- the load

class Load:
    """A fixed schedule served by a fixed pool; everything measured from the due time."""

    def __init__(self, args, host, port, token, world):
        self.args, self.host, self.port, self.token, self.world = args, host, port, token, world
        self.total = int(args.seconds * args.rate)
        kinds = [k for k in KINDS for _ in range(args.mix[k])]
        shuffle = random.Random(args.seed)
        self.plan = [shuffle.choice(kinds) for _ in range(self.total)]
        self.lock = threading.Lock()
        self.next_slot = 0
        self.start = None
        self.done = 0
        self.errors = 0
        self.latency = {k: [] for k in KINDS}          # (due offset s, latency ms)
        self.routes = {}                               # label -> [requests, errors]
        self.error_counts = {k: {} for k in KINDS}     # why -> count
        self.lag = []                                  # send time minus due time, ms
        self.unsent = 0

    def take(self):
        with self.lock:
            if self.next_slot >= self.total:
                return None
            due = self.start + self.next_slot / self.args.rate
            # Past the grace, stop sending: what is left is counted, not sent late forever.
            if time.monotonic() > self.start + self.args.seconds + self.args.grace:
                self.unsent += self.total - self.next_slot
                self.errors += self.total - self.next_slot
                self.next_slot = self.total
                return None
            slot = self.next_slot
            self.next_slot += 1
            return slot, due

    def worker(self, index, ready):
        client = Client(self.host, self.port, self.token, self.args.timeout)
        rng = random.Random(self.args.seed * 1000 + index)
        # Every connection is open before the first sample, so the fd curve starts where
        # it should stay; a failure here shows again on this connection's first request.
        try:
            client.call("GET", "/healthz")
        except (OSError, http.client.HTTPException):
            pass
        ready.wait()
        try:
            while True:
                taken = self.take()
                if taken is None:
                    return
                slot, due = taken
                kind = self.plan[slot]
                label, path, body = build_request(kind, slot, rng, self.world, self.args.batch)
                data = json.dumps(body).encode()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                sent = time.monotonic()
                try:
                    status, text = client.call("POST", path, data)
                    why = judge(kind, status, text)
                except TimeoutError:
                    why = f"timeout after {self.args.timeout} s"
                except (OSError, http.client.HTTPException) as e:
                    why = f"connection error: {type(e).__name__}: {e}"
                finished = time.monotonic()
                with self.lock:
                    self.latency[kind].append((due - self.start, (finished - due) * 1000.0))
                    self.lag.append((sent - due) * 1000.0)
                    route = self.routes.setdefault(label, [0, 0])
                    route[0] += 1
                    self.done += 1
                    if why is not None:
                        route[1] += 1
                        self.errors += 1
                        counts = self.error_counts[kind]
                        counts[why] = counts.get(why, 0) + 1
        finally:
            client.close()

    def run(self, sampler):
        ready = threading.Barrier(self.args.connections + 1)
        threads = [threading.Thread(target=self.worker, args=(i, ready), daemon=True)
                   for i in range(self.args.connections)]
        for thread in threads:
            thread.start()
        self.start = time.monotonic() + 0.2
        ready.wait()
        sampler.begin(self.start, self)
        for thread in threads:
            thread.join()
        sampler.end()


class Sampler:
    """RSS, fds and CPU of the server process once a second (nothing without a pid)."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []            # (t, rss_kib, fds, requests, errors, cpu_pct)
        self.stopping = threading.Event()
        self.thread = None
        self.failure = None
        self.ticks = os.sysconf("SC_CLK_TCK")

    def read(self):
        with open(f"/proc/{self.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        with open(f"/proc/{self.pid}/stat") as stat:
            # utime and stime are fields 14 and 15; the name before ")" may hold spaces.
            fields = stat.read().rsplit(")", 1)[1].split()
        return rss, len(os.listdir(f"/proc/{self.pid}/fd")), (int(fields[11]) + int(fields[12])) / self.ticks

    def begin(self, start, load):
        def loop():
            tick, previous = 0, None
            while not self.stopping.is_set():
                target = start + tick
                wait = target - time.monotonic()
                if wait > 0 and self.stopping.wait(wait):
                    break
                rss, fds, cpu_pct = None, None, None
                if self.pid:
                    try:
                        rss, fds, cpu = self.read()
                    except (OSError, StopIteration, IndexError, ValueError) as e:
                        self.failure = f"sampling /proc/{self.pid} at t={tick} s failed: {e}"
                        return
                    now = time.monotonic()
                    if previous:
                        cpu_pct = round(100.0 * (cpu - previous[0]) / (now - previous[1]), 1)
                    previous = (cpu, now)
                with load.lock:
                    self.samples.append((tick, rss, fds, load.done, load.errors, cpu_pct))
                tick += 1
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def end(self):
        self.stopping.set()
        self.thread.join()


# ---------------------------------------------------------------- figures

def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)]


def stats(values, requests, errors):
    ordered = sorted(values)
    return {"requests": requests, "errors": errors, "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95), "p99_ms": percentile(ordered, 99),
            "max_ms": ordered[-1] if ordered else None}


def slope_per_minute(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    return 60.0 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def drift(samples, seconds):
    """First window mean, last window mean and slope of RSS and fds over the load."""
    within = [s for s in samples if s[1] is not None and s[0] <= seconds]
    if len(within) < 5:
        return None
    window = 60 if seconds >= 120 else max(1, seconds // 5)
    first = [s for s in within if s[0] < window]
    last = [s for s in within if s[0] >= within[-1][0] - window + 1]
    out = {"window_s": window, "samples": len(within), "span_s": within[-1][0] + 1}
    for name, column in (("rss_kib", 1), ("fds", 2)):
        first_mean = sum(s[column] for s in first) / len(first)
        last_mean = sum(s[column] for s in last) / len(last)
        out[name] = {"first_mean": first_mean, "last_mean": last_mean,
                     "growth": last_mean - first_mean,
                     "growth_ratio": (last_mean - first_mean) / first_mean if first_mean else None,
                     "slope_per_min": slope_per_minute([(s[0], s[column]) for s in within]),
                     "max": max(s[column] for s in within)}
    return out


def p99_windows(load, width=10):
    """p99 latency per family per `width`-second window of due time: {family: [(t, ms)]}."""
    out = {}
    for family, kinds in FAMILIES.items():
        buckets = {}
        for kind in kinds:
            for due, ms in load.latency[kind]:
                buckets.setdefault(int(due // width), []).append(ms)
        out[family] = [((b + 0.5) * width, percentile(sorted(v), 99)) for b, v in sorted(buckets.items())]
    return out


# ---------------------------------------------------------------- the picture

def nice_ticks(low, high, count=5):
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if step * m >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def panel(x0, y0, w, h, title, y_label, series, x_max, marks=()):
    """One chart: series is [(name, colour, [(x, y)])], marks dashed (x_from, x_to, y, label)."""
    values = [y for _, _, pts in series for _, y in pts if y is not None] + [m[2] for m in marks]
    low, high = (min(values), max(values)) if values else (0, 1)
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 1)
    y_ticks = nice_ticks(max(0, low - pad), high + pad)
    x_ticks = nice_ticks(0, x_max)
    y_min, y_max, x_top = y_ticks[0], y_ticks[-1], x_ticks[-1]

    def sx(x):
        return x0 + w * x / x_top

    def sy(y):
        return y0 + h - h * (y - y_min) / ((y_max - y_min) or 1)

    out = [f'<text x="{x0}" y="{y0 - 8}" font-weight="bold">{title}</text>',
           f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#444"/>']
    for t in y_ticks:
        out.append(f'<line x1="{x0}" y1="{sy(t):.1f}" x2="{x0 + w}" y2="{sy(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in x_ticks:
        out.append(f'<line x1="{sx(t):.1f}" y1="{y0 + h}" x2="{sx(t):.1f}" y2="{y0 + h + 4}" stroke="#444"/>')
        out.append(f'<text x="{sx(t):.1f}" y="{y0 + h + 17}" text-anchor="middle">{t:g}</text>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle">time since the load began (s)</text>')
    out.append(f'<text transform="translate({x0 - 52},{y0 + h / 2}) rotate(-90)" text-anchor="middle">{y_label}</text>')
    for i, (name, colour, pts) in enumerate(series):
        pts = [(x, y) for x, y in pts if y is not None]
        if pts:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        if len(series) > 1:
            lx = x0 + w - 110 * (len(series) - i)
            out.append(f'<line x1="{lx}" y1="{y0 - 12}" x2="{lx + 20}" y2="{y0 - 12}" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<text x="{lx + 26}" y="{y0 - 8}">{name}</text>')
    for x_from, x_to, y, label in marks:
        out.append(f'<line x1="{sx(x_from):.1f}" y1="{sy(y):.1f}" x2="{sx(x_to):.1f}" y2="{sy(y):.1f}" '
                   'stroke="#000" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{(sx(x_from) + sx(x_to)) / 2:.1f}" y="{sy(y) - 5:.1f}" text-anchor="middle">{label}</text>')
    if not values:
        out.append(f'<text x="{x0 + w / 2}" y="{y0 + h / 2}" text-anchor="middle">not sampled</text>')
    return out


def draw_svg(path, samples, windows, x_max, heading, drifted):
    width, panel_h, left = 960, 200, 80
    body = [f'<text x="{left}" y="24" font-size="15" font-weight="bold">{heading}</text>']
    memory = [(s[0], s[1] / 1024.0) for s in samples if s[1] is not None]
    fds = [(s[0], s[2]) for s in samples if s[2] is not None]
    rss_marks, fd_marks = (), ()
    if drifted:
        # The two windows the growth bound compares, as dashed means.
        window, end = drifted["window_s"], drifted["span_s"]
        spans = ((0, window, "first"), (end - window, end, "last"))
        rss_marks = [(a, b, drifted["rss_kib"][f"{n}_mean"] / 1024.0, f"{n} {window} s mean") for a, b, n in spans]
        fd_marks = [(a, b, drifted["fds"][f"{n}_mean"], f"{n} {window} s mean") for a, b, n in spans]
    body += panel(left, 60, width - left - 30, panel_h, "Server RSS", "RSS (MiB)", [("rss", "#1f77b4", memory)],
                  x_max, rss_marks)
    body += panel(left, 330, width - left - 30, panel_h, "Open file descriptors", "fds", [("fds", "#2ca02c", fds)],
                  x_max, fd_marks)
    colours = {"decisions": "#d62728", "writes": "#9467bd", "matches": "#ff7f0e"}
    body += panel(left, 600, width - left - 30, panel_h, "p99 latency per 10 s window (from due time)", "p99 (ms)",
                  [(f, colours[f], windows[f]) for f in FAMILIES], x_max)
    with open(path, "w") as out:
        out.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="860" viewBox="0 0 {width} 860" '
                  'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n')
        out.write("\n".join(body))
        out.write("\n</svg>\n")


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "release", "guardrail"))
    parser.add_argument("--url", help="an already running server (loopback) instead of starting one")
    parser.add_argument("--token", help="an admin token for --url")
    parser.add_argument("--pid", type=int, help="the --url server's process id, to sample its RSS and fds")
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, all kinds together")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (the most in flight)")
    parser.add_argument("--accounts", type=int, default=300, help="placeholder accounts seeded")
    parser.add_argument("--batch", type=int, default=5, help="events per POST /v1/events")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as a timeout")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds past the schedule before unsent requests count as errors")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", type=parse_mix, default=dict(MIX),
                        help=f"weights per kind, e.g. events=0,reports=0 (default {','.join(f'{k}={v}' for k, v in MIX.items())})")
    parser.add_argument("--out", help="where results go (a new temporary directory by default)")
    parser.add_argument("--p99-decide-ms", type=float, default=50.0)
    parser.add_argument("--p99-ms", type=float, default=250.0)
    parser.add_argument("--max-rss-growth", type=float, default=0.10,
                        help="fraction, first to last minute, beyond what the data written explains")
    parser.add_argument("--rss-per-event-bytes", type=float, default=256.0,
                        help="memory each event written may keep (the service folds what it stores into memory)")
    parser.add_argument("--max-fd-growth", type=float, default=5.0, help="descriptors, first to last minute")
    args = parser.parse_args()
    if args.seconds < 5 or args.rate <= 0 or args.connections < 1:
        raise SystemExit("soak: needs --seconds >= 5, --rate > 0 and --connections >= 1")
    process, ledger_dir = None, None
    if args.url:
        parsed = urllib.parse.urlsplit(args.url)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"soak: --url {args.url}: only a plain-http loopback server (this is a load test)")
        if not args.token:
            raise SystemExit("soak: --url needs --token (an admin token: seeding re-maps)")
        host, port, token, pid = parsed.hostname, parsed.port or 80, args.token, args.pid
    elif not os.access(args.binary, os.X_OK):
        raise SystemExit(f"soak: no guardrail binary at {args.binary} (--binary)")
    out_dir = args.out or tempfile.mkdtemp(prefix="guardrail-soak-")
    os.makedirs(out_dir, exist_ok=True)
    if not args.url:
        ledger_dir = tempfile.mkdtemp(prefix="guardrail-soak-ledger-")
        process, host, port, token = start_with_policy(args.binary, ledger_dir, os.path.join(out_dir, "serve.log"))
        pid = process.pid

    problems = []
    try:
        rng = random.Random(args.seed)
        world = World(f"{random.getrandbits(24):06x}", args.accounts, rng)
        began = time.monotonic()
        snapshot, seeded, mapped = seed(Client(host, port, token, 120), world, rng, require_map=process is not None)
        print(f"soak: {host}:{port}; seeded {args.accounts} accounts ({seeded} events) and re-mapped to snapshot "
              f"v{snapshot} in {time.monotonic() - began:.1f} s (map: {mapped['seeds']} seeds, "
              f"{mapped['suspects']} suspects, {mapped['network_size']} in the network)")
        print(f"soak: {args.rate:g} requests/s for {args.seconds} s over {args.connections} connections"
              f"{'' if pid else ' (no pid: memory and fds not sampled)'}")
        load = Load(args, host, port, token, world)
        sampler = Sampler(pid)
        load.run(sampler)
        if process is not None and process.poll() is not None:
            problems.append(f"the server exited with {process.returncode} during the load")
    finally:
        if process is not None:
            guardrail_serve.stop(process)

    # Tables.
    rows = {k: stats([ms for _, ms in load.latency[k]], len(load.latency[k]),
                     sum(load.error_counts[k].values())) for k in KINDS}
    for family, kinds in (("decisions (all)", DECISION_KINDS), ("all", KINDS)):
        rows[family] = stats([ms for k in kinds for _, ms in load.latency[k]],
                             sum(rows[k]["requests"] for k in kinds), sum(rows[k]["errors"] for k in kinds))
    routes = {label: {"requests": r, "errors": e} for label, (r, e) in sorted(load.routes.items())}
    lag = sorted(load.lag)
    print(f"\n{'kind':<20}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, row in rows.items():
        cells = "".join(f"{row[c]:>9.1f}" if row[c] is not None else f"{'-':>9}" for c in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        print(f"{name:<20}{row['requests']:>9}{row['errors']:>8}{cells}")
    print(f"(latency from each request's due time; the client's own lag behind the schedule: "
          f"p99 {percentile(lag, 99) or 0:.1f} ms, max {lag[-1] if lag else 0:.1f} ms)")
    lag_p99 = percentile(lag, 99) or 0
    if lag_p99 > 10:
        # The client sends late when it is starved of CPU: latencies then include the load
        # generator's own stalls, and the machine was too busy for a clean measurement.
        print(f"soak: WARNING: the client itself ran {lag_p99:.0f} ms behind its schedule at p99 "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): run it on a quieter machine")
    if load.unsent:
        print(f"soak: {load.unsent} scheduled requests were never sent (the schedule fell more than {args.grace:g} s behind)")

    memory = drift(sampler.samples, args.seconds)
    if memory:
        r, f = memory["rss_kib"], memory["fds"]
        print(f"\nserver pid {pid}, {memory['samples']} samples; first vs last {memory['window_s']} s:")
        print(f"  RSS  {r['first_mean'] / 1024:8.1f} MiB -> {r['last_mean'] / 1024:8.1f} MiB "
              f"({100 * r['growth_ratio']:+.1f}%), slope {r['slope_per_min'] / 1024:+.2f} MiB/min, max {r['max'] / 1024:.1f} MiB")
        print(f"  fds  {f['first_mean']:8.1f}     -> {f['last_mean']:8.1f}     "
              f"({f['growth']:+.1f}), slope {f['slope_per_min']:+.2f} /min, max {f['max']}")
        # Stored data is expected to cost memory (the service folds every event into its
        # state); growth per event written tells data from a leak.
        written = (rows["events"]["requests"] - rows["events"]["errors"]) * args.batch + \
            rows["reports"]["requests"] - rows["reports"]["errors"]
        if written and r["slope_per_min"] is not None:
            memory["rss_bytes_per_event_written"] = r["slope_per_min"] * 1024 / (written / (args.seconds / 60.0))
            print(f"  RSS slope per event written (events and reports): {memory['rss_bytes_per_event_written']:.0f} bytes "
                  f"({written} written; --mix events=0,reports=0 tells data from a leak)")
            if r["first_mean"]:
                between = written * max(args.seconds - memory["window_s"], 0) / args.seconds
                beyond_kib = (r["last_mean"] - r["first_mean"]) - between * args.rss_per_event_bytes / 1024
                memory["rss_growth_beyond_data_ratio"] = beyond_kib / r["first_mean"]
                print(f"  RSS growth beyond {args.rss_per_event_bytes:g} bytes per event written: "
                      f"{100 * memory['rss_growth_beyond_data_ratio']:+.1f}%")
        cpu = [s[5] for s in sampler.samples if s[5] is not None]
        memory["server_cpu_pct"] = {"mean": sum(cpu) / len(cpu), "max": max(cpu)} if cpu else None
        if cpu:
            print(f"  CPU  {memory['server_cpu_pct']['mean']:.0f}% of one core on average, "
                  f"{memory['server_cpu_pct']['max']:.0f}% at most")

    # Verdict.
    if sampler.failure:
        problems.append(sampler.failure)
    for kind in KINDS:
        for why, count in sorted(load.error_counts[kind].items(), key=lambda item: -item[1]):
            problems.append(f"{kind}: {count} errors: {why}")
    if load.unsent:
        problems.append(f"{load.unsent} scheduled requests never sent: the service fell {args.grace:g} s behind the schedule")
    for kind in KINDS:
        bound = min(args.p99_ms, args.p99_decide_ms) if kind in DECISION_KINDS else args.p99_ms
        p99 = rows[kind]["p99_ms"]
        if p99 is not None and p99 > bound:
            problems.append(f"{kind}: p99 {p99:.1f} ms is over its bound of {bound:g} ms")
    if memory:
        r, f = memory["rss_kib"], memory["fds"]
        # The service keeps what it stores folded in memory, by design: growth up to
        # --rss-per-event-bytes for each event written between the two windows is data;
        # only the rest counts against --max-rss-growth.
        growth = memory.get("rss_growth_beyond_data_ratio", r["growth_ratio"])
        if growth is not None and growth > args.max_rss_growth:
            problems.append(f"RSS grew {100 * growth:.1f}% beyond the data written from the first to the last "
                            f"{memory['window_s']} s ({r['first_mean'] / 1024:.1f} -> {r['last_mean'] / 1024:.1f} MiB, "
                            f"{args.rss_per_event_bytes:g} bytes allowed per event written), over {100 * args.max_rss_growth:g}%")
        if f["growth"] > args.max_fd_growth:
            problems.append(f"open fds grew by {f['growth']:.1f} from the first to the last {memory['window_s']} s, "
                            f"over {args.max_fd_growth:g}")
    elif pid:
        problems.append("too few memory samples to judge growth")

    # Files.
    with open(os.path.join(out_dir, "samples.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("t", "rss_kib", "fds", "requests_so_far", "errors_so_far", "server_cpu_pct"))
        writer.writerows(("" if v is None else v for v in s) for s in sampler.samples)
    with open(os.path.join(out_dir, "latency.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("kind", "requests", "errors", "p50_ms", "p95_ms", "p99_ms", "max_ms"))
        for name, row in rows.items():
            writer.writerow([name] + ["" if row[c] is None else (round(row[c], 3) if isinstance(row[c], float) else row[c])
                                      for c in ("requests", "errors", "p50_ms", "p95_ms", "p99_ms", "max_ms")])
    windows = p99_windows(load)
    summary = {"config": {k: v for k, v in vars(args).items() if k not in ("token", "mix")}, "server": f"{host}:{port}", "pid": pid,
               "snapshot_after_seed": snapshot, "network_map": mapped, "mix": args.mix, "kinds": rows, "routes": routes,
               "errors": {k: v for k, v in load.error_counts.items() if v}, "unsent": load.unsent,
               "client_lag_ms": {"p99": percentile(lag, 99), "max": lag[-1] if lag else None},
               "load_average_at_end": os.getloadavg(), "cpus": os.cpu_count(),
               "memory": memory, "p99_per_10s": windows, "problems": problems, "ok": not problems}
    with open(os.path.join(out_dir, "summary.json"), "w") as out:
        json.dump(summary, out, indent=2)
    heading = (f"guardrail soak: {args.rate:g} req/s for {args.seconds} s, {rows['all']['requests']} requests, "
               f"{rows['all']['errors']} errors")
    draw_svg(os.path.join(out_dir, "soak.svg"), sampler.samples, windows,
             max(args.seconds, sampler.samples[-1][0] if sampler.samples else 1), heading, memory)
    print(f"\nsoak: results in {out_dir} (samples.csv, latency.csv, summary.json, soak.svg)")

    for problem in problems:
        print(f"soak: PROBLEM: {problem}")
    if problems:
        if ledger_dir:
            print(f"soak: ledger kept in {ledger_dir}")
        return 1
    if ledger_dir:
        shutil.rmtree(ledger_dir, ignore_errors=True)
    print("soak: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
