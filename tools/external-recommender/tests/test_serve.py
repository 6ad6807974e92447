"""Tests of the reference external recommender and of the conformance check.

What they are for: the server's promises (public tables only, deterministic training, one
view moves suggestions, all-or-nothing event batches, exact ban list) and the checker's
(passes a conforming server, fails a broken one), on a tiny world written here. What they
must never do: depend on the Rust binary or a generated world, or reach beyond loopback.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import check_contract  # noqa: E402
import model  # noqa: E402
import recommender as serving  # noqa: E402
import serve  # noqa: E402
import world  # noqa: E402

COMMUNITY = 40  # accounts 0..39 are community A (tag "knit"), 40..79 community B ("kayak")


def write_world(directory: Path, seed: int = 3) -> None:
    """Two tight communities with their own hashtags, plus a truth/ folder nothing may read."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    n = 2 * COMMUNITY

    def write(name: str, header: list[str], rows: list[list]) -> None:
        with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    accounts = []
    for a in range(n):
        interest = "knitting" if a < COMMUNITY else "kayaking"
        accounts.append([a, f"h{a:03d}", 30, "woman" if a % 2 else "man", "ca", interest, "false", 0, "hello, world"])
    write("accounts", ["id", "handle", "declared_age", "gender", "country", "interests", "business", "created_at", "bio"], accounts)
    posts = []
    for a in range(n):
        tags = ["knit"] if a < COMMUNITY else ["kayak"]
        if a in (5, 6):
            tags.append("vexnorboys")  # a variant of a banned term
        if a == 7:
            tags.append("vexnor")  # the exact banned term
        for day in (1, 2):
            posts.append([len(posts), a, day, "false", "|".join(tags), "a day out"])
    write("posts", ["id", "author", "created_at", "features_minor", "hashtags", "caption"], posts)
    follows, views, likes = [], [], []
    for a in range(n):
        lo = 0 if a < COMMUNITY else COMMUNITY
        for b in rng.sample(range(lo, lo + COMMUNITY), 12):
            if b != a:
                follows.append([a, b, rng.randrange(10)])
        for b in rng.sample(range(lo, lo + COMMUNITY), 4):
            views.append([a, b, rng.randrange(10)])
        for p in rng.sample(range(2 * lo, 2 * (lo + COMMUNITY)), 3):
            likes.append([a, p, rng.randrange(10)])
    write("follows", ["src", "dst", "at"], follows)
    write("views", ["src", "dst", "at"], views)
    write("likes", ["account", "post", "at"], likes)
    write("comments", ["account", "post", "at"], [])
    write("searches", ["account", "at", "query"], [[1, 0, "knit"], [1, 1, "kayak"]])
    write("reports", ["src", "dst", "at"], [])
    write("blocks", ["src", "dst", "at"], [])
    (directory / "meta.json").write_text(json.dumps({"synthetic": True, "seed": seed, "format_version": 1, "days": 10}))
    (directory / "policy.toml").write_text("this is not TOML and must never be read\n")
    (directory / "truth").mkdir(exist_ok=True)
    (directory / "truth" / "roles.csv").write_text("account,role,group,camouflaged\n")


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("world")
    write_world(directory)
    return directory


def recommender(world_dir: Path, **config) -> serving.Recommender:
    config.setdefault("factors", 8)
    config.setdefault("iterations", 10)
    # One thread: ALS factors do not depend on it (tested below), and on a loaded machine a
    # second training thread costs more than it saves on a world this small.
    config.setdefault("threads", 1)
    return serving.Recommender(world.load_world(world_dir), frozenset({"vexnor"}), model.ModelConfig(**config))


def persona(rec: serving.Recommender, handle: str = "probe") -> int:
    return rec.create_persona({"handle": handle, "declared_age": 35, "gender": "man", "interests": []})["account"]


# -- loading -----------------------------------------------------------------------------

