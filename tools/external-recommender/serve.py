#!/usr/bin/env python3
"""Reference external recommender: a learned model nobody on Guardrail wrote, behind the
black-box contract in docs/external-contract.openapi.yaml.

What it is for: giving Guardrail's audit harness a real recommender to audit over HTTP. It
loads a world folder's PUBLIC tables (accounts, posts, follows, views, likes, comments,
searches, reports, blocks), trains an ALS or BPR model from the `implicit` library on the
weighted engagement between accounts, and serves suggestions, similar accounts, a feed,
search and hashtag autocomplete. Personas created over HTTP start with no history; events
fold into the user's row at once (see `Recommender.refold`).

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
import csv
import hashlib
import json
import os
import re
import resource
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# implicit warns (and runs slower) when BLAS uses threads of its own on top of implicit's.
# These must be set before numpy loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sparse  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_BAN_LIST = HERE / "ban-list.txt"

# Engagement kinds that carry a weight into the model. Reports and blocks weigh 0 by
# default: a real recommender treats them as negative feedback, not as interest. An
# auditor may give them weight (`--weights report=1`) to emulate a platform where any
# profile touch counts.
DEFAULT_WEIGHTS = {
    "follow": 1.0,
    "view": 1.0,
    "like": 0.5,
    "comment": 1.0,
    "report": 0.0,
    "block": 0.0,
}
EVENT_TYPES = ("follow", "view", "like", "comment", "search", "report", "block")
ACCOUNT_TARGET_TYPES = ("follow", "view", "report", "block")
POST_TARGET_TYPES = ("like", "comment")
GENDERS = ("woman", "man", "other")

MAX_K = 1000
MAX_SEARCH_K = 10000
MAX_BODY_BYTES = 8 << 20
MAX_EVENTS_PER_REQUEST = 10000
# Feed: posts per followed author considered, and every FEED_DISCOVERY_SLOT-th slot goes to
# a recommended (not followed) author, as feeds with "suggested posts" do.
FEED_POSTS_PER_AUTHOR = 3
FEED_DISCOVERY_SLOT = 4


class WorldError(Exception):
    """A world table that cannot be read; the message names file, line and field."""


class RequestError(Exception):
    """A client mistake; the message names the field and what was expected."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------
# World loading (public tables only)
# ---------------------------------------------------------------------------------------

PUBLIC_TABLES = {
    "accounts": ["id", "handle", "declared_age", "gender", "country", "interests", "business", "created_at", "bio"],
    "posts": ["id", "author", "created_at", "features_minor", "hashtags", "caption"],
    "follows": ["src", "dst", "at"],
    "views": ["src", "dst", "at"],
    "likes": ["account", "post", "at"],
    "comments": ["account", "post", "at"],
    "searches": ["account", "at", "query"],
    "reports": ["src", "dst", "at"],
    "blocks": ["src", "dst", "at"],
}
LIST_FIELDS = {"interests", "hashtags"}
INT_FIELDS = {"id", "author", "src", "dst", "account", "post", "at", "created_at", "declared_age"}
OPTIONAL_TABLES = {"searches", "reports", "blocks", "comments", "likes", "views"}


def read_table(world: Path, name: str) -> list[dict]:
    """Rows of one public table, CSV or JSON-lines, fields typed as in world-format.md."""
    columns = PUBLIC_TABLES[name]
    csv_path, jsonl_path = world / f"{name}.csv", world / f"{name}.jsonl"
    if csv_path.exists() and jsonl_path.exists():
        raise WorldError(f"{world}: both {name}.csv and {name}.jsonl exist; keep exactly one")
    path = csv_path if csv_path.exists() else jsonl_path
    if not path.exists():
        if name in OPTIONAL_TABLES:
            return []
        raise WorldError(f"{world}: missing table {name}.csv (or {name}.jsonl)")
    rows: list[dict] = []
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first and path.suffix == ".jsonl":
        return []  # JSON-lines has no header: an empty table is an empty file
    if first.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise WorldError(f"{path}:{number}: invalid JSON: {error.msg}") from None
            rows.append(typed_row(raw, columns, path, number, from_json=True))
    else:
        reader = csv.reader(text.splitlines())
        header = next(reader, None)
        if header != columns:
            raise WorldError(f"{path}:1: header: expected {','.join(columns)}, got {','.join(header or [])}")
        records = [record for record in reader if record]
        converters = [csv_converter(column) for column in columns]
        try:
            # Fast path: one converter per column; the slow path below only runs to name
            # the line and field of a bad value.
            rows = [
                {column: convert(value) for column, convert, value in zip(columns, converters, record, strict=True)}
                for record in records
            ]
        except (ValueError, TypeError):
            for number, record in enumerate(records, start=2):
                if len(record) != len(columns):
                    raise WorldError(f"{path}:{number}: expected {len(columns)} fields, got {len(record)}") from None
                typed_row(dict(zip(columns, record)), columns, path, number, from_json=False)
            raise
    return rows


