"""The serving state of the reference external recommender and the answers of every route:
per-user engagement rows, follows, blocks, searches, personas, posts created over HTTP,
and the suggestions, similar accounts, feed, search and autocomplete computed from them
and the trained model (model.py).

What it is for: turning contract requests (already parsed from HTTP by serve.py) into
answers and state changes, with errors that start with the offending field, and putting
the state back exactly where training left it on `reset`.

What it must never do: read files (the world arrives as `world.World`, public tables
only), apply any guardrail (it is the system under audit, deliberately naive), change the
trained model (item factors are fixed while serving), or let a request see a half-applied
batch (one lock serialises everything; a batch is validated whole before it is applied).
"""

from __future__ import annotations

import bisect
import json
import os
import re
import resource
import threading
import time

# These must be set before numpy loads its BLAS (see model.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from model import ModelConfig, TrainedModel, rows_to_csr, top_ids  # noqa: E402
from world import World  # noqa: E402

# `post` is an extension of the contract (see docs/external-contract.openapi.yaml).
EVENT_TYPES = ("follow", "view", "like", "comment", "search", "report", "block", "post")
ACCOUNT_TARGET_TYPES = ("follow", "view", "report", "block")
POST_TARGET_TYPES = ("like", "comment")
GENDERS = ("woman", "man", "other")

MAX_EVENTS_PER_REQUEST = 10000
# A created post: at most this many hashtags of at most this many characters, and a
# caption of at most this many characters (the platform in the reporting allowed 30
# hashtags and 2,200 caption characters).
MAX_POST_HASHTAGS = 30
MAX_HASHTAG_CHARS = 100
MAX_CAPTION_CHARS = 2200
# Feed: posts per followed author considered, and every FEED_DISCOVERY_SLOT-th slot goes to
# a recommended (not followed) author, as feeds with "suggested posts" do.
FEED_POSTS_PER_AUTHOR = 3
FEED_DISCOVERY_SLOT = 4


