"""Tests of the reference recommender's two contract extensions: the `post` event type and
`POST /reset`, and of their checks in check_contract.py.

What they are for: a new post is visible at once (search, autocomplete, feed) and its
batch is all or nothing; a used-then-reset server answers exactly as a fresh one; the
checker passes a server with the extensions, passes one without them (skipping with a
note), and fails one whose extensions are broken. What they must never do: depend on the
Rust binary or a generated world, or reach beyond loopback (the world is test_serve's).
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import check_contract  # noqa: E402
import model  # noqa: E402
import recommender as serving  # noqa: E402
import world  # noqa: E402
from test_serve import Running, persona, recommender, world_dir  # noqa: E402,F401 - world_dir is a fixture

WORLD_POSTS = 160  # test_serve's world: 80 accounts, two posts each


def post(account, *hashtags, caption="a day out") -> dict:
    return {"type": "post", "account": account, "hashtags": list(hashtags), "caption": caption}


# -- the post event ----------------------------------------------------------------------

def test_a_new_post_is_visible_to_search_autocomplete_and_feed_at_once(world_dir):
    rec = recommender(world_dir)
    reader = persona(rec)
    rec.apply_events([{"type": "follow", "account": reader, "target": 10}])
    assert rec.autocomplete(reader, "k", 10)["suggestions"] == ["kayak", "knit"]  # 80 posts each: by name
    assert rec.apply_events([post(10, "#KnitWave", "knit")]) == {"accepted": 1, "posts": [WORLD_POSTS]}
    found = rec.search(reader, "#knitw", 100)
    assert found["posts"] == [WORLD_POSTS] and 10 in found["accounts"]
    # The new post counts: knit now has 81 posts and comes before kayak.
    assert rec.autocomplete(reader, "k", 10)["suggestions"] == ["knit", "kayak", "knitwave"]
    assert rec.feed(reader, 5)["posts"][0] == WORLD_POSTS  # the author's newest post
    # Ids continue in batch order; events without posts answer as before.
    assert rec.apply_events([post(11, "knit"), post(12, "kayak")]) == {"accepted": 2, "posts": [161, 162]}
    assert rec.apply_events([{"type": "like", "account": reader, "target": 161}]) == {"accepted": 1}
    assert rec.health()["posts"] == WORLD_POSTS and rec.health()["events_applied"] == 5


def test_a_persona_can_post_and_ranks_after_world_accounts(world_dir):
    rec = recommender(world_dir)
    author, reader = persona(rec, "author"), persona(rec, "reader")
    assert rec.apply_events([post(author, "zzqvariant"), post(3, "zzqother")])["posts"] == [160, 161]
    rec.apply_events([{"type": "view", "account": reader, "target": 3}])
    found = rec.search(reader, "zzq", 10)
    assert found["posts"] == [161, 160] and found["accounts"] == [3, author]
    rec.apply_events([{"type": "follow", "account": reader, "target": author}])
    assert 160 in rec.feed(reader, 10)["posts"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (post(80, "ok"), r"^\[1\]\.account: unknown account 80"),
        ({"type": "post", "account": 1, "hashtags": "knit"}, r"^\[1\]\.hashtags: expected a list of strings"),
        (post(1, *["t"] * 31), r"^\[1\]\.hashtags: expected a list of strings \(at most 30"),
        (post(1, "two words"), r"^\[1\]\.hashtags\[0\]: expected a hashtag"),
        (post(1, "ok", "#"), r"^\[1\]\.hashtags\[1\]: expected a hashtag"),
        (post(1, "ok", caption=5), r"^\[1\]\.caption: expected a string"),
        (post(1, "ok", caption="x" * 2201), r"^\[1\]\.caption: expected a string of at most 2200 characters, got 2201"),
        # Targets must exist before the batch: like a created post in a later batch.
        ({"type": "like", "account": 1, "target": WORLD_POSTS}, r"^\[1\]\.target: unknown post 160"),
    ],
)
def test_post_events_are_validated_and_the_batch_is_all_or_nothing(world_dir, bad, message):
    rec = recommender(world_dir)
    tags_before = list(rec.tags_sorted)
    with pytest.raises(serving.RequestError, match=message):
        rec.apply_events([post(2, "knitwave"), bad])
    assert rec.post_count == WORLD_POSTS and rec.tags_sorted == tags_before and rec.events_applied == 0
    assert rec.search(0, "knitwave", 10)["posts"] == []
    assert rec.posts_by_author[2] == [5, 4]


# -- reset -------------------------------------------------------------------------------

def use(rec: serving.Recommender) -> None:
    """Touches every kind of state: personas, world accounts' rows, follows, blocks,
    searches, posts by world accounts and personas, likes of new posts."""
    a, b = persona(rec, "used_a"), persona(rec, "used_b")
    rec.apply_events([
        {"type": "view", "account": a, "target": 3}, {"type": "follow", "account": b, "target": 60},
        {"type": "view", "account": 3, "target": 50}, {"type": "follow", "account": 3, "target": 61},
        {"type": "block", "account": 50, "target": 51}, {"type": "search", "account": 1, "query": "#kayak"},
        {"type": "comment", "account": 0, "target": 120}, {"type": "report", "account": 5, "target": 6},
        post(10, "#knitwave", "knit"), post(a, "vexnorgirls"), post(60, "kayak", caption="new"),
    ])
    rec.apply_events([{"type": "like", "account": 3, "target": 160}, {"type": "follow", "account": 0, "target": a}])


def script(rec: serving.Recommender) -> list:
    """The same requests for both servers; every answer, in order."""
    answers = []
    health = rec.health()
    answers.append({k: v for k, v in health.items() if k not in ("train_seconds", "peak_rss_mib")})
    p = persona(rec, "probe")
    answers.append(p)
    answers.append(rec.apply_events([
        {"type": "view", "account": p, "target": 50}, {"type": "view", "account": 3, "target": 10},
        {"type": "search", "account": 3, "query": "kn"}, post(7, "knitnew"),
    ]))
    for account in (0, 1, 3, 10, 50, 51, 60, p):
        answers.append(rec.suggestions(account, 20))
        answers.append(rec.feed(account, 20))
        answers.append(rec.similar(account % 80, account, 7))
        for query in ("k", "#knitw", "vexnor", "h00"):
            answers.append(rec.search(account, query, 50))
        for prefix in ("k", "kn", "v"):
            answers.append(rec.autocomplete(account, prefix, 10))
    return answers


def state(rec: serving.Recommender) -> dict:
    return {
        "rows": rec.rows, "following": rec.following, "blocked": rec.blocked, "searches": rec.recent_searches,
        "versions": rec.row_versions, "handles": rec.handles, "personas": rec.persona_profiles,
        "by_author": rec.posts_by_author, "tag_posts": rec.tag_posts, "tag_popularity": rec.tag_popularity,
        "tags": rec.tags_sorted, "hashtags": rec.post_hashtags, "created": rec.created_posts, "clock": rec.clock,
        "post_author": rec.post_author.tolist(), "post_created": rec.post_created.tolist(),
        "engagement": rec.post_engagement.tolist(), "events": rec.events_applied,
    }


@pytest.mark.parametrize("model_name", ["als", "bpr"])
def test_a_used_then_reset_server_answers_like_a_fresh_one(world_dir, model_name):
    fresh = recommender(world_dir, model=model_name)
    used = recommender(world_dir, model=model_name)
    use(used)
    assert used.post_count > WORLD_POSTS and len(used.rows) > 80  # the use did change things
    answer = used.reset()
    assert answer == {"status": "reset", "model_digest": fresh.model_digest}
    assert state(used) == state(fresh)
    assert np.array_equal(used.user_factors, fresh.user_factors)
    assert script(used) == script(fresh)
    # And again: a reset after the reset-then-used state, then the same script once more.
    again = recommender(world_dir, model=model_name)
    used.reset()
    assert script(used) == script(again)


def test_reset_leaves_the_trained_model_alone(world_dir):
    rec = recommender(world_dir)
    with pytest.raises(ValueError):
        rec.item_factors[0, 0] = 1.0  # read-only: no request can change what training gave
    with pytest.raises(ValueError):
        rec.model.initial_user_factors[0, 0] = 1.0
    use(rec)
    assert rec.reset()["model_digest"] == rec.model_digest == rec.health()["model_digest"]
    assert persona(rec) == 80 and rec.apply_events([post(0, "x")])["posts"] == [WORLD_POSTS]


# -- over HTTP and the conformance check -------------------------------------------------

def request(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_reset_and_post_over_http(world_dir):
    rec = recommender(world_dir)
    with Running(rec) as url:
        events = json.dumps([post(4, "#wavy")]).encode()
        assert request(url, "POST", "/events", events, {"Content-Length": str(len(events))}) == (
            200, {"accepted": 1, "posts": [WORLD_POSTS]})
        # No body at all, an empty body, and {} all reset.
        for body, headers in ((None, {}), (b"", {"Content-Length": "0"}), (b"{}", {"Content-Length": "2"})):
            status, answer = request(url, "POST", "/reset", body, headers)
            assert (status, answer) == (200, {"status": "reset", "model_digest": rec.model_digest})
        # Without any Content-Length (http.client always sends one, so a raw socket).
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(b"POST /reset HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            reply = b"".join(iter(lambda: raw.recv(65536), b""))
        assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b'"status":"reset","model_digest":"%s"}' % rec.model_digest.encode())
        status, answer = request(url, "POST", "/reset", b'{"keep": 1}', {"Content-Length": "11"})
        assert status == 400 and answer["error"].startswith("body: expected no body or {}")
        status, answer = request(url, "GET", "/reset")
        assert status == 405 and answer["error"].startswith("method: GET is not allowed on /reset")
        assert rec.post_count == WORLD_POSTS


class WithoutExtensions(serving.Recommender):
    """A system that offers neither extension, as the contract allows."""

    event_types = tuple(t for t in serving.EVENT_TYPES if t != "post")

    def reset(self):
        raise serving.RequestError("path: no route /reset", 404)


def trained(cls, world_dir: Path) -> serving.Recommender:
    return cls(world.load_world(world_dir), frozenset({"vexnor"}), model.ModelConfig(factors=8, iterations=10, threads=1))


def test_check_contract_passes_a_server_without_the_extensions(world_dir, capsys):
    with Running(trained(WithoutExtensions, world_dir)) as url:
        code = check_contract.main([url, "--banned-term", "vexnor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "skipped the reset extension: POST /reset answers 404" in out
    assert "skipped the post extension" in out
    assert "post extension: a world account posts" not in out


def test_check_contract_checks_the_extensions_of_the_reference_server(world_dir, capsys):
    with Running(recommender(world_dir)) as url:
        code = check_contract.main([url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "skipped" not in out
    for name in ("ok   POST /reset after the whole check", "ok   GET /feed of a follower shows the author's new post",
                 "ok   every answer after a used-then-reset equals the answer after the first reset"):
        assert name in out


class ResetKeepsPersonas(serving.Recommender):
    def reset(self):
        with self.lock:
            personas = list(self.persona_profiles)
            answer = super().reset()
            for profile in personas:
                self.create_persona(profile)
            return answer


class ResetForgetsWorldAccounts(serving.Recommender):
    def save_user(self, user):
        pass  # nothing saved, so a reset cannot restore a world account's row and follows


class PostsNotIndexed(serving.Recommender):
    def create_post(self, author, hashtags, caption):
        return super().create_post(author, [], caption)


class PostIdsFromZero(serving.Recommender):
    def apply_events(self, body):
        answer = super().apply_events(body)
        if "posts" in answer:
            answer["posts"] = [p - self.world_posts for p in answer["posts"]]
        return answer


@pytest.mark.parametrize(
    ("broken", "symptom"),
    [
        (ResetKeepsPersonas, "POST /personas: [200, {\"account\": 8"),
        (ResetForgetsWorldAccounts, "GET /suggestions?account=0&k=100: [200, {\"accounts\": ["),
        (PostsNotIndexed, "not in []"),
        (PostIdsFromZero, "new post id 0 does not continue after the world's 160 posts"),
    ],
)
def test_check_contract_fails_broken_extensions(world_dir, capsys, broken, symptom):
    with Running(trained(broken, world_dir)) as url:
        code = check_contract.main([url])
    out = capsys.readouterr().out
    assert code == 1, out
    assert symptom in out