def csv_converter(column: str):
    if column in INT_FIELDS:
        def convert(value: str) -> int:
            if not value.isdigit():
                raise ValueError(value)
            return int(value)
        return convert
    if column in LIST_FIELDS:
        return lambda value: [v for v in value.split("|") if v]
    if column in ("business", "features_minor"):
        return lambda value: {"true": True, "1": True, "false": False, "0": False}[value] if value in ("true", "1", "false", "0") else _bad(value)
    return str


def _bad(value):
    raise ValueError(value)


def typed_row(raw: dict, columns: list[str], path: Path, number: int, from_json: bool) -> dict:
    row = {}
    for column in columns:
        if column not in raw:
            raise WorldError(f"{path}:{number}: {column}: missing")
        value = raw[column]
        try:
            if column in INT_FIELDS:
                if isinstance(value, bool):
                    raise ValueError
                value = int(value)
                if value < 0:
                    raise ValueError
            elif column in LIST_FIELDS:
                if from_json:
                    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                        raise ValueError
                else:
                    value = [v for v in value.split("|") if v]
            elif column in ("business", "features_minor"):
                if from_json:
                    if not isinstance(value, bool):
                        raise ValueError
                elif value in ("true", "1"):
                    value = True
                elif value in ("false", "0"):
                    value = False
                else:
                    raise ValueError
            elif not isinstance(value, str):
                raise ValueError
        except (ValueError, TypeError):
            expected = (
                "a non-negative integer" if column in INT_FIELDS
                else "a list" if column in LIST_FIELDS
                else "true or false" if column in ("business", "features_minor")
                else "a string"
            )
            raise WorldError(f"{path}:{number}: {column}: expected {expected}, got {raw[column]!r}") from None
        row[column] = value
    return row


@dataclass
class World:
    """The public tables a recommender may read. There is deliberately no truth here."""

    accounts: list[dict]
    posts: list[dict]
    follows: list[dict]
    views: list[dict]
    likes: list[dict]
    comments: list[dict]
    searches: list[dict]
    reports: list[dict]
    blocks: list[dict]
    meta: dict = field(default_factory=dict)


def load_world(directory: Path) -> World:
    """Loads the public tables of a world folder. Never opens `truth/` nor `policy.toml`."""
    if not directory.is_dir():
        raise WorldError(f"{directory}: not a directory")
    tables = {name: read_table(directory, name) for name in PUBLIC_TABLES}
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    world = World(meta=meta, **tables)
    n, p = len(world.accounts), len(world.posts)
    for index, account in enumerate(world.accounts):
        if account["id"] != index:
            raise WorldError(f"{directory}/accounts: row {index + 1}: id: expected dense id {index}, got {account['id']}")
    for index, post in enumerate(world.posts):
        if post["id"] != index:
            raise WorldError(f"{directory}/posts: row {index + 1}: id: expected dense id {index}, got {post['id']}")
        if post["author"] >= n:
            raise WorldError(f"{directory}/posts: row {index + 1}: author: unknown account {post['author']}")
    for name, a, b, limit_b in (
        ("follows", "src", "dst", n), ("views", "src", "dst", n), ("reports", "src", "dst", n),
        ("blocks", "src", "dst", n), ("likes", "account", "post", p), ("comments", "account", "post", p),
    ):
        for index, row in enumerate(getattr(world, name)):
            if row[a] >= n or row[b] >= limit_b:
                raise WorldError(f"{directory}/{name}: row {index + 1}: id out of range ({row[a]}, {row[b]})")
    return world


