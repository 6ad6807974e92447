#!/usr/bin/env python3
"""A real full disk and a real read-only file system under `guardrail serve`.

    python3 scripts/disk_faults.py [--binary target/debug/guardrail]

Needs root (it mounts a small tmpfs; CI runs as root). It serves a SQLite ledger that lives
on a 2 MiB tmpfs and proves, against the real kernel errors rather than injected ones:

- full disk: events are sent until the file system is full; every batch the service
  refuses is answered 503, and every event it answered `stored` is in the ledger
  afterwards; decisions and health are answered throughout; once the tmpfs is grown,
  the refused batch is stored whole (`stored`, never `duplicate`: nothing of it was kept);
- read-only: with GUARDRAIL_TEST_PG_URL set (run it under scripts/with-postgres.sh), a
  service on PostgreSQL whose database turns read-only under it (as a failover to a hot
  standby does: `default_transaction_read_only` on, the configuration reloaded) answers
  intake 503 and acknowledges nothing while decisions go on; once writable, the refused
  batch is stored whole;
- afterwards `guardrail ledger verify` passes and each ledger holds exactly the events
  that were acknowledged. (Linux will not remount a file system read-only while a file
  on it is open for writing, so the read-only case uses the database's own switch.)

It must never touch a file system it did not mount or a database it was not given, and it
unmounts and resets what it changed on exit.
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import guardrail_serve
from guardrail_serve import request

T0 = int(time.time()) - 3600


def batch(start, size):
    # Bios of ~1 KiB fill a 2 MiB file system in a few hundred events.
    return [{"id": f"disk-{n}", "type": "account_created", "at": T0, "account": f"d{n}",
             "handle": f"placeholder_{n}", "declared_age": 30, "bio": f"filler {n} " + "x" * 1000}
            for n in range(start, start + size)]


class Intake:
    """One running service, and every event id it acknowledged."""

    def __init__(self, binary, db, log_path, problems):
        self.token = guardrail_serve.admin_token(binary, db)
        self.process, self.address = guardrail_serve.start(binary, db, log_path)
        self.acknowledged = set()
        self.problems = problems

    def send(self, events):
        status, answer = request(self.address, "POST", "/v1/events", self.token, events)
        if status == 200:
            for event, outcome in zip(events, answer["events"]):
                if outcome["outcome"] in ("stored", "duplicate"):
                    self.acknowledged.add(event["id"])
        return status, answer

    def retry_until_stored(self, events, what):
        status, answer = None, None
        deadline = time.time() + 15
        while time.time() < deadline:
            status, answer = self.send(events)
            if status == 200:
                break
            time.sleep(0.2)
        if status != 200:
            self.problems.append(f"{what}: the refused batch is still refused: {status} {answer}")
        elif answer["stored"] != len(events):
            self.problems.append(f"{what}: the refused batch was partly kept: {answer['stored']} of {len(events)} stored on retry")
        else:
            print(f"disk_faults: {what}: the refused batch stored whole on retry (nothing of it had been kept)")

    def still_serving(self, when):
        ask = {"viewer": "d0", "candidates": ["d1", "d2"]}
        status, decided = request(self.address, "POST", "/v1/decide/account_suggestions", self.token, ask)
        if status != 200 or len((decided or {}).get("verdicts", [])) != 2:
            self.problems.append(f"{when}: a decision answered {status}: {decided}")
        if request(self.address, "GET", "/healthz")[0] != 200:
            self.problems.append(f"{when}: /healthz is not 200")

    def stop(self):
        guardrail_serve.stop(self.process)

    def check_ledger(self, binary, db, stored, what):
        verified = subprocess.run([binary, "ledger", "verify", "--db", db], capture_output=True, text=True)
        if verified.returncode != 0:
            self.problems.append(f"{what}: ledger verify failed: {verified.stdout}{verified.stderr}")
        lost = self.acknowledged - stored
        if lost:
            self.problems.append(f"{what}: {len(lost)} acknowledged events are not in the ledger, e.g. {sorted(lost)[:3]}")
        extra = stored - self.acknowledged
        if extra:
            self.problems.append(f"{what}: {len(extra)} events are in the ledger that were never acknowledged, e.g. {sorted(extra)[:3]}")
        if not lost and not extra:
            print(f"disk_faults: {what}: the ledger holds exactly the {len(stored)} acknowledged events, and its chain verifies")


def full_disk(binary, work, problems):
    mount = os.path.join(work, "fs")
    os.mkdir(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], check=True)
    db = os.path.join(mount, "ledger.db")
    intake = None
    try:
        intake = Intake(binary, db, os.path.join(work, "sqlite.log"), problems)
        status, answer = intake.send(batch(0, 3))
        if status != 200:
            raise SystemExit(f"disk_faults: the first events were refused: {status} {answer}")
        refused = None
        for start in range(3, 3 + 200 * 50, 50):
            events = batch(start, 50)
            status, answer = intake.send(events)
            if status == 503:
                refused = (events, answer)
                break
            if status != 200:
                problems.append(f"filling: answered {status}: {answer}")
                break
        if refused is None:
            raise SystemExit("disk_faults: the tmpfs never filled")
        message = refused[1]["error"]["message"]
        print(f"disk_faults: SQLite on a full tmpfs after {len(intake.acknowledged)} acknowledged events: 503, {message[:150]}...")
        if "full or read-only" not in message:
            problems.append(f"full disk: the 503 does not say the database is full: {message}")
        intake.still_serving("while full")
        subprocess.run(["mount", "-o", "remount,size=64m", mount], check=True)
        intake.retry_until_stored(refused[0], "space freed")
        intake.still_serving("after the full disk")
    finally:
        if intake is not None:
            intake.stop()
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        stored = {row[0] for row in connection.execute("SELECT event_id FROM events WHERE event_id LIKE 'disk-%'")}
        connection.close()
        intake.check_ledger(binary, db, stored, "full disk")
    finally:
        subprocess.run(["umount", mount], check=False)


def psql(url, *statements):
    command = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt"]
    for statement in statements:
        command += ["-c", statement]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def read_only(binary, url, work, problems):
    intake = Intake(binary, url, os.path.join(work, "postgres.log"), problems)
    try:
        status, answer = intake.send(batch(0, 3))
        if status != 200:
            raise SystemExit(f"disk_faults: the first events were refused: {status} {answer}")
        psql(url, "ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()")
        time.sleep(1.0)
        events = batch(500_000, 20)
        status, answer = None, None
        for _ in range(3):
            status, answer = intake.send(events)
            if status == 503:
                break
        if status != 503:
            problems.append(f"read-only: intake answered {status}, not 503: {answer}")
        else:
            message = answer["error"]["message"]
            print(f"disk_faults: PostgreSQL turned read-only under the service: 503, {message[:150]}...")
            if "full or read-only" not in message:
                problems.append(f"read-only: the 503 does not say the database is read-only: {message}")
        intake.still_serving("while read-only")
    finally:
        psql(url, "SET default_transaction_read_only = off",
             "ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()")
    try:
        time.sleep(1.0)
        intake.retry_until_stored(events, "writable again")
        intake.still_serving("after read-only")
    finally:
        intake.stop()
    stored = set(psql(url, "SELECT event_id FROM events WHERE event_id LIKE 'disk-%'").split())
    intake.check_ledger(binary, url, stored, "read-only")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "debug", "guardrail"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("disk_faults: needs root to mount a tmpfs (CI runs as root)")
    url = os.environ.get("GUARDRAIL_TEST_PG_URL")
    if not url:
        raise SystemExit("disk_faults: needs a throwaway PostgreSQL for the read-only case; run it under scripts/with-postgres.sh")
    work = tempfile.mkdtemp(prefix="guardrail-disk-")
    problems = []
    full_disk(args.binary, work, problems)
    read_only(args.binary, url, work, problems)
    for problem in problems:
        print(f"disk_faults: PROBLEM: {problem}")
    if problems:
        print(f"disk_faults: logs kept in {work}")
        return 1
    print("disk_faults: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
