#!/usr/bin/env python3
"""PostgreSQL as the fleet ledger: two `guardrail serve` processes on one database.

Run beside a throwaway server:

    bash scripts/with-postgres.sh python3 scripts/fleet_check.py

It starts two replicas on loopback ports over the PostgreSQL named by
GUARDRAIL_TEST_PG_URL (an empty database), sends a small platform to replica A, and proves:

- each replica answers decisions from its own snapshot, and every answer carries the
  snapshot version it read;
- events stored through A are decided on by B (B's follower folds what A stored);
- an enforcement (a takedown) stored through A reaches B's decisions within a snapshot
  interval (it prints the time it took; it fails past --within seconds);
- a report received by B is readable on A;
- a hash banked through A's HMA routes is matched on B (B's follower applies A's bank
  changes), and A's own match is not doubled.

It must never point at a server or database it was not given, and it stops both replicas on
exit (SIGTERM, so acknowledged writes finish).
"""

import argparse
import os
import sys
import tempfile
import time

from guardrail_serve import admin_token, request, stop
from guardrail_serve import start as start_serve

T0 = int(time.time()) - 3600


def start(binary, db, log_path):
    return start_serve(binary, db, log_path, extra_args=("--stale-after", "30"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "debug", "guardrail"))
    parser.add_argument("--db", default=os.environ.get("GUARDRAIL_TEST_PG_URL"))
    parser.add_argument("--within", type=float, default=10.0, help="seconds an enforcement may take to reach the other replica")
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgres"):
        raise SystemExit("fleet_check: needs a PostgreSQL URL (--db or GUARDRAIL_TEST_PG_URL); run it under scripts/with-postgres.sh")
    token = admin_token(args.binary, args.db)
    work = tempfile.mkdtemp(prefix="guardrail-fleet-")
    replicas = []
    problems = []
    try:
        a_process, a = start(args.binary, args.db, os.path.join(work, "a.log"))
        replicas.append(a_process)
        b_process, b = start(args.binary, args.db, os.path.join(work, "b.log"))
        replicas.append(b_process)
        print(f"fleet_check: replica A on {a[0]}:{a[1]}, replica B on {b[0]}:{b[1]}, one PostgreSQL")

        events = [
            {"id": "fa1", "type": "account_created", "at": T0, "account": "f-viewer", "handle": "viewer_placeholder", "declared_age": 34, "bio": "cooking"},
            {"id": "fa2", "type": "account_created", "at": T0, "account": "f-candidate", "handle": "candidate_placeholder", "declared_age": 36, "bio": "hiking"},
            {"id": "fa3", "type": "account_created", "at": T0, "account": "f-other", "handle": "other_placeholder", "declared_age": 40, "bio": "books"},
            {"id": "ff1", "type": "follow", "at": T0 + 1, "account": "f-other", "target": "f-candidate"},
        ]
        status, stored = request(a, "POST", "/v1/events", token, events)
        if status != 200:
            raise SystemExit(f"fleet_check: A refused the events: {status} {stored}")

        ask = {"viewer": "f-viewer", "candidates": ["f-candidate"]}

        def verdict_on(replica):
            status, answer = request(replica, "POST", "/v1/decide/account_suggestions", token, ask)
            if status != 200:
                problems.append(f"decide answered {status}: {answer}")
                return None, None
            if not isinstance(answer.get("snapshot"), int):
                problems.append(f"a decision without its snapshot version: {answer}")
            verdict = answer["verdicts"][0]
            return (verdict["action"], verdict.get("decided_by")), answer.get("snapshot")

        # B learns A's accounts through the shared ledger; then each replica maps them.
        deadline = time.time() + args.within
        while request(b, "GET", "/v1/accounts/f-candidate/risk", token)[0] != 200:
            if time.time() > deadline:
                raise SystemExit("fleet_check: B never learned the accounts stored through A")
            time.sleep(0.1)
        for replica in (a, b):
            status, remapped = request(replica, "POST", "/v1/admin/remap", token, {})
            if status != 200:
                problems.append(f"a re-map answered {status}: {remapped}")
        action, snapshot_b = verdict_on(b)
        action_a, snapshot_a = verdict_on(a)
        print(f"fleet_check: before the takedown, A reads snapshot v{snapshot_a} and says {action_a!r}, B reads v{snapshot_b} and says {action!r}")
        # (A new account with no map evidence yet is dropped by the network rule, failing
        # closed; what matters is that no replica flags it before the takedown.)
        if "flagged-account" in (action[1], action_a[1]):
            problems.append("a replica treats the candidate as flagged before any enforcement")

        status, enforced = request(a, "POST", "/v1/enforcement", token,
                                   {"id": "fleet-takedown-1", "account": "f-candidate", "action": "takedown", "reason": "fleet check"})
        if status != 201:
            problems.append(f"A refused the takedown: {status} {enforced}")
        started = time.time()
        reached = None
        while time.time() - started < args.within:
            action, snapshot_b = verdict_on(b)
            if action == ("drop", "flagged-account"):
                reached = time.time() - started
                break
            time.sleep(0.05)
        if reached is None:
            problems.append(f"the takedown stored through A did not reach B's decisions within {args.within} s")
        else:
            print(f"fleet_check: the takedown stored through A reached B's decisions in {reached:.2f} s (B at snapshot v{snapshot_b})")

        status, report = request(b, "POST", "/v1/reports", token,
                                 {"client_key": "fleet-k1", "reporter": "f-viewer", "subject": {"account": "f-candidate"},
                                  "category": "spam", "text": "fleet check"})
        if status != 201:
            problems.append(f"B refused a report: {status} {report}")
        else:
            deadline = time.time() + args.within
            while time.time() < deadline:
                status, read = request(a, "GET", f"/v1/reports/{report['id']}", token)
                if status == 200:
                    print("fleet_check: a report received by B is readable on A")
                    break
                time.sleep(0.1)
            else:
                problems.append("a report received by B never became readable on A")
        # A hash banked through A (HMA's curation routes) is matched on B: B's follower
        # applies A's bank changes; A does not apply its own twice.
        banked = "f" * 16 + "0" * 16 + "a5" * 16
        status, answer = request(a, "POST", "/c/banks", token, {"name": "FLEET_BANK", "matching_enabled_ratio": 1.0})
        if status not in (200, 201):
            problems.append(f"A refused a new bank: {status} {answer}")
        status, answer = request(a, "POST", "/c/bank/FLEET_BANK/signal", token, {"pdq": banked})
        if status != 200:
            problems.append(f"A refused a banked hash: {status} {answer}")
        started = time.time()
        matched = None
        while time.time() - started < args.within:
            status, answer = request(b, "POST", "/v1/media/match", token, {"hashes": [banked]})
            result = (answer or {}).get("results", [{}])[0] if status == 200 else {}
            if result.get("fail_closed"):
                problems.append(f"B's banks stopped following the ledger: {result['fail_closed']}")
                break
            if result.get("matches"):
                matched = time.time() - started
                break
            time.sleep(0.05)
        if matched is None:
            problems.append(f"a hash banked through A was not matched on B within {args.within} s")
        else:
            print(f"fleet_check: a hash banked through A was matched on B in {matched:.2f} s")
        status, answer = request(a, "POST", "/v1/media/match", token, {"hashes": [banked]})
        result = (answer or {}).get("results", [{}])[0] if status == 200 else {}
        if result.get("fail_closed") or len(result.get("matches", [])) != 1:
            problems.append(f"A's own bank change went wrong on A: {status} {answer}")
    finally:
        for process in replicas:
            stop(process)
    for problem in problems:
        print(f"fleet_check: PROBLEM: {problem}")
    if problems:
        print(f"fleet_check: logs kept in {work}")
        return 1
    print("fleet_check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
