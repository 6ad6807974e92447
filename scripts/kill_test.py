#!/usr/bin/env python3
"""The kill test: no acknowledged report is ever lost, even when the service dies mid-stream.

For each run it starts `guardrail serve` on a fresh SQLite (or the given PostgreSQL) ledger,
sends thousands of reports from many threads at once, kills the server with SIGKILL while
they are in flight, restarts it on the same ledger, and proves that every report the server
acknowledged (201) is present with its key and its body:

- `GET /v1/reports/{id}` answers it with the same client key, category and subject;
- resubmitting the same body under the same key answers the same report (a different
  stored body would be a 409), so the stored body is the acknowledged one;
- `guardrail reports check --acknowledged KEYS` passes, and `guardrail ledger verify`
  finds the hash chain intact.

It exits 1 naming every lost or altered report. It must never point at a server it did not
start, and it deletes its ledgers unless --keep is given.

    python3 scripts/kill_test.py --runs 20 --reports 4000 --threads 32
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CATEGORIES = ["child_sexual_exploitation", "child_sexual_exploitation", "spam", "harassment"]


def start_server(binary, db, log_path):
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [binary, "serve", "--db", db, "--listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.time() + 120
    pattern = re.compile(r"^guardrail: serving .* on http://([0-9.]+):([0-9]+)$")
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kill_test: the server exited with {process.returncode}; see {log_path}")
        with open(log_path, "r", errors="replace") as text:
            ports = [m.groups() for m in map(pattern.match, text.read().splitlines()) if m]
        if ports:
            host, port = ports[-1]
            try:
                status, _ = request(host, int(port), "GET", "/readyz", None, None)
                if status == 200:
                    return process, host, int(port)
            except OSError:
                pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"kill_test: the server did not become ready in 120 s; see {log_path}")


def request(host, port, method, path, token, body, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None if body is None else json.dumps(body).encode()
    try:
        connection.request(method, path, body=payload, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        if own:
            connection.close()


def report_body(run, thread, index):
    return {
        "client_key": f"kill-{run}-{thread}-{index}",
        "reporter": str(1000 + thread),
        "subject": {"account": str(random.randrange(1, 50_000))},
        "category": random.choice(CATEGORIES),
        "text": f"report {index} from sender {thread} in run {run}",
    }


def sender(host, port, token, run, thread, count, acknowledged, lock, stop):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    for index in range(count):
        if stop.is_set():
            return
        body = report_body(run, thread, index)
        try:
            status, answer = request(host, port, "POST", "/v1/reports", token, body, connection)
        except (OSError, http.client.HTTPException):
            return  # the server died: nothing after this was acknowledged
        if status == 201:
            with lock:
                acknowledged.append((body, json.loads(answer)["id"]))
        elif status != 503:
            print(f"kill_test: unexpected {status} for {body['client_key']}: {answer[:200]!r}", file=sys.stderr)


def one_run(args, run, work):
    db = args.db or f"sqlite://{work}/ledger.db"
    created = subprocess.run(
        [args.binary, "token", "create", "--scope", "admin", "--db", db],
        check=True, capture_output=True, text=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    log_path = os.path.join(work, "serve.log")
    server, host, port = start_server(args.binary, db, log_path)

    acknowledged, lock, stop = [], threading.Lock(), threading.Event()
    per_thread = args.reports // args.threads
    threads = [
        threading.Thread(target=sender, args=(host, port, token, run, t, per_thread, acknowledged, lock, stop))
        for t in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    # Kill somewhere between a fifth and four fifths of the way through.
    target = int(args.reports * random.uniform(0.2, 0.8))
    deadline = time.time() + 300
    while time.time() < deadline:
        with lock:
            if len(acknowledged) >= target:
                break
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(0.005)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()
    killed_at = len(acknowledged)

    server, host, port = start_server(args.binary, db, log_path)
    problems = []
    try:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        for body, report in acknowledged:
            status, answer = request(host, port, "GET", f"/v1/reports/{report}", token, None, connection)
            if status != 200:
                problems.append(f"{body['client_key']} ({report}): GET answered {status} {answer[:200]!r}")
                continue
            stored = json.loads(answer)
            for field in ("client_key", "category", "subject"):
                if stored[field] != body[field]:
                    problems.append(f"{report}: {field} is {stored[field]!r}, acknowledged {body[field]!r}")
            status, answer = request(host, port, "POST", "/v1/reports", token, body, connection)
            if status != 201 or json.loads(answer)["id"] != report:
                problems.append(f"{body['client_key']}: the same body answered {status} {answer[:200]!r}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    keys = os.path.join(work, "acknowledged.txt")
    with open(keys, "w") as out:
        out.write("".join(body["client_key"] + "\n" for body, _ in acknowledged))
    check = subprocess.run(
        [args.binary, "reports", "check", "--db", db, "--acknowledged", keys],
        capture_output=True, text=True,
    )
    if check.returncode != 0:
        problems.append("guardrail reports check failed:\n" + check.stdout + check.stderr)
    verify = subprocess.run([args.binary, "ledger", "verify", "--db", db], capture_output=True, text=True)
    if verify.returncode != 0:
        problems.append("guardrail ledger verify failed:\n" + verify.stdout + verify.stderr)
    return killed_at, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target_dir = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target_dir, "debug", "guardrail"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reports", type=int, default=4000, help="reports sent per run")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--db", help="a PostgreSQL URL to use instead of a fresh SQLite file per run")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep each run's folder")
    args = parser.parse_args()
    random.seed(args.seed)
    total, failed = 0, 0
    for run in range(1, args.runs + 1):
        work = tempfile.mkdtemp(prefix=f"guardrail-kill-{run}-")
        try:
            killed_at, problems = one_run(args, run, work)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        total += killed_at
        status = "ok" if not problems else f"{len(problems)} PROBLEMS"
        print(f"run {run}: killed after {killed_at} acknowledged reports; all present: {status}")
        for problem in problems[:20]:
            print(f"  {problem}")
        failed += bool(problems)
    print(f"kill_test: {args.runs} runs, {total} acknowledged reports, "
          f"{'0 lost' if not failed else f'{failed} runs lost or altered reports'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
