"""The learned model of the reference external recommender: ALS or BPR from the `implicit`
library trained on an account-by-account engagement matrix, and the update rule that folds
one user's new row into that user's factors (item factors held fixed).

What it is for: everything numeric that depends only on the trained factors: training
(deterministic given the seed), the model digest, fold-in, and the deterministic top-k.
The serving state that changes with requests (rows, follows, personas, posts) lives in
recommender.py; this module keeps none of it.

What it must never do: change item factors or anything else of the trained model after
`TrainedModel` is built (a reset to the state after training relies on it, and personas
being users only relies on it), read files, or retrain while serving.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

# implicit warns (and runs slower) when BLAS uses threads of its own on top of implicit's.
# These must be set before numpy loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sparse  # noqa: E402

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

# BPR fold-in: SGD steps and pairs per step on the user vector alone.
BPR_FOLD_IN_STEPS = 200
BPR_FOLD_IN_BATCH = 64


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


def rows_to_csr(rows: list[dict[int, float]], items: int) -> sparse.csr_matrix:
    """One CSR row per user row (target -> summed weight), columns sorted."""
    indptr, indices, data = [0], [], []
    for row in rows:
        pairs = sorted(row.items())
        indices.extend(i for i, _ in pairs)
        data.extend(w for _, w in pairs)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
        shape=(len(rows), items),
    )


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


class TrainedModel:
    """Item factors (fixed once trained), the users' factors as training left them, and the
    update rule. `initial_user_factors` is read-only: the serving state works on a copy."""

    def __init__(self, matrix: sparse.csr_matrix, config: ModelConfig):
        from threadpoolctl import threadpool_limits

        self.config = config
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
        self.implicit_model = model
        self.items = matrix.shape[1]
        # A copy, so that freezing it leaves implicit's own array (used by fold-in) alone.
        self.item_factors = np.array(model.item_factors, dtype=np.float32, order="C", copy=True)
        self.item_factors.setflags(write=False)
        self.initial_user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32).copy()
        self.initial_user_factors.setflags(write=False)
        # BPR keeps an item bias in the last column (and a constant 1 in the user's); the
        # bias is popularity, not likeness, so similarity leaves it out.
        shape_factors = self.item_factors[:, :-1] if config.model == "bpr" else self.item_factors
        norms = np.linalg.norm(shape_factors, axis=1)
        self.item_norms = norms
        safe = np.where(norms > 0, norms, 1.0)
        self.item_unit = (shape_factors / safe[:, None]).astype(np.float32)
        self.digest = self.digest_of(self.initial_user_factors)

    def digest_of(self, user_factors: np.ndarray) -> str:
        """The model digest: item factors and the given users' factors (at training: every
        world account's). Equal across runs for one world, seed and configuration."""
        digest = hashlib.sha256(self.item_factors.tobytes())
        digest.update(np.ascontiguousarray(user_factors).tobytes())
        return digest.hexdigest()[:16]

    def empty_user(self) -> np.ndarray:
        """The factors of a user with an empty row (BPR: the constant bias column stays 1)."""
        vector = np.zeros(self.item_factors.shape[1], dtype=np.float32)
        if self.config.model == "bpr":
            vector[-1] = 1.0
        return vector

    def fold_in(self, user: int, row: dict[int, float], version: int) -> np.ndarray:
        """One user's factors from its row, item factors held fixed.

        ALS: the exact least-squares user step of ALS (implicit's `recalculate_user`):
        x_u = argmin sum_i c_ui (p_ui - x_u . y_i)^2 + lambda |x_u|^2, c_ui = alpha * w_ui,
        p_ui = 1 for every target in the row. One view makes w_ui > 0 for one target, which
        is enough to move x_u towards that target's item factor.
        BPR: implicit has no fold-in for BPR, so this runs BPR's own SGD on the user vector
        only (item factors and biases fixed), seeded by (seed, user, row version).
        """
        if not row:
            return self.empty_user()
        if self.config.model == "als":
            return self.implicit_model.recalculate_user(user, rows_to_csr([row], self.items))
        return self.bpr_fold_in(user, row, version)

    def bpr_fold_in(self, user: int, row: dict[int, float], version: int) -> np.ndarray:
        config = self.config
        positives = np.array(sorted(row), dtype=np.int64)
        confidence = np.array([row[i] for i in positives], dtype=np.float64)
        rng = np.random.default_rng([config.seed, user, version])
        items = self.item_factors
        vector = np.zeros(items.shape[1], dtype=np.float32)
        vector[-1] = 1.0
        in_row = np.zeros(items.shape[0], dtype=bool)
        in_row[positives] = True
        for _ in range(BPR_FOLD_IN_STEPS):
            i = rng.choice(positives, size=BPR_FOLD_IN_BATCH, p=confidence / confidence.sum())
            j = rng.integers(0, items.shape[0], size=BPR_FOLD_IN_BATCH)
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