def test_csv_and_jsonl_worlds_load_identically(world_dir, tmp_path):
    for source in world_dir.glob("*.csv"):
        table = world.read_table(world_dir, source.stem)
        with open(tmp_path / f"{source.stem}.jsonl", "w", encoding="utf-8") as handle:
            for row in table:
                handle.write(json.dumps(row) + "\n")
    csv_world, jsonl_world = world.load_world(world_dir), world.load_world(tmp_path)
    assert csv_world.accounts == jsonl_world.accounts
    assert csv_world.posts == jsonl_world.posts
    assert csv_world.follows == jsonl_world.follows


@pytest.mark.parametrize(
    ("table", "line", "bad", "expected"),
    [
        ("follows", 3, "0,x,1", "follows.csv:3: dst: expected a non-negative integer"),
        ("posts", 2, "0,0,1,maybe,knit,cap", "posts.csv:2: features_minor: expected true or false"),
        ("views", 2, "0,1", "views.csv:2: expected 3 fields, got 2"),
    ],
)
def test_bad_rows_name_file_line_and_field(world_dir, tmp_path, table, line, bad, expected):
    for source in world_dir.glob("*.csv"):
        lines = source.read_text(encoding="utf-8").splitlines()
        if source.stem == table:
            lines[line - 1] = bad
        (tmp_path / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(world.WorldError, match=expected.replace("(", r"\(")):
        world.load_world(tmp_path)


def test_never_opens_truth_or_policy(world_dir):
    opened: list[str] = []
    active = [True]

    def hook(event, args):
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # audit hooks cannot be removed; `active` switches this one off
    try:
        rec = recommender(world_dir)
        rec.suggestions(persona(rec), 5)
    finally:
        active[0] = False
    assert any(path.endswith("follows.csv") for path in opened), "the hook saw no table being opened"
    assert not [p for p in opened if "truth" in Path(p).parts or p.endswith("policy.toml")]


# -- model -------------------------------------------------------------------------------

def test_training_is_deterministic_given_the_seed(world_dir):
    assert recommender(world_dir, seed=4).model_digest == recommender(world_dir, seed=4).model_digest
    # ALS solves each row independently, so the thread count must not change the factors.
    assert recommender(world_dir, seed=4, threads=1).model_digest == recommender(world_dir, seed=4, threads=2).model_digest
    assert recommender(world_dir, model="bpr", seed=4).model_digest == recommender(world_dir, model="bpr", seed=4).model_digest
    assert recommender(world_dir, seed=4).model_digest != recommender(world_dir, seed=5).model_digest


@pytest.mark.parametrize("model", ["als", "bpr"])
def test_one_view_pulls_suggestions_into_the_viewed_community(world_dir, model):
    rec = recommender(world_dir, model=model, iterations=10 if model == "als" else 200)
    for viewed, community in ((3, range(0, COMMUNITY)), (50, range(COMMUNITY, 2 * COMMUNITY))):
        probe = persona(rec, f"p{viewed}")
        cold = rec.suggestions(probe, 10)["accounts"]
        rec.apply_events([{"type": "view", "account": probe, "target": viewed}])
        warm = rec.suggestions(probe, 10)["accounts"]
        assert warm != cold
        inside = sum(1 for a in warm if a in community)
        assert inside >= 8, f"{model}: only {inside}/10 suggestions in the viewed community: {warm}"


def test_suggestions_exclude_self_followed_and_blocked(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    rec.apply_events([{"type": "view", "account": probe, "target": 3}])
    first = rec.suggestions(probe, 5)["accounts"]
    rec.apply_events([
        {"type": "follow", "account": probe, "target": first[0]},
        {"type": "block", "account": probe, "target": first[1]},
    ])
    after = rec.suggestions(probe, 80)["accounts"]
    assert not {probe, first[0], first[1]} & set(after)


def test_event_batches_are_all_or_nothing(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    with pytest.raises(serving.RequestError, match=r"^\[1\]\.target: unknown account 999"):
        rec.apply_events([
            {"type": "view", "account": probe, "target": 3},
            {"type": "follow", "account": probe, "target": 999},
        ])
    assert rec.rows[probe] == {} and rec.events_applied == 0


def test_ids_may_be_strings_but_not_booleans(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    assert rec.apply_events([{"type": "view", "account": str(probe), "target": "3"}]) == {"accepted": 1}
    with pytest.raises(serving.RequestError, match=r"^\[0\]\.target: expected an id"):
        rec.apply_events([{"type": "view", "account": probe, "target": True}])


def test_search_interstitial_is_exact_and_results_stay_behind_it(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    banned = rec.search(probe, "#VEXNOR", 100)
    assert banned["interstitial"] is True
    # Prefix match: the exact term reaches its variant's posts too ("see results anyway").
    assert {rec.post_author[p] for p in banned["posts"]} == {5, 6, 7}
    assert rec.search(probe, "vexnorboys", 100)["interstitial"] is False
    assert rec.search(probe, "knit", 100)["interstitial"] is False


def test_autocomplete_drops_only_the_exact_banned_tag(world_dir):
    rec = recommender(world_dir)
    assert rec.autocomplete(persona(rec), "#vex", 10)["suggestions"] == ["vexnorboys"]


def test_autocomplete_puts_recent_searches_first(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    assert rec.autocomplete(probe, "k", 10)["suggestions"] == ["kayak", "knit"]  # tie: by name
    rec.apply_events([{"type": "search", "account": probe, "query": "#knit"}])
    assert rec.autocomplete(probe, "k", 10)["suggestions"] == ["knit", "kayak"]


def test_feed_shows_followed_posts_then_discovery(world_dir):
    rec = recommender(world_dir)
    probe = persona(rec)
    rec.apply_events([{"type": "follow", "account": probe, "target": 60}])
    posts = rec.feed(probe, 8)["posts"]
    assert len(posts) == len(set(posts)) == 8
    assert [rec.post_author[p] for p in posts[:2]] == [60, 60]  # its two posts, newest first
    assert posts[0] > posts[1]


# -- the conformance check ---------------------------------------------------------------

class Running:
    """serve.py's HTTP server on loopback, in a thread, around a given recommender."""

    def __init__(self, rec: serving.Recommender):
        handler = type("TestHandler", (serve.Handler,), {"recommender": rec})
        self.server = serve.Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.url

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_check_contract_passes_the_reference_server(world_dir, capsys):
    with Running(recommender(world_dir)) as url:
        code = check_contract.main([url, "--banned-term", "vexnor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 failed" in out


class IdsAsStrings(serving.Recommender):
    def suggestions(self, user, k):
        return {"accounts": [str(a) for a in super().suggestions(user, k)["accounts"]]}


class IgnoresK(serving.Recommender):
    def similar(self, account, viewer, k):
        return super().similar(account, viewer, k + 3)


class DeafToEvents(serving.Recommender):
    def apply_events(self, body):
        return {"accepted": len(body) if isinstance(body, list) else 0}


class VagueErrors(serving.Recommender):
    def account_id(self, value, name):
        try:
            return super().account_id(value, name)
        except serving.RequestError:
            raise serving.RequestError("bad request") from None


@pytest.mark.parametrize(
    ("broken", "symptom"),
    [
        (IdsAsStrings, "is not of type 'integer'"),
        (IgnoresK, "items for k=5"),
        (DeafToEvents, "suggestions unchanged after a view"),
        (VagueErrors, "error should start with 'account'"),
    ],
)
def test_check_contract_fails_a_broken_server(world_dir, capsys, broken, symptom):
    rec = broken(world.load_world(world_dir), frozenset({"vexnor"}), model.ModelConfig(factors=8, iterations=10, threads=1))
    with Running(rec) as url:
        code = check_contract.main([url])
    out = capsys.readouterr().out
    assert code == 1, out
    assert symptom in out
