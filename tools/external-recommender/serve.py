#!/usr/bin/env python3
"""Reference external recommender: a learned model nobody on Guardrail wrote, behind the
black-box contract in docs/external-contract.openapi.yaml.

What it is for: giving Guardrail's audit harness a real recommender to audit over HTTP. It
loads a world folder's PUBLIC tables (world.py), trains an ALS or BPR model from the
`implicit` library on the weighted engagement between accounts (model.py), and serves
suggestions, similar accounts, a feed, search and hashtag autocomplete (recommender.py).
Personas created over HTTP start with no history; events fold into the user's row at once.
Two extensions of the contract: the `post` event type and `POST /reset`. This file is the
HTTP layer and the command line only.

What it must never do: open the world's `truth/` folder (ground truth is for scoring
only, and a system under audit that read it would make the audit meaningless); read the
world's `policy.toml` (its only text policy is the exact ban list passed with
`--ban-list`, as on the platform in the reporting); apply any guardrail (it is the
system under audit, deliberately naive); or listen on anything but the address given.

Run: python3 serve.py --world DIR --listen 127.0.0.1:0 [--model als|bpr] [--seed N]
The first stdout line is `listening on http://HOST:PORT`, printed once the model is
trained and the server answers. Diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from model import DEFAULT_WEIGHTS, ModelConfig
from recommender import Recommender, RequestError
from world import WorldError, load_world, read_ban_list

HERE = Path(__file__).resolve().parent
DEFAULT_BAN_LIST = HERE / "ban-list.txt"

MAX_K = 1000
MAX_SEARCH_K = 10000
MAX_BODY_BYTES = 8 << 20


def query_param(params: dict, name: str, required: bool = True) -> str | None:
    values = params.get(name)
    if not values:
        if required:
            raise RequestError(f"{name}: required query parameter is missing")
        return None
    return values[-1]


def query_k(params: dict, default: int, maximum: int = MAX_K) -> int:
    raw = query_param(params, "k", required=False)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= maximum:
        raise RequestError(f"k: expected an integer 1-{maximum}, got {raw!r}")
    return int(raw)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes; with Nagle on, keep-alive clients wait for the
    # peer's delayed ACK (~40 ms) on every answer.
    disable_nagle_algorithm = True
    server_version = "guardrail-external-recommender/1"
    recommender: Recommender
    log_requests = False

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.log_requests:
            sys.stderr.write("request: " + (format % args) + "\n")

    def send_json(self, status: int, payload) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_route(self, method: str) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        recommender = self.recommender
        try:
            route = (method, url.path)
            if route == ("GET", "/healthz"):
                self.send_json(200, recommender.health())
            elif route == ("POST", "/personas"):
                self.send_json(200, recommender.create_persona(self.read_json()))
            elif route == ("POST", "/events"):
                self.send_json(200, recommender.apply_events(self.read_json()))
            elif route == ("POST", "/reset"):
                self.read_reset_body()
                self.send_json(200, recommender.reset())
            elif route == ("GET", "/suggestions"):
                user = recommender.account_id(query_param(params, "account"), "account")
                self.send_json(200, recommender.suggestions(user, query_k(params, 10)))
            elif route == ("GET", "/similar"):
                account = recommender.account_id(query_param(params, "account"), "account")
                raw_viewer = query_param(params, "viewer", required=False)
                viewer = None if raw_viewer is None else recommender.account_id(raw_viewer, "viewer")
                self.send_json(200, recommender.similar(account, viewer, query_k(params, 10)))
            elif route == ("GET", "/feed"):
                user = recommender.account_id(query_param(params, "account"), "account")
                self.send_json(200, recommender.feed(user, query_k(params, 30)))
            elif route == ("GET", "/search"):
                user = recommender.account_id(query_param(params, "account"), "account")
                query = query_param(params, "q")
                self.send_json(200, recommender.search(user, query, query_k(params, MAX_K, MAX_SEARCH_K)))
            elif route == ("GET", "/autocomplete"):
                user = recommender.account_id(query_param(params, "account"), "account")
                prefix = query_param(params, "prefix")
                self.send_json(200, recommender.autocomplete(user, prefix, query_k(params, 10)))
            elif url.path in ROUTES:
                raise RequestError(f"method: {method} is not allowed on {url.path}; use {ROUTES[url.path]}", 405)
            else:
                raise RequestError(f"path: no route {url.path}", 404)
        except RequestError as error:
            self.send_json(error.status, {"error": str(error)})
        except Exception as error:  # a bug here must not kill the server mid-audit
            sys.stderr.write(f"error: {method} {self.path}: {error!r}\n")
            self.send_json(500, {"error": f"internal: {type(error).__name__}"})

    def read_json(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RequestError("body: a JSON body with Content-Length is required", 411)
        if int(length) > MAX_BODY_BYTES:
            # Drain nothing: the connection is closed after this answer.
            self.close_connection = True
            raise RequestError(f"body: larger than {MAX_BODY_BYTES} bytes", 413)
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RequestError(f"body: invalid JSON: {error}") from None

    def read_reset_body(self) -> None:
        """`POST /reset` takes no body or `{}`. A missing Content-Length means no body here
        (a bare `curl -X POST` sends none); a chunked body is refused as everywhere."""
        if self.headers.get("Content-Length") is None and self.headers.get("Transfer-Encoding") is None:
            return
        length = self.headers.get("Content-Length", "")
        if length == "0":
            return
        body = self.read_json()
        if body != {}:
            raise RequestError(f"body: expected no body or {{}}, got {json.dumps(body)[:120]}")

    def do_GET(self):  # noqa: N802 - stdlib naming
        self.handle_route("GET")

    def do_POST(self):  # noqa: N802 - stdlib naming
        self.handle_route("POST")


ROUTES = {
    "/healthz": "GET", "/personas": "POST", "/events": "POST", "/reset": "POST", "/suggestions": "GET",
    "/similar": "GET", "/feed": "GET", "/search": "GET", "/autocomplete": "GET",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True


class Server6(Server):
    address_family = socket.AF_INET6


def parse_listen(value: str) -> tuple[str, int]:
    match = re.fullmatch(r"\[([0-9a-fA-F:]+)\]:([0-9]{1,5})|([^:\[\]]+):([0-9]{1,5})", value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or [V6]:PORT, got {value!r}")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range")
    return host, port


def parse_weights(value: str) -> dict:
    weights = dict(DEFAULT_WEIGHTS)
    for part in filter(None, value.split(",")):
        name, _, number = part.partition("=")
        if name not in weights:
            raise argparse.ArgumentTypeError(f"unknown weight {name!r}; expected {', '.join(weights)}")
        try:
            weights[name] = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(f"weight {name}: expected a number, got {number!r}") from None
        if weights[name] < 0:
            raise argparse.ArgumentTypeError(f"weight {name}: must not be negative")
    return weights


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", required=True, type=Path, help="world folder (public tables are read)")
    parser.add_argument("--listen", default="127.0.0.1:0", type=parse_listen, help="HOST:PORT; port 0 picks one")
    parser.add_argument("--model", choices=("als", "bpr"), default="als")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=None, help="default 15 (ALS) or 50 (BPR)")
    parser.add_argument("--regularization", type=float, default=0.05)
    parser.add_argument("--alpha", type=float, default=20.0, help="ALS confidence scale: c = alpha * weight")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="BPR only (training and fold-in)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="ALS training threads (BPR always uses 1)")
    parser.add_argument(
        "--weights", type=parse_weights, default=dict(DEFAULT_WEIGHTS),
        help="engagement weights, e.g. follow=1,view=1,like=0.5,comment=1,report=0,block=0",
    )
    parser.add_argument("--ban-list", type=Path, default=DEFAULT_BAN_LIST, help="exact banned terms, one a line")
    parser.add_argument("--log-requests", action="store_true")
    return parser


def model_config(args: argparse.Namespace) -> ModelConfig:
    return ModelConfig(
        model=args.model, factors=args.factors, iterations=args.iterations,
        regularization=args.regularization, alpha=args.alpha, learning_rate=args.learning_rate,
        seed=args.seed, threads=args.threads, weights=args.weights,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.factors < 1 or (args.iterations is not None and args.iterations < 1):
        parser.error("--factors and --iterations must be at least 1")

    try:
        ban_list = read_ban_list(args.ban_list)
        started = time.perf_counter()
        world = load_world(args.world)
        load_seconds = time.perf_counter() - started
        recommender = Recommender(world, ban_list, model_config(args))
    except WorldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    del world
    print(
        f"trained {args.model} ({args.factors} factors) on {recommender.world_accounts} accounts in "
        f"{recommender.train_seconds:.2f}s (load {load_seconds:.2f}s); digest {recommender.model_digest}",
        file=sys.stderr,
    )
    Handler.recommender = recommender
    Handler.log_requests = args.log_requests
    host, port = args.listen
    server_class = Server6 if ":" in host else Server
    try:
        server = server_class((host, port), Handler)
    except OSError as error:
        print(f"error: --listen {host}:{port}: {error.strerror}", file=sys.stderr)
        return 2
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"listening on http://{shown}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