def read_ban_list(path: Path) -> frozenset[str]:
    """An exact ban list: one term per line, `#` starts a comment, compared case-folded."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise WorldError(f"{path}: cannot read the ban list: {error.strerror}") from None
    terms = {line.split("#", 1)[0].strip().casefold() for line in lines}
    terms.discard("")
    return frozenset(terms)


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------

@dataclass
class ModelConfig:
    model: str = "als"
    factors: int = 64
    iterations: int | None = None  # None: 15 for ALS, 50 for BPR
    regularization: float = 0.05
    alpha: float = 20.0
    learning_rate: float = 0.1
    seed: int = 1
    threads: int = 2
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


def normalise_term(text: str) -> str:
    """Search/autocomplete text as matched: trimmed, case-folded, one leading '#' removed."""
    text = text.strip().casefold()
    return text[1:] if text.startswith("#") else text


def top_ids(scores: np.ndarray, candidates: np.ndarray, k: int) -> list[int]:
    """The k best candidates by score, ties broken by the smaller id (determinism)."""
    if candidates.size == 0 or k <= 0:
        return []
    values = scores[candidates]
    if candidates.size > k:
        # Keep everything tied with the k-th value so the tie-break below sees all of it.
        kth = np.partition(-values, k - 1)[k - 1]
        keep = -values <= kth
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))
    return [int(c) for c in candidates[order[:k]]]


class Recommender:
    """All state of the server: the trained model, per-user rows and the public indexes.

    Accounts are both users (rows) and items (columns): a user's row holds the confidence
    of its engagement with each target account. Personas get ids after the world's
    accounts; they are users only (no item factors until a retrain, which this server
    never does), so they are never suggested to anyone.
    """

    def __init__(self, world: World, ban_list: frozenset[str], config: ModelConfig):
        self.config = config
        self.ban_list = ban_list
        self.lock = threading.RLock()
        self.world_accounts = len(world.accounts)
        self.posts = len(world.posts)
        self.meta = world.meta
        n = self.world_accounts
        self.handles = [a["handle"] for a in world.accounts]
        self.interests = [frozenset(a["interests"]) for a in world.accounts]
        self.accounts_with_interest: dict[str, np.ndarray] = {}
        for account in world.accounts:
            for interest in account["interests"]:
                if interest not in self.accounts_with_interest:
                    self.accounts_with_interest[interest] = np.zeros(n, dtype=bool)
                self.accounts_with_interest[interest][account["id"]] = True
        self.post_author = np.array([p["author"] for p in world.posts], dtype=np.int64)
        self.post_created = np.array([p["created_at"] for p in world.posts], dtype=np.int64)
        self.post_hashtags = [[normalise_term(t) for t in p["hashtags"]] for p in world.posts]

        # Posts per author, newest first (ties: smaller id first).
        self.posts_by_author: list[list[int]] = [[] for _ in range(n)]
        for post in sorted(world.posts, key=lambda p: (-p["created_at"], p["id"])):
            self.posts_by_author[post["author"]].append(post["id"])

        # Post engagement (likes + comments) for popularity tie-breaks.
        engagement = np.zeros(len(world.posts), dtype=np.float64)
        for row in world.likes:
            engagement[row["post"]] += 1
        for row in world.comments:
            engagement[row["post"]] += 1
        self.post_engagement = engagement

        # Hashtag index and popularity (posts using the tag, then engagement on them).
        self.tag_posts: dict[str, list[int]] = {}
        for post_id, tags in enumerate(self.post_hashtags):
            for tag in set(tags):
                self.tag_posts.setdefault(tag, []).append(post_id)
        self.tag_popularity = {
            tag: (len(ids), float(engagement[ids].sum())) for tag, ids in self.tag_posts.items()
        }
        self.tags_sorted = sorted(self.tag_posts)

        # Per-user state (grows with personas).
        self.rows: list[dict[int, float]] = [dict() for _ in range(n)]
        self.following: list[set[int]] = [set() for _ in range(n)]
        self.blocked: list[set[int]] = [set() for _ in range(n)]
        self.recent_searches: list[list[str]] = [[] for _ in range(n)]
        self.persona_profiles: list[dict] = []
        self.row_versions = [0] * n
        self.events_applied = 0

        weights = config.weights
        for row in world.follows:
            self.following[row["src"]].add(row["dst"])
            self.add_weight(row["src"], row["dst"], weights["follow"])
        for row in world.views:
            self.add_weight(row["src"], row["dst"], weights["view"])
        for row in world.likes:
            self.add_weight(row["account"], int(self.post_author[row["post"]]), weights["like"])
        for row in world.comments:
            self.add_weight(row["account"], int(self.post_author[row["post"]]), weights["comment"])
        for row in world.reports:
            self.add_weight(row["src"], row["dst"], weights["report"])
        for row in world.blocks:
            self.blocked[row["src"]].add(row["dst"])
            self.add_weight(row["src"], row["dst"], weights["block"])
        for row in sorted(world.searches, key=lambda r: r["at"]):
            self.recent_searches[row["account"]].append(normalise_term(row["query"]))

        self.popularity = np.zeros(n, dtype=np.float64)
        for user_row in self.rows:
            for target, weight in user_row.items():
                self.popularity[target] += weight

        started = time.perf_counter()
        self.train()
        self.train_seconds = time.perf_counter() - started

    # -- training -------------------------------------------------------------------------

    def add_weight(self, user: int, target: int, weight: float) -> None:
        # A self-engagement (liking one's own post) says nothing about taste.
        if weight > 0 and user != target and target < self.world_accounts:
            row = self.rows[user]
            row[target] = row.get(target, 0.0) + weight

    def row_matrix(self, users: list[int]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for user in users:
            items = sorted(self.rows[user].items())
            indices.extend(i for i, _ in items)
            data.extend(w for _, w in items)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
            shape=(len(users), self.world_accounts),
        )

    def train(self) -> None:
        from threadpoolctl import threadpool_limits

        config = self.config
        matrix = self.row_matrix(list(range(self.world_accounts)))
        with threadpool_limits(1, "blas"):
            if config.model == "als":
                from implicit.cpu.als import AlternatingLeastSquares

                model = AlternatingLeastSquares(
                    factors=config.factors,
                    regularization=config.regularization,
                    alpha=config.alpha,
                    iterations=config.iterations or 15,
                    num_threads=config.threads,
                    random_state=config.seed,
                )
            elif config.model == "bpr":
                from implicit.cpu.bpr import BayesianPersonalizedRanking

                # One thread: BPR's parallel SGD is lock-free (Hogwild), so more threads
                # would make the factors depend on scheduling and break determinism.
                model = BayesianPersonalizedRanking(
                    factors=config.factors,
                    learning_rate=config.learning_rate,
                    regularization=config.regularization,
                    iterations=config.iterations or 50,
                    num_threads=1,
                    random_state=config.seed,
                )
            else:
                raise ValueError(f"--model: expected als or bpr, got {config.model!r}")
            model.fit(matrix, show_progress=False)
        self.model = model
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32).copy()
        # BPR keeps an item bias in the last column (and a constant 1 in the user's); the
        # bias is popularity, not likeness, so similarity leaves it out.
        shape_factors = self.item_factors[:, :-1] if config.model == "bpr" else self.item_factors
        norms = np.linalg.norm(shape_factors, axis=1)
        self.item_norms = norms
        safe = np.where(norms > 0, norms, 1.0)
        self.item_unit = (shape_factors / safe[:, None]).astype(np.float32)
        digest = hashlib.sha256(self.item_factors.tobytes())
        digest.update(self.user_factors.tobytes())
        self.model_digest = digest.hexdigest()[:16]

    # -- the update rule ------------------------------------------------------------------

    def refold(self, user: int) -> None:
        """Recomputes one user's factors from its current row, item factors held fixed.

        ALS: the exact least-squares user step of ALS (implicit's `recalculate_user`):
        x_u = argmin sum_i c_ui (p_ui - x_u . y_i)^2 + lambda |x_u|^2, c_ui = alpha * w_ui,
        p_ui = 1 for every target in the row. One view makes w_ui > 0 for one target, which
        is enough to move x_u towards that target's item factor.
        BPR: implicit has no fold-in for BPR, so this runs BPR's own SGD on the user vector
        only (item factors and biases fixed), seeded by (seed, user, row version).
        """
        if user >= self.user_factors.shape[0]:
            grow = max(user + 1, int(self.user_factors.shape[0] * 1.5))
            bigger = np.zeros((grow, self.user_factors.shape[1]), dtype=np.float32)
            bigger[: self.user_factors.shape[0]] = self.user_factors
            if self.config.model == "bpr":
                bigger[self.user_factors.shape[0]:, -1] = 1.0
            self.user_factors = bigger
        if not self.rows[user]:
            self.user_factors[user] = 0.0
            if self.config.model == "bpr":
                self.user_factors[user, -1] = 1.0
            return
        if self.config.model == "als":
            self.user_factors[user] = self.model.recalculate_user(user, self.row_matrix([user]))
        else:
            self.user_factors[user] = self.bpr_fold_in(user)

    def bpr_fold_in(self, user: int) -> np.ndarray:
        config = self.config
        row = self.rows[user]
        positives = np.array(sorted(row), dtype=np.int64)
        confidence = np.array([row[i] for i in positives], dtype=np.float64)
        rng = np.random.default_rng([config.seed, user, self.row_versions[user]])
        items = self.item_factors
        vector = np.zeros(items.shape[1], dtype=np.float32)
        vector[-1] = 1.0
        in_row = np.zeros(items.shape[0], dtype=bool)
        in_row[positives] = True
        batch = 64
        for _ in range(200):
            i = rng.choice(positives, size=batch, p=confidence / confidence.sum())
            j = rng.integers(0, items.shape[0], size=batch)
            keep = ~in_row[j]
            if not keep.any():
                continue
            difference = items[i[keep]] - items[j[keep]]
            x = difference @ vector
            gradient = (1.0 / (1.0 + np.exp(x)))[:, None] * difference
            step = config.learning_rate * (gradient.mean(axis=0) - config.regularization * vector)
            step[-1] = 0.0
            vector = vector + step.astype(np.float32)
        return vector

    # -- ids ------------------------------------------------------------------------------

    @property
    def account_count(self) -> int:
        return self.world_accounts + len(self.persona_profiles)

    def account_id(self, value, name: str) -> int:
        """Parses an account id (JSON number or decimal string) and checks that it exists."""
        number = parse_id(value, name)
        if number >= self.account_count:
            raise RequestError(
                f"{name}: unknown account {number} (the world has {self.world_accounts} accounts "
                f"and {len(self.persona_profiles)} personas)"
            )
        return number

    def post_id(self, value, name: str) -> int:
        number = parse_id(value, name)
        if number >= self.posts:
            raise RequestError(f"{name}: unknown post {number} (the world has {self.posts} posts)")
        return number

    # -- routes ---------------------------------------------------------------------------

    def create_persona(self, body) -> dict:
        if not isinstance(body, dict):
            raise RequestError("body: expected a JSON object with handle, declared_age, gender, interests")
        handle = body.get("handle")
        if not isinstance(handle, str) or not 1 <= len(handle) <= 64 or any(c.isspace() or ord(c) < 32 for c in handle):
            raise RequestError(f"handle: expected 1-64 characters without spaces, got {handle!r}")
        age = body.get("declared_age")
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 255:
            raise RequestError(f"declared_age: expected an integer 0-255, got {age!r}")
        gender = body.get("gender")
        if gender not in GENDERS:
            raise RequestError(f"gender: expected one of woman, man, other, got {gender!r}")
        interests = body.get("interests")
        if (
            not isinstance(interests, list)
            or len(interests) > 32
            or not all(isinstance(i, str) and 1 <= len(i) <= 64 for i in interests)
        ):
            raise RequestError(f"interests: expected a list of at most 32 strings of 1-64 characters, got {interests!r}")
        with self.lock:
            account = self.account_count
            self.persona_profiles.append(
                {"handle": handle, "declared_age": age, "gender": gender, "interests": list(interests)}
            )
            self.handles.append(handle)
            self.interests.append(frozenset(interests))
            self.rows.append({})
            self.following.append(set())
            self.blocked.append(set())
            self.recent_searches.append([])
            self.row_versions.append(0)
            self.refold(account)
            return {"account": account}

    def apply_events(self, body) -> dict:
        if not isinstance(body, list):
            raise RequestError("body: expected a JSON array of events")
        if len(body) > MAX_EVENTS_PER_REQUEST:
            raise RequestError(f"body: at most {MAX_EVENTS_PER_REQUEST} events per request, got {len(body)}")
        with self.lock:
            # Validate every event before applying any: a batch is all or nothing.
            parsed = [self.parse_event(event, f"[{index}]") for index, event in enumerate(body)]
            touched: set[int] = set()
            weights = self.config.weights
            for kind, account, target, query in parsed:
                if kind == "search":
                    self.recent_searches[account].append(query)
                    continue
                if kind in POST_TARGET_TYPES:
                    author = int(self.post_author[target])
                    self.add_weight(account, author, weights[kind])
                else:
                    self.add_weight(account, target, weights[kind])
                    if kind == "follow":
                        self.following[account].add(target)
                    elif kind == "block":
                        self.blocked[account].add(target)
                touched.add(account)
            for account in sorted(touched):
                self.row_versions[account] += 1
                self.refold(account)
            self.events_applied += len(parsed)
            return {"accepted": len(parsed)}

    def parse_event(self, event, where: str):
        if not isinstance(event, dict):
            raise RequestError(f"{where}: expected an event object")
        kind = event.get("type")
        if kind not in EVENT_TYPES:
            raise RequestError(f"{where}.type: expected one of {', '.join(EVENT_TYPES)}, got {kind!r}")
        account = self.account_id(event.get("account"), f"{where}.account")
        target = query = None
        if kind == "search":
            query = event.get("query")
            if not isinstance(query, str) or not query.strip() or len(query) > 256:
                raise RequestError(f"{where}.query: expected a non-empty string of at most 256 characters, got {query!r}")
            query = normalise_term(query)
        elif kind in POST_TARGET_TYPES:
            target = self.post_id(event.get("target"), f"{where}.target")
        else:
            target = self.account_id(event.get("target"), f"{where}.target")
            if target == account:
                raise RequestError(f"{where}.target: an account cannot {kind} itself ({account})")
        return kind, account, target, query

    def scores_for(self, user: int) -> np.ndarray | None:
        """Model scores of every world account for `user`; None when the user has no history."""
        if not self.rows[user]:
            return None
        return self.item_factors @ self.user_factors[user]

    def cold_start_scores(self, user: int) -> np.ndarray:
        """No history yet: popular accounts sharing a declared interest first, then popular ones."""
        shared = np.zeros(self.world_accounts, dtype=bool)
        for interest in self.interests[user]:
            having = self.accounts_with_interest.get(interest)
            if having is not None:
                shared |= having
        return shared * (self.popularity.max() + 1.0) + self.popularity

    def ranking_scores(self, user: int) -> np.ndarray:
        scores = self.scores_for(user)
        return self.cold_start_scores(user) if scores is None else scores.astype(np.float64)

    def excluded_for(self, user: int) -> set[int]:
        return {user} | self.following[user] | self.blocked[user]

    def suggestions(self, user: int, k: int) -> dict:
        with self.lock:
            scores = self.ranking_scores(user)
            mask = np.ones(self.world_accounts, dtype=bool)
            for excluded in self.excluded_for(user):
                if excluded < self.world_accounts:
                    mask[excluded] = False
            return {"accounts": top_ids(scores, np.flatnonzero(mask), k)}

    def similar(self, account: int, viewer: int | None, k: int) -> dict:
        with self.lock:
            if account >= self.world_accounts or self.item_norms[account] == 0:
                return {"accounts": []}
            similarity = (self.item_unit @ self.item_unit[account]).astype(np.float64)
            mask = self.item_norms > 0
            mask[account] = False
            if viewer is not None:
                for excluded in {viewer} | self.blocked[viewer]:
                    if excluded < self.world_accounts:
                        mask[excluded] = False
            return {"accounts": top_ids(similarity, np.flatnonzero(mask), k)}

    def feed(self, user: int, k: int) -> dict:
        with self.lock:
            scores = self.ranking_scores(user)
            blocked = self.blocked[user]
            followed = sorted(a for a in self.following[user] if a < self.world_accounts and a not in blocked)
            followed_posts = [
                (-scores[author], -int(self.post_created[post]), post)
                for author in followed
                for post in self.posts_by_author[author][:FEED_POSTS_PER_AUTHOR]
            ]
            followed_posts.sort()
            followed_list = [post for _, _, post in followed_posts]
            discovery_authors = self.suggestions(user, k)["accounts"]
            discovery_list = [
                self.posts_by_author[author][0] for author in discovery_authors if self.posts_by_author[author]
            ]
            out: list[int] = []
            seen: set[int] = set()
            f = d = 0
            while len(out) < k and (f < len(followed_list) or d < len(discovery_list)):
                discovery_slot = (len(out) + 1) % FEED_DISCOVERY_SLOT == 0
                if (discovery_slot and d < len(discovery_list)) or f >= len(followed_list):
                    post, d = discovery_list[d], d + 1
                else:
                    post, f = followed_list[f], f + 1
                if post not in seen:
                    seen.add(post)
                    out.append(post)
            return {"posts": out}

    def search(self, user: int, query: str, k: int) -> dict:
        term = normalise_term(query)
        if not term:
            raise RequestError("q: expected a non-empty query")
        with self.lock:
            scores = self.ranking_scores(user)
            blocked = self.blocked[user]
            # Hashtag prefix match: "tag" reaches "tagboys" too, as hashtag search did.
            posts: set[int] = set()
            for tag in self.tags_with_prefix(term):
                posts.update(self.tag_posts[tag])
            posts = {p for p in posts if int(self.post_author[p]) not in blocked}
            accounts = {a for a in range(self.world_accounts) if self.handles[a].casefold().startswith(term)}
            accounts.update(int(self.post_author[p]) for p in posts)
            accounts -= blocked | {user}
            account_list = sorted(accounts, key=lambda a: (-scores[a], -self.popularity[a], a))[:k]
            post_list = sorted(
                posts,
                key=lambda p: (-scores[int(self.post_author[p])], -self.post_engagement[p], p),
            )[:k]
            return {
                "accounts": account_list,
                "posts": post_list,
                # The interstitial is a warning only: results stay behind it ("see results
                # anyway"), as on the platform in the reporting.
                "interstitial": term in self.ban_list,
            }

    def tags_with_prefix(self, prefix: str) -> list[str]:
        import bisect

        start = bisect.bisect_left(self.tags_sorted, prefix)
        out = []
        for tag in self.tags_sorted[start:]:
            if not tag.startswith(prefix):
                break
            out.append(tag)
        return out

    def autocomplete(self, user: int, prefix: str, k: int) -> dict:
        term = normalise_term(prefix)
        if not term:
            raise RequestError("prefix: expected at least one character besides '#'")
        with self.lock:
            # Only the exact banned tags are removed, as the platform did: variants pass.
            candidates = [t for t in self.tags_with_prefix(term) if t not in self.ban_list]
            known = set(candidates)
            recent = []
            for query in reversed(self.recent_searches[user]):
                if query in known and query not in recent:
                    recent.append(query)
            rest = sorted(
                (t for t in candidates if t not in recent),
                key=lambda t: (-self.tag_popularity[t][0], -self.tag_popularity[t][1], t),
            )
            return {"suggestions": (recent + rest)[:k]}

    def health(self) -> dict:
        with self.lock:
            return {
                "status": "ok",
                "model": self.config.model,
                "factors": self.config.factors,
                "seed": self.config.seed,
                "model_digest": self.model_digest,
                "accounts": self.world_accounts,
                "posts": self.posts,
                "personas": len(self.persona_profiles),
                "events_applied": self.events_applied,
                "train_seconds": round(self.train_seconds, 3),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }


def parse_id(value, name: str) -> int:
    """Ids are JSON numbers; decimal strings ("42") are accepted too."""
    if isinstance(value, bool) or value is None:
        raise RequestError(f"{name}: expected an id (a non-negative integer), got {json.dumps(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value.strip()):
        number = int(value.strip())
    else:
        raise RequestError(f"{name}: expected an id (a non-negative integer), got {json.dumps(value)}")
    if number < 0:
        raise RequestError(f"{name}: expected an id (a non-negative integer), got {number}")
    return number


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------

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

    def do_GET(self):  # noqa: N802 - stdlib naming
        self.handle_route("GET")

    def do_POST(self):  # noqa: N802 - stdlib naming
        self.handle_route("POST")


ROUTES = {
    "/healthz": "GET", "/personas": "POST", "/events": "POST", "/suggestions": "GET",
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
