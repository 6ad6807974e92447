"""World loading for the reference external recommender: the PUBLIC tables of a world
folder (accounts, posts, follows, views, likes, comments, searches, reports, blocks), typed
and checked as in crates/guardrail-world/docs/world-format.md, and the exact ban list.

What it is for: turning files into validated rows, with errors that name file, line and
field, so the model (model.py) and the serving state (recommender.py) never see a bad id.

What it must never do: open the world's `truth/` folder (ground truth is for scoring only;
a system under audit that read it would make the audit meaningless) or its `policy.toml`
(that is Guardrail's policy, not the audited system's: its only text policy is the ban
list file). It holds no model and no serving state.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path


class WorldError(Exception):
    """A world table that cannot be read; the message names file, line and field."""


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