class RequestError(Exception):
    """A client mistake; the message names the field and what was expected."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def normalise_term(text: str) -> str:
    """Search/autocomplete text as matched: trimmed, case-folded, one leading '#' removed."""
    text = text.strip().casefold()
    return text[1:] if text.startswith("#") else text


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


class Recommender:
    """All state of the server: the trained model, per-user rows and the public indexes.

    Accounts are both users (rows) and items (columns): a user's row holds the confidence
    of its engagement with each target account. Personas get ids after the world's
    accounts; they are users only (no item factors until a retrain, which this server
    never does), so they are never suggested to anyone.

    Reset is copy-on-write: before the first change to a world account's state (or an
    author's post list, or a hashtag's index entry) since the last reset, its state as
    training left it is saved; `reset` puts the saved entries back and cuts every list
    that grows (personas, posts) back to the world's size. Every mutation goes through
    `save_user`, `save_author` or `save_tag` first.
    """

    # A class attribute so that a test can model a system without the `post` extension.
    event_types = EVENT_TYPES

    def __init__(self, world: World, ban_list: frozenset[str], config: ModelConfig):
        self.config = config
        self.ban_list = ban_list
        self.lock = threading.RLock()
        self.world_accounts = len(world.accounts)
        self.world_posts = len(world.posts)
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

        # Post arrays are replaced, never written in place, so the world's stay intact
        # for `reset`.
        self.world_post_author = np.array([p["author"] for p in world.posts], dtype=np.int64)
        self.world_post_created = np.array([p["created_at"] for p in world.posts], dtype=np.int64)
        self.post_author = self.world_post_author
        self.post_created = self.world_post_created
        self.post_hashtags = [[normalise_term(t) for t in p["hashtags"]] for p in world.posts]
        self.created_posts: list[dict] = []  # posts created over HTTP, id = world_posts + index
        # New posts are stamped after everything the world holds, so each is its author's newest.
        self.world_clock = int(self.world_post_created.max()) if self.world_posts else 0
        self.clock = self.world_clock

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
        self.world_post_engagement = engagement
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
        self.model = TrainedModel(rows_to_csr(self.rows, n), config)
        self.train_seconds = time.perf_counter() - started
        self.model_digest = self.model.digest
        self.item_factors = self.model.item_factors
        self.user_factors = self.model.initial_user_factors.copy()

        # Copy-on-write saves since the last reset (see the class doc).
        self.saved_users: dict[int, tuple] = {}
        self.saved_authors: dict[int, list[int]] = {}
        self.saved_tags: dict[str, tuple | None] = {}
        self.saved_tags_sorted: list[str] | None = None

    # -- state changes --------------------------------------------------------------------

    def add_weight(self, user: int, target: int, weight: float) -> None:
        # A self-engagement (liking one's own post) says nothing about taste.
        if weight > 0 and user != target and target < self.world_accounts:
            row = self.rows[user]
            row[target] = row.get(target, 0.0) + weight

    def save_user(self, user: int) -> None:
        """Saves a world account's per-user state before its first change since the reset."""
        if user < self.world_accounts and user not in self.saved_users:
            self.saved_users[user] = (
                dict(self.rows[user]), set(self.following[user]), set(self.blocked[user]),
                list(self.recent_searches[user]), self.row_versions[user],
            )

    def save_author(self, author: int) -> None:
        if author < self.world_accounts and author not in self.saved_authors:
            self.saved_authors[author] = list(self.posts_by_author[author])

    def save_tag(self, tag: str) -> None:
        if tag not in self.saved_tags:
            known = tag in self.tag_posts
            self.saved_tags[tag] = (list(self.tag_posts[tag]), self.tag_popularity[tag]) if known else None
            if not known and self.saved_tags_sorted is None:
                self.saved_tags_sorted = list(self.tags_sorted)

    def refold(self, user: int) -> None:
        """Recomputes one user's factors from its current row (model.TrainedModel.fold_in)."""
        if user >= self.user_factors.shape[0]:
            grow = max(user + 1, int(self.user_factors.shape[0] * 1.5))
            bigger = np.zeros((grow, self.user_factors.shape[1]), dtype=np.float32)
            bigger[: self.user_factors.shape[0]] = self.user_factors
            bigger[self.user_factors.shape[0]:] = self.model.empty_user()
            self.user_factors = bigger
        self.user_factors[user] = self.model.fold_in(user, self.rows[user], self.row_versions[user])

    def reset(self) -> dict:
        """Back to the state right after training: no personas, no events, no new posts.

        Answers every request afterwards exactly as a freshly started server would. The
        digest is computed from the restored factors, so it proves the restore."""
        with self.lock:
            n = self.world_accounts
            for user, (row, following, blocked, searches, version) in self.saved_users.items():
                self.rows[user], self.following[user], self.blocked[user] = row, following, blocked
                self.recent_searches[user], self.row_versions[user] = searches, version
            for author, posts in self.saved_authors.items():
                self.posts_by_author[author] = posts
            for tag, saved in self.saved_tags.items():
                if saved is None:
                    del self.tag_posts[tag], self.tag_popularity[tag]
                else:
                    self.tag_posts[tag], self.tag_popularity[tag] = saved
            if self.saved_tags_sorted is not None:
                self.tags_sorted = self.saved_tags_sorted
            self.saved_users, self.saved_authors, self.saved_tags = {}, {}, {}
            self.saved_tags_sorted = None
            for grown in (self.rows, self.following, self.blocked, self.recent_searches, self.row_versions,
                          self.handles, self.interests, self.posts_by_author):
                del grown[n:]
            self.persona_profiles.clear()
            self.post_author, self.post_created = self.world_post_author, self.world_post_created
            self.post_engagement = self.world_post_engagement
            del self.post_hashtags[self.world_posts:]
            self.created_posts.clear()
            self.clock = self.world_clock
            self.user_factors = self.model.initial_user_factors.copy()
            self.events_applied = 0
            return {"status": "reset", "model_digest": self.model.digest_of(self.user_factors)}

    # -- ids ------------------------------------------------------------------------------

    @property
    def account_count(self) -> int:
        return self.world_accounts + len(self.persona_profiles)

    @property
    def post_count(self) -> int:
        return self.world_posts + len(self.created_posts)

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
        if number >= self.post_count:
            created = f" and {len(self.created_posts)} created posts" if self.created_posts else ""
            raise RequestError(f"{name}: unknown post {number} (the world has {self.world_posts} posts{created})")
        return number

    # -- routes that change state ---------------------------------------------------------

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
            self.posts_by_author.append([])
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
            created: list[int] = []
            weights = self.config.weights
            for kind, account, target, extra in parsed:
                if kind == "post":
                    created.append(self.create_post(account, *extra))
                    continue
                self.save_user(account)
                if kind == "search":
                    self.recent_searches[account].append(extra)
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
            if created:
                # One array copy per batch, not per post.
                new = self.created_posts[-len(created):]
                self.post_author = np.concatenate([self.post_author, [p["author"] for p in new]]).astype(np.int64)
                self.post_created = np.concatenate([self.post_created, [p["created_at"] for p in new]]).astype(np.int64)
                self.post_engagement = np.concatenate([self.post_engagement, np.zeros(len(new))])
            for account in sorted(touched):
                self.row_versions[account] += 1
                self.refold(account)
            self.events_applied += len(parsed)
            answer = {"accepted": len(parsed)}
            if created:
                answer["posts"] = created
            return answer

    def create_post(self, author: int, hashtags: list[str], caption: str) -> int:
        """Indexes a new post at once (search, autocomplete, the author's newest post).
        The post arrays are extended by the caller, once per batch."""
        post = self.post_count
        self.clock += 1
        self.created_posts.append({"author": author, "created_at": self.clock, "hashtags": hashtags, "caption": caption})
        self.post_hashtags.append(hashtags)
        self.save_author(author)
        self.posts_by_author[author].insert(0, post)
        for tag in dict.fromkeys(hashtags):
            self.save_tag(tag)
            if tag not in self.tag_posts:
                self.tag_posts[tag] = []
                self.tag_popularity[tag] = (0, 0.0)
                bisect.insort(self.tags_sorted, tag)
            self.tag_posts[tag].append(post)
            count, engagement = self.tag_popularity[tag]
            self.tag_popularity[tag] = (count + 1, engagement)  # a new post has no engagement yet
        return post

    def parse_event(self, event, where: str):
        """(type, account, target, extra): extra is the normalised query of a search, or
        (hashtags, caption) of a post. Targets must exist before the batch starts."""
        if not isinstance(event, dict):
            raise RequestError(f"{where}: expected an event object")
        kind = event.get("type")
        if kind not in self.event_types:
            raise RequestError(f"{where}.type: expected one of {', '.join(self.event_types)}, got {kind!r}")
        account = self.account_id(event.get("account"), f"{where}.account")
        target = extra = None
        if kind == "search":
            query = event.get("query")
            if not isinstance(query, str) or not query.strip() or len(query) > 256:
                raise RequestError(f"{where}.query: expected a non-empty string of at most 256 characters, got {query!r}")
            extra = normalise_term(query)
        elif kind == "post":
            extra = (self.parse_hashtags(event.get("hashtags"), f"{where}.hashtags"),
                     self.parse_caption(event.get("caption", ""), f"{where}.caption"))
        elif kind in POST_TARGET_TYPES:
            target = self.post_id(event.get("target"), f"{where}.target")
        else:
            target = self.account_id(event.get("target"), f"{where}.target")
            if target == account:
                raise RequestError(f"{where}.target: an account cannot {kind} itself ({account})")
        return kind, account, target, extra

    @staticmethod
    def parse_hashtags(value, name: str) -> list[str]:
        if not isinstance(value, list) or len(value) > MAX_POST_HASHTAGS:
            shown = f"{len(value)} items" if isinstance(value, list) else json.dumps(value)[:80]
            raise RequestError(f"{name}: expected a list of strings (at most {MAX_POST_HASHTAGS} hashtags), got {shown}")
        tags = []
        for index, raw in enumerate(value):
            tag = normalise_term(raw) if isinstance(raw, str) else ""
            if not tag or len(raw) > MAX_HASHTAG_CHARS or any(c.isspace() or ord(c) < 32 for c in raw):
                raise RequestError(
                    f"{name}[{index}]: expected a hashtag of 1-{MAX_HASHTAG_CHARS} characters without spaces "
                    f"(one leading '#' allowed), got {json.dumps(raw)[:120]}"
                )
            tags.append(tag)
        return tags

    @staticmethod
    def parse_caption(value, name: str) -> str:
        if not isinstance(value, str) or len(value) > MAX_CAPTION_CHARS:
            shown = f"{len(value)} characters" if isinstance(value, str) else json.dumps(value)[:80]
            raise RequestError(f"{name}: expected a string of at most {MAX_CAPTION_CHARS} characters, got {shown}")
        return value

    # -- scores ---------------------------------------------------------------------------

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

    def score_of(self, scores: np.ndarray, account: int) -> float:
        """A persona (an author of created posts) has no item factor: it ranks last."""
        return scores[account] if account < self.world_accounts else -np.inf

    def popularity_of(self, account: int) -> float:
        return self.popularity[account] if account < self.world_accounts else 0.0

    def excluded_for(self, user: int) -> set[int]:
        return {user} | self.following[user] | self.blocked[user]

    # -- reads ----------------------------------------------------------------------------

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
            model = self.model
            if account >= self.world_accounts or model.item_norms[account] == 0:
                return {"accounts": []}
            similarity = (model.item_unit @ model.item_unit[account]).astype(np.float64)
            mask = model.item_norms > 0
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
            # Followed personas only have posts through the `post` extension; they rank last.
            followed = sorted(a for a in self.following[user] if a not in blocked)
            followed_posts = [
                (-self.score_of(scores, author), -int(self.post_created[post]), post)
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
            account_list = sorted(
                accounts, key=lambda a: (-self.score_of(scores, a), -self.popularity_of(a), a),
            )[:k]
            post_list = sorted(
                posts,
                key=lambda p: (-self.score_of(scores, int(self.post_author[p])), -self.post_engagement[p], p),
            )[:k]
            return {
                "accounts": account_list,
                "posts": post_list,
                # The interstitial is a warning only: results stay behind it ("see results
                # anyway"), as on the platform in the reporting.
                "interstitial": term in self.ban_list,
            }

    def tags_with_prefix(self, prefix: str) -> list[str]:
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
                "posts": self.world_posts,
                "personas": len(self.persona_profiles),
                "events_applied": self.events_applied,
                "train_seconds": round(self.train_seconds, 3),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
