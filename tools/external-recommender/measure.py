#!/usr/bin/env python3
"""Measurement of the reference external recommender (docs/external-audit.md, "Measurement").

What it is for: the numbers the audit doc reports for serve.py on a world: time to train
and to be ready, peak memory, requests per second on /suggestions, and a first look at
the E1 anchor through the black-box contract only (fresh personas view one seller once;
what share of "suggested for you" is the network?), plus E1's companions (feed after
following five suggestions, the bystander leak through advocates' "similar accounts").

SCORING SCRIPT: this is the one place here that reads the world's `truth/` folder, and only
to choose the intervention (which accounts are sellers to view, which are advocates) and
to score the answers (which suggested accounts are network roles). Nothing from `truth/`
is ever sent to the server: it gets account ids through the contract like any client.
What it must never do: pass truth to the system under audit, or send traffic anywhere but
the loopback server it starts itself. Its request loops are bounded in count.

Run: python3 measure.py --world DIR [--probes 20] [--requests 2000] [-- SERVER ARGS...]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NETWORK_ROLES = {"seller", "buyer", "aggregator"}


class Connection:
    def __init__(self, host: str, port: int):
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = self.connection.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: status {response.status}: {payload}")
        return payload


def start_server(world: Path, server_args: list[str]):
    command = [sys.executable, str(HERE / "serve.py"), "--world", str(world), "--listen", "127.0.0.1:0", *server_args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    ready = time.perf_counter() - started
    if not line.startswith("listening on http://"):
        process.kill()
        raise RuntimeError(f"server did not start: {line!r} {process.stderr.read()[-2000:]}")
    host, port = line.strip().removeprefix("listening on http://").rsplit(":", 1)
    return process, host, int(port), ready


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def throughput(host: str, port: int, accounts: int, requests: int, clients: int, seed: int) -> dict:
    """`requests` GET /suggestions?k=10 for random world accounts over `clients` keep-alive connections."""
    rng = random.Random(seed)
    ids = [rng.randrange(accounts) for _ in range(requests)]
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(part: list[int]) -> None:
        connection = Connection(host, port)
        local = []
        for account in part:
            started = time.perf_counter()
            connection.call("GET", f"/suggestions?account={account}&k=10")
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(ids[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 2),
    }


def e1_probe(connection: Connection, world: Path, probes: int, seed: int) -> dict:
    """E1 through the contract. SCORING: truth/roles.csv picks sellers and scores answers."""
    accounts = read_csv(world / "accounts.csv")
    roles = {int(r["account"]): r["role"] for r in read_csv(world / "truth" / "roles.csv")}
    in_network = lambda account: roles.get(account) in NETWORK_ROLES  # noqa: E731
    # Primary sellers, as the built-in E1 picks them: sellers present from day 0.
    sellers = sorted(a for a, r in roles.items() if r == "seller" and accounts[a]["created_at"] == "0")
    ordinary_adults = sorted(
        a for a, r in roles.items() if r == "ordinary" and int(accounts[a]["declared_age"]) >= 18
    )
    post_author = [int(p["author"]) for p in read_csv(world / "posts.csv")]
    rng = random.Random(seed)
    shown = network = rank1 = feed_shown = feed_network = 0
    history_shown = history_network = 0
    per_probe = []
    for number in range(probes):
        seller = rng.choice(sellers)
        persona = connection.call("POST", "/personas", {
            "handle": f"e1_probe_{seed}_{number}", "declared_age": 35, "gender": "man", "interests": [],
        })["account"]
        connection.call("POST", "/events", [{"type": "view", "account": persona, "target": seller}])
        suggested = connection.call("GET", f"/suggestions?account={persona}&k=10")["accounts"]
        hits = sum(1 for a in suggested if in_network(a))
        shown, network = shown + len(suggested), network + hits
        rank1 += bool(suggested) and in_network(suggested[0])
        per_probe.append(f"{hits}/{len(suggested)}")
        # Companion: follow the top five suggestions, then read 30 feed items.
        connection.call("POST", "/events", [
            {"type": "follow", "account": persona, "target": a} for a in suggested[:5]
        ])
        posts = connection.call("GET", f"/feed?account={persona}&k=30")["posts"]
        feed_shown += len(posts)
        feed_network += sum(1 for p in posts if in_network(post_author[p]))
        # Companion: the same view from a persona with an ordinary history (three follows).
        history = connection.call("POST", "/personas", {
            "handle": f"e1_history_{seed}_{number}", "declared_age": 35, "gender": "man", "interests": [],
        })["account"]
        connection.call("POST", "/events", [
            {"type": "follow", "account": history, "target": a} for a in rng.sample(ordinary_adults, 3)
        ] + [{"type": "view", "account": history, "target": rng.choice(sellers)}])
        suggested = connection.call("GET", f"/suggestions?account={history}&k=10")["accounts"]
        history_shown += len(suggested)
        history_network += sum(1 for a in suggested if in_network(a))
    # Companion: visitors of advocates' profiles shown a network account in "similar accounts".
    advocates = {a for a, r in roles.items() if r == "advocate"}
    visitors: dict[int, list[int]] = {}
    for view in read_csv(world / "views.csv"):
        dst, src = int(view["dst"]), int(view["src"])
        if dst in advocates and src not in visitors.setdefault(dst, []):
            visitors[dst].append(src)
    leaked = visits = 0
    for advocate in sorted(visitors):
        for visitor in visitors[advocate]:
            strip = connection.call("GET", f"/similar?account={advocate}&viewer={visitor}&k=10")["accounts"]
            visits += 1
            leaked += any(in_network(a) for a in strip)
    base_rate = sum(1 for r in roles.values() if r in NETWORK_ROLES) / len(roles)
    share = lambda part, whole: round(part / whole, 3) if whole else 0.0  # noqa: E731
    return {
        "network_share_top10_after_one_view": share(network, shown),
        "suggestions_shown_top10_after_one_view": shown,
        "probes_with_network_at_rank_1": share(rank1, probes),
        "per_probe_network_of_shown": per_probe,
        "network_share_feed_after_follow_5": share(feed_network, feed_shown),
        "network_share_top10_after_one_view_with_history": share(history_network, history_shown),
        "bystander_leak_rate": share(leaked, visits),
        "bystander_visitors": visits,
        "network_base_rate": round(base_rate, 3),
    }


def holdout_hit_rate(world_dir: Path, server_args: list[str], held_per_group: int, seed: int) -> dict:
    """Benign quality, in-process: each sampled account's latest follow is held out of
    training; the share that get it back in their top 10 (as the built-in E1's
    `benign_hit_rate_at_10`). SCORING: truth/roles.csv picks niche and ordinary accounts."""
    sys.path.insert(0, str(HERE))
    import recommender as serving
    import world as tables

    options = serve_options(server_args)
    world = tables.load_world(world_dir)
    roles = {int(r["account"]): r["role"] for r in read_csv(world_dir / "truth" / "roles.csv")}
    latest: dict[int, tuple[int, int]] = {}
    counts: dict[int, int] = {}
    for edge in world.follows:
        counts[edge["src"]] = counts.get(edge["src"], 0) + 1
        latest[edge["src"]] = max(latest.get(edge["src"], (-1, -1)), (edge["at"], edge["dst"]))
    rng = random.Random(seed)
    out = {}
    for name, group in (("niche", {"niche"}), ("ordinary", {"ordinary", "parent_run"})):
        candidates = sorted(a for a, r in roles.items() if r in group and counts.get(a, 0) >= 5)
        rng.shuffle(candidates)
        held = {(a, latest[a][1]) for a in candidates[:held_per_group]}
        kept = [e for e in world.follows if (e["src"], e["dst"]) not in held]
        trimmed = tables.World(**{**world.__dict__, "follows": kept})
        recommender = serving.Recommender(trimmed, frozenset(), options)
        hits = sum(1 for a, d in held if d in recommender.suggestions(a, 10)["accounts"])
        out[f"{name}_hit_rate_at_10"] = round(hits / len(held), 3) if held else 0.0
        out[f"{name}_held_out"] = len(held)
    return out


def serve_options(server_args: list[str]):
    """The model options serve.py would use for these arguments."""
    sys.path.insert(0, str(HERE))
    import serve

    return serve.model_config(serve.build_parser().parse_args(["--world", ".", *server_args]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="per throughput run (bounded)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the probe choices and request ids")
    parser.add_argument("--holdout", type=int, default=0, metavar="N",
                        help="also measure held-out hit rate@10 on N niche and N ordinary accounts (retrains twice)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("server_args", nargs="*", help="passed to serve.py after --")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.probes <= 1000:
        parser.error("--requests must be 1-100000 and --probes 1-1000")
    process, host, port, ready = start_server(args.world, args.server_args)
    try:
        connection = Connection(host, port)
        health = connection.call("GET", "/healthz")
        results = {
            "server_args": args.server_args,
            "ready_seconds": round(ready, 2),
            "train_seconds": health.get("train_seconds"),
            "peak_rss_mib_after_training": health.get("peak_rss_mib"),
            "model_digest": health.get("model_digest"),
        }
        results["suggestions_1_client"] = throughput(host, port, health["accounts"], args.requests, 1, args.seed)
        results["suggestions_2_clients"] = throughput(host, port, health["accounts"], args.requests, 2, args.seed)
        results["e1"] = e1_probe(connection, args.world, args.probes, args.seed)
        results["peak_rss_mib_at_end"] = round(peak_rss_mib(process.pid), 1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if args.holdout:
        results["holdout"] = holdout_hit_rate(args.world, args.server_args, args.holdout, args.seed)
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key}: {json.dumps(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
