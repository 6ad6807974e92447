"""Starting `guardrail serve` and talking to it, for the scripts that drive the real binary
(fleet_check.py, disk_faults.py, soak.py).

What it is for: one way to create an admin token on a ledger, start the service on a
loopback port it picks, wait until `/readyz` answers 200, send a JSON request, and stop the
service so that acknowledged writes finish.

What it must never do: listen on anything but loopback, or leave a process it started
running when the caller stops it (SIGTERM, then a kill after 30 s).
"""

import http.client
import json
import re
import signal
import subprocess
import time

SERVING = re.compile(r"^guardrail: serving .* on http://([0-9.]+):([0-9]+)$")


def request(address, method, path, token=None, body=None, timeout=60):
    """Sends one request; answers (status, the JSON body or None when empty)."""
    connection = http.client.HTTPConnection(*address, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        answer = connection.getresponse()
        text = answer.read()
        return answer.status, (json.loads(text) if text.strip() else None)
    finally:
        connection.close()


def admin_token(binary, db):
    """Creates an admin token on the ledger at `db` (a path or URL); answers the token."""
    created = subprocess.run([binary, "token", "create", "--scope", "admin", "--db", db],
                             capture_output=True, text=True)
    if created.returncode != 0:
        raise SystemExit(f"`{binary} token create` failed ({created.returncode}): {created.stderr.strip()}")
    return created.stdout.strip().splitlines()[-1]


def start(binary, db, log_path, extra_args=(), timeout=120):
    """Starts `guardrail serve` on `db`, logging to `log_path`; answers (process, (host,
    port)) once `/readyz` is 200. Exits naming the log if it stops or never gets ready."""
    log = open(log_path, "ab")
    process = subprocess.Popen([binary, "serve", "--db", db, "--listen", "127.0.0.1:0", *extra_args],
                               stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"guardrail serve exited with {process.returncode} before it was ready; see {log_path}")
        with open(log_path, errors="replace") as text:
            found = [m.groups() for m in map(SERVING.match, text.read().splitlines()) if m]
        if found:
            address = (found[-1][0], int(found[-1][1]))
            try:
                if request(address, "GET", "/readyz", timeout=5)[0] == 200:
                    return process, address
            except (OSError, http.client.HTTPException):
                pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"guardrail serve never became ready in {timeout} s; see {log_path}")


def stop(process):
    """Stops a service started by `start`: SIGTERM (acknowledged writes finish), then kill."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
