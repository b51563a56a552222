"""AI-prioritised title/abstract screening (active learning) and its simulation.

Plain numpy/scipy/scikit-learn module (no Django). A :class:`Prioritiser` orders the records
still to screen by a model retrained as decisions arrive; :func:`simulate` replays a labelled
data set in that order, as ASReview's simulation mode does, and reports how much screening the
order saves.

Swappable parts (small protocols)
---------------------------------
``FeatureExtractor``  ``fit_transform(texts) -> scipy.sparse matrix`` (once per data set).
``Classifier``        ``fit(X, y, sample_weight=None)``, ``scores(X) -> array`` (higher = more
                      likely relevant; 0 is the decision boundary).
``QueryStrategy``     ``rank(scores, candidates, rng) -> candidates in the order to show``.
``Balancer``          ``training_set(y, rng) -> (rows, sample_weight)``: which labelled rows to
                      train on (rows may repeat) and their weights.

A :class:`ScreeningModel` bundles one of each under a name in :data:`MODELS` (see
:func:`available_models`); :func:`register_model` adds more.

Metrics (independent plain functions, definitions of ASReview-insights 1.x)
---------------------------------------------------------------------------
All take the labels (1 relevant, 0 irrelevant) in the order screened. :func:`simulate` passes
the order *after* the prior records, padded with zeros to the number of non-prior records, as
``asreview-insights`` does by default (``priors=False``).

``wss(labels, recall)``   work saved over sampling at a recall level, as a fraction:
    ``asreviewcontrib.insights.algorithms._wss_values``/``metrics._wss``. The recall level
    used is the largest ``k / relevant`` not above ``recall`` (with 20 relevant records,
    WSS@95 is measured at the 19th). Then WSS = (position where random screening finds the
    k-th relevant - position where this order finds it) / records, where random screening
    finds ``round(linspace(0, relevant, records))`` relevant records.
``recall_at(labels, fraction)``  recall after the first ``floor(fraction * records)``
    records (the largest ``i / records`` not above ``fraction``; insights' ``_recall``).
``average_time_to_discovery(labels)``  insights' ATD (the mean 1-based position of the
    relevant records in the order, ``_average_time_to_discovery``) divided by the number of
    records, i.e. expressed as a fraction of the records, as Ferdinands et al. (2023,
    Systematic Reviews 12:100) report it.
``screened_to_recall(labels, recall)``  records screened until at least
    ``ceil(recall * relevant)`` relevant records are found. :func:`simulate` applies it to the
    *whole* order, prior records included: what a reviewer reads.
"""

from __future__ import annotations

import csv
import io
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from steppingstones.evidence import stopping

# --- protocols ------------------------------------------------------------------------------


class FeatureExtractor(Protocol):
    name: str

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix: ...


class Classifier(Protocol):
    name: str

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None: ...

    def scores(self, X: Any) -> np.ndarray: ...


class QueryStrategy(Protocol):
    name: str

    def rank(
        self, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray: ...


class Balancer(Protocol):
    name: str

    def training_set(
        self, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]: ...


@runtime_checkable
class Progress(Protocol):
    """``steppingstones.core.progress.Progress``: start(total), advance(n), finish()."""

    def start(self, total: int, label: str = "") -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def finish(self) -> None: ...


class ScreeningInputError(ValueError):
    """A labelled file or input that cannot be screened; the message says where and why."""


# --- feature extractors ---------------------------------------------------------------------


class TfidfFeatures:
    """TF-IDF of the text (scikit-learn's ``TfidfVectorizer``; keyword arguments go to it)."""

    def __init__(self, name: str = "tfidf", **options: Any) -> None:
        self.name = name
        self.options = options

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        options = dict(self.options)
        if len(texts) < 20 and isinstance(options.get("max_df"), float):
            options["max_df"] = 1.0  # a proportion cut is meaningless on a handful of texts
        matrix = TfidfVectorizer(**options).fit_transform(list(texts))
        return sparse.csr_matrix(matrix, dtype=np.float64)


# --- classifiers ----------------------------------------------------------------------------


class NaiveBayes:
    """Multinomial naive Bayes; scores are log odds (0 = boundary)."""

    name = "nb"

    def __init__(self, alpha: float = 3.822) -> None:
        from sklearn.naive_bayes import MultinomialNB

        self._model = MultinomialNB(alpha=alpha)

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        self._model.fit(X, y, sample_weight=sample_weight)

    def scores(self, X: Any) -> np.ndarray:
        joint = self._model.predict_joint_log_proba(X)
        positive = int(np.flatnonzero(self._model.classes_ == 1)[0])
        return np.asarray(joint[:, positive] - joint[:, 1 - positive], dtype=np.float64)


class LinearModel:
    """A scikit-learn linear classifier scored by ``X @ coef + intercept`` (0 = boundary)."""

    def __init__(self, name: str, estimator: Any) -> None:
        self.name = name
        self._model = estimator
        self._coef: np.ndarray | None = None
        self._intercept = 0.0

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        self._model.fit(X, y, sample_weight=sample_weight)
        coef = np.asarray(self._model.coef_, dtype=np.float64).ravel()
        intercept = float(np.ravel(self._model.intercept_)[0])
        if self._model.classes_[1] != 1:  # classes are sorted, so 1 is second when present
            coef, intercept = -coef, -intercept
        self._coef, self._intercept = coef, intercept

    def scores(self, X: Any) -> np.ndarray:
        if self._coef is None:
            raise RuntimeError("fit the classifier first")
        return np.asarray(X @ self._coef, dtype=np.float64).ravel() + self._intercept


class SquaredHingeSVM:
    """Linear SVM (L2 penalty, squared hinge loss) trained in the primal, warm-started.

    The objective is liblinear's (and so ASReview ELAS u4's) ``0.5 |w|^2 + 0.5 b^2 +
    C sum_i s_i max(0, 1 - y_i (w.x_i + b))^2``, the intercept penalised as liblinear does
    (``intercept_scaling=1``). It is strictly convex, so the solution is liblinear's up to
    the solver tolerance. It is solved by Newton steps with conjugate gradients (Keerthi &
    DeCoste 2005, JMLR 6:341; Chapelle 2007, Neural Computation 19:1155) starting from the
    previous fit: after one more decision the old solution usually already meets the
    tolerance (the gradient norm below ``tol`` times its norm at w = 0) or needs one step,
    so a retrain costs a few sparse products over the decided records.
    """

    name = "svm"

    def __init__(
        self, C: float = 0.11, tol: float = 1e-4, max_newton: int = 50, max_cg: int = 50
    ) -> None:
        self.C = C
        self.tol = tol
        self.max_newton = max_newton
        self.max_cg = max_cg
        self._w: np.ndarray | None = None
        self._b = 0.0
        self.newton_steps = 0

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        X = sparse.csr_matrix(X, dtype=np.float64)
        n, d = X.shape
        signs = np.where(np.asarray(y) == 1, 1.0, -1.0)
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        cost = 2.0 * self.C * weights
        if self._w is None or self._w.size != d:
            self._w, self._b = np.zeros(d), 0.0
        w, b = self._w, self._b
        XT = X.T  # a CSC view: products with it need no conversion

        def evaluate(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float, np.ndarray]:
            margin = 1.0 - signs * (X @ w + b)
            violation = np.maximum(margin, 0.0)
            value = 0.5 * (float(w @ w) + b * b) + 0.5 * float(cost @ (violation * violation))
            residual = cost * signs * violation
            return value, w - XT @ residual, b - float(residual.sum()), margin > 0

        at_zero = cost * signs
        g0 = math.hypot(float(np.linalg.norm(XT @ at_zero)), float(at_zero.sum()))
        value, gw, gb, active = evaluate(w, b)
        for _ in range(self.max_newton):
            gnorm = math.hypot(float(np.linalg.norm(gw)), gb)
            if gnorm <= self.tol * g0:
                break
            self.newton_steps += 1
            cost_active = np.where(active, cost, 0.0)
            # Conjugate gradients on H d = -g, H = I + X' diag(cost on active rows) X.
            dw, db = np.zeros(d), 0.0
            rw, rb = -gw, -gb
            pw, pb = rw.copy(), rb
            rr = float(rw @ rw) + rb * rb
            target = (0.1 * gnorm) ** 2
            for _ in range(self.max_cg):
                u = cost_active * (X @ pw + pb)
                hw, hb = pw + XT @ u, pb + float(u.sum())
                step_cg = rr / (float(pw @ hw) + pb * hb)
                dw += step_cg * pw
                db += step_cg * pb
                rw -= step_cg * hw
                rb -= step_cg * hb
                rr_new = float(rw @ rw) + rb * rb
                if rr_new <= target:
                    break
                pw *= rr_new / rr
                pw += rw
                pb = rb + (rr_new / rr) * pb
                rr = rr_new
            slope = float(gw @ dw) + gb * db
            step = 1.0
            while True:
                new_value, new_gw, new_gb, new_active = evaluate(w + step * dw, b + step * db)
                if new_value <= value + 1e-4 * step * slope or step < 1e-8:
                    break
                step *= 0.5
            w, b = w + step * dw, b + step * db
            value, gw, gb, active = new_value, new_gw, new_gb, new_active
        self._w, self._b = w, b

    def scores(self, X: Any) -> np.ndarray:
        if self._w is None:
            raise RuntimeError("fit the classifier first")
        return np.asarray(X @ self._w, dtype=np.float64).ravel() + self._b


def linear_svm(seed: int, C: float = 0.11) -> LinearModel:
    """Linear SVM (liblinear, squared hinge loss), as in ASReview's ELAS u4."""
    from sklearn.svm import LinearSVC

    return LinearModel("svm", LinearSVC(C=C, loss="squared_hinge", random_state=seed))


def logistic(seed: int, C: float = 1.0) -> LinearModel:
    """L2-regularised logistic regression (liblinear)."""
    from sklearn.linear_model import LogisticRegression

    return LinearModel(
        "logistic", LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=1000)
    )


class Ensemble:
    """Mean of the members' scores after scaling each to unit spread over the records scored."""

    def __init__(self, name: str, members: Sequence[Classifier]) -> None:
        self.name = name
        self.members = list(members)

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        for member in self.members:
            member.fit(X, y, sample_weight=sample_weight)

    def scores(self, X: Any) -> np.ndarray:
        total = np.zeros(X.shape[0], dtype=np.float64)
        for member in self.members:
            values = member.scores(X)
            spread = float(np.std(values)) or 1.0
            total += (values - float(np.median(values))) / spread
        return total / len(self.members)


# --- query strategies -----------------------------------------------------------------------


class MaxQuery:
    """Highest score first (certainty-based sampling); ties by record position."""

    name = "max"

    def rank(
        self, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return candidates[np.argsort(-scores[candidates], kind="stable")]


class UncertaintyQuery:
    """Closest to the decision boundary first."""

    name = "uncertainty"

    def rank(
        self, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return candidates[np.argsort(np.abs(scores[candidates]), kind="stable")]


class RandomQuery:
    """Random order (the baseline that WSS measures against)."""

    name = "random"

    def rank(
        self, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return rng.permutation(candidates)


class MixedQuery:
    """Mostly ``primary``'s order, with a random record in place of one in ``1 / share``."""

    def __init__(self, primary: QueryStrategy, random_share: float = 0.05) -> None:
        self.primary = primary
        self.random_share = random_share
        self.name = f"{primary.name}+random({random_share:g})"

    def rank(
        self, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        ordered = self.primary.rank(scores, candidates, rng)
        if ordered.size < 2:
            return ordered
        take_random = rng.random(ordered.size) < self.random_share
        shuffled = rng.permutation(ordered)
        result: list[int] = []
        used: set[int] = set()
        first, second = iter(ordered.tolist()), iter(shuffled.tolist())
        for random_turn in take_random:
            source = second if random_turn else first
            for index in source:
                if index not in used:
                    used.add(index)
                    result.append(index)
                    break
        result.extend(index for index in ordered.tolist() if index not in used)
        return np.asarray(result, dtype=np.int64)


# --- balancers ------------------------------------------------------------------------------


class NoBalance:
    name = "none"

    def training_set(
        self, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return np.arange(y.size), None


class WeightBalance:
    """Sample weights: relevant 1, irrelevant relevant/(ratio x irrelevant), summing to n.

    ASReview 2.x's ``balanced`` balancer (ELAS u4 uses ratio 9.8, ELAS u3 1.2).
    """

    name = "balanced"

    def __init__(self, ratio: float = 9.8) -> None:
        self.ratio = ratio

    def training_set(
        self, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        positives = int(np.sum(y == 1))
        negatives = int(y.size - positives)
        weights = np.ones(y.size, dtype=np.float64)
        if positives and negatives:
            weights[y == 0] = positives / (self.ratio * negatives)
        weights *= y.size / weights.sum()
        return np.arange(y.size), weights


# --- models ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningModel:
    """A named combination of the four parts; ``classifier`` takes the seed."""

    name: str
    description: str
    features: Callable[[], FeatureExtractor]
    classifier: Callable[[int], Classifier]
    query: Callable[[], QueryStrategy] = MaxQuery
    balancer: Callable[[], Balancer] = NoBalance


def _elas_u4_tfidf() -> TfidfFeatures:
    return TfidfFeatures(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95)


MODELS: dict[str, ScreeningModel] = {}


def register_model(model: ScreeningModel) -> ScreeningModel:
    MODELS[model.name] = model
    return model


register_model(
    ScreeningModel(
        "tfidf-svm",
        "ASReview 2.x's default model (ELAS u4: TF-IDF of words and word pairs, sublinear tf, "
        "max_df 0.95 + linear SVM, squared hinge, C=0.11 + weight balance 9.8 + highest score "
        "first), the SVM solved by warm-started primal Newton steps",
        _elas_u4_tfidf,
        lambda seed: SquaredHingeSVM(C=0.11),
        MaxQuery,
        lambda: WeightBalance(9.8),
    )
)
register_model(
    ScreeningModel(
        "tfidf-svm-liblinear",
        "ELAS u4 exactly as ASReview 2.x runs it: the SVM refitted from scratch by liblinear "
        "(scikit-learn LinearSVC) after every decision",
        _elas_u4_tfidf,
        linear_svm,
        MaxQuery,
        lambda: WeightBalance(9.8),
    )
)
register_model(
    ScreeningModel(
        "tfidf-nb",
        "TF-IDF (English stop words removed) + multinomial naive Bayes (alpha 3.822) + weight "
        "balance 1.2 + highest score first: ASReview's ELAS u3 (its 1.x default, NB + TF-IDF)",
        lambda: TfidfFeatures(stop_words="english"),
        lambda seed: NaiveBayes(alpha=3.822),
        MaxQuery,
        lambda: WeightBalance(1.2),
    )
)
register_model(
    ScreeningModel(
        "tfidf-logistic",
        "TF-IDF (words and word pairs, sublinear tf) + logistic regression (C=1) + weight "
        "balance 9.8 + highest score first",
        _elas_u4_tfidf,
        logistic,
        MaxQuery,
        lambda: WeightBalance(9.8),
    )
)
register_model(
    ScreeningModel(
        "random",
        "no model: records in random order (the baseline of WSS)",
        lambda: TfidfFeatures(max_features=1),
        lambda seed: NaiveBayes(),
        RandomQuery,
        NoBalance,
    )
)

DEFAULT_MODEL = "tfidf-svm"


def available_models() -> dict[str, str]:
    """Name -> description of every registered model."""
    return {name: model.description for name, model in MODELS.items()}


def get_model(model: str | ScreeningModel) -> ScreeningModel:
    if isinstance(model, ScreeningModel):
        return model
    try:
        return MODELS[model]
    except KeyError:
        raise ScreeningInputError(
            f"unknown model {model!r}: use one of {', '.join(sorted(MODELS))}"
        ) from None


# --- texts ----------------------------------------------------------------------------------


def record_texts(titles: Sequence[str | None], abstracts: Sequence[str | None]) -> list[str]:
    """Title and abstract joined by a space, missing parts as empty text."""
    if len(titles) != len(abstracts):
        raise ScreeningInputError("titles and abstracts differ in length")
    return [f"{t or ''} {a or ''}".strip() for t, a in zip(titles, abstracts, strict=True)]


def _texts(records: Sequence[str] | Sequence[tuple[str | None, str | None]]) -> list[str]:
    texts: list[str] = []
    for record in records:
        if isinstance(record, str):
            texts.append(record)
        else:
            title, abstract = record
            texts.append(f"{title or ''} {abstract or ''}".strip())
    return texts


# --- the live prioritiser -------------------------------------------------------------------


class _RowBuffer:
    """The decided records' feature rows, in decision order, as one growing CSR matrix."""

    def __init__(self, features: sparse.csr_matrix) -> None:
        self.features = features
        self.data = np.empty(1024, dtype=features.data.dtype)
        self.indices = np.empty(1024, dtype=features.indices.dtype)
        self.indptr = [0]

    def append(self, index: int) -> None:
        start, end = self.features.indptr[index], self.features.indptr[index + 1]
        used = self.indptr[-1]
        needed = used + (end - start)
        if needed > self.data.size:
            size = max(needed, 2 * self.data.size)
            self.data = np.resize(self.data, size)
            self.indices = np.resize(self.indices, size)
        self.data[used:needed] = self.features.data[start:end]
        self.indices[used:needed] = self.features.indices[start:end]
        self.indptr.append(needed)

    def matrix(self, n: int) -> sparse.csr_matrix:
        """The first ``n`` decided rows (shares memory with the buffer; read only)."""
        indptr = np.asarray(self.indptr[: n + 1], dtype=self.indices.dtype)
        nnz = int(indptr[-1])
        return sparse.csr_matrix(
            (self.data[:nnz], self.indices[:nnz], indptr),
            shape=(n, self.features.shape[1]),
            copy=False,
        )


class Prioritiser:
    """The screening queue: features computed once, a ranking swapped in by each retrain.

    ``record_decision`` and ``next_records`` never train: they read the ranking of the last
    :meth:`retrain`, skipping records decided since (amortised constant time per record).
    Until both an include and an exclude are known, records come in a seeded random order.
    Call :meth:`retrain` (or :meth:`retrain_async`, which runs it on a background thread and
    swaps the ranking in when done) after decisions arrive. Same seed and the same decisions
    in the same order give the same queue.
    """

    def __init__(
        self,
        records: Sequence[str] | Sequence[tuple[str | None, str | None]] | None = None,
        *,
        model: str | ScreeningModel = DEFAULT_MODEL,
        seed: int = 0,
        features: sparse.spmatrix | None = None,
    ) -> None:
        self.model = get_model(model)
        self.seed = seed
        if features is None:
            if records is None:
                raise ValueError("give the records' texts or a feature matrix")
            features = self.model.features().fit_transform(_texts(records))
        self.features: sparse.csr_matrix = sparse.csr_matrix(features)
        self.n_records = int(self.features.shape[0])
        self._classifier = self.model.classifier(seed)
        self._query = self.model.query()
        self._balancer = self.model.balancer()
        self._lock = threading.Lock()
        self._train_lock = threading.Lock()
        self._labels = np.full(self.n_records, -1, dtype=np.int8)
        self._decided: list[int] = []
        self._rows = _RowBuffer(self.features)
        self._ranking = np.random.default_rng(seed).permutation(self.n_records)
        self._cursor = 0
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[bool] | None = None
        self.model_version = 0
        self.trained_on = 0
        self.last_scores: np.ndarray | None = None

    # decisions

    def record_decision(self, index: int, label: int) -> None:
        """Store one decision (1 relevant, 0 irrelevant); a changed mind overwrites it."""
        if not 0 <= index < self.n_records:
            raise IndexError(f"record {index} is not in 0..{self.n_records - 1}")
        if label not in (0, 1):
            raise ValueError("label must be 0 (irrelevant) or 1 (relevant)")
        with self._lock:
            if self._labels[index] < 0:
                self._decided.append(index)
                self._rows.append(index)
            self._labels[index] = label

    @property
    def n_labelled(self) -> int:
        return len(self._decided)

    @property
    def decided(self) -> list[int]:
        """Decided records, in the order first decided."""
        with self._lock:
            return list(self._decided)

    def labels_in_order(self) -> list[int]:
        with self._lock:
            return [int(self._labels[i]) for i in self._decided]

    def is_labelled(self, index: int) -> bool:
        return bool(self._labels[index] >= 0)

    # the queue

    def next_records(self, n: int = 1) -> list[int]:
        """The next ``n`` undecided records by the current ranking (never a decided one)."""
        with self._lock:
            ranking, labels = self._ranking, self._labels
            cursor = self._cursor
            while cursor < ranking.size and labels[ranking[cursor]] >= 0:
                cursor += 1
            self._cursor = cursor
            chosen: list[int] = []
            position = cursor
            while len(chosen) < n and position < ranking.size:
                index = int(ranking[position])
                if labels[index] < 0:
                    chosen.append(index)
                position += 1
            return chosen

    # training

    def can_train(self) -> bool:
        labels = self._labels
        return bool(np.any(labels == 1) and np.any(labels == 0))

    def retrain(self) -> bool:
        """Fit on the decisions so far and swap in the new ranking; False if not possible yet."""
        with self._train_lock:
            with self._lock:
                decided = np.asarray(self._decided, dtype=np.int64)
                labels = self._labels[decided].astype(np.int64)
                n_decided = decided.size
                decided_rows = self._rows.matrix(n_decided)
            if not (np.any(labels == 1) and np.any(labels == 0)):
                return False
            rng = np.random.default_rng([self.seed, n_decided])
            rows, weights = self._balancer.training_set(labels, rng)
            if rows.size == n_decided and np.array_equal(rows, np.arange(n_decided)):
                training = decided_rows
            else:
                training = decided_rows[rows]
            self._classifier.fit(training, labels[rows], weights)
            scores = self._classifier.scores(self.features)
            with self._lock:
                candidates = np.flatnonzero(self._labels < 0)
            ranking = self._query.rank(scores, candidates, rng)
            with self._lock:
                self._ranking = np.asarray(ranking, dtype=np.int64)
                self._cursor = 0
                self.last_scores = scores
                self.model_version += 1
                self.trained_on = n_decided
            return True

    def retrain_async(self) -> Future[bool]:
        """Retrain on a background thread; a retrain already waiting to start is reused."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrain")
            pending = self._pending
            if pending is not None and not pending.running() and not pending.done():
                return pending
            self._pending = self._executor.submit(self.retrain)
            return self._pending

    def close(self) -> None:
        """Stop the background thread (waiting for a retrain in progress)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # stopping

    def stopping_aid(
        self, *, target_recall: float = 0.95, confidence: float = 0.95
    ) -> list[stopping.StoppingAdvice]:
        """Recall estimates and stopping recommendations for the decisions so far."""
        return stopping.stopping_aid(
            self.labels_in_order(),
            self.n_records,
            target_recall=target_recall,
            confidence=confidence,
            find_first=False,
        )


# --- metrics --------------------------------------------------------------------------------


def _labels_array(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    labels = np.asarray(labels_in_order, dtype=np.int64).ravel()
    if labels.size and (labels.min() < 0 or labels.max() > 1):
        raise ValueError("labels must be 0 or 1")
    return labels


def _slice_index(n: int, level: float) -> int:
    """How many of ``1/n, 2/n, ..., n/n`` are <= level (insights' ``_slice_metric``)."""
    return int(np.searchsorted(np.arange(1, n + 1) / n, level, side="right"))


def wss(labels_in_order: Sequence[int] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall``, as a fraction of the records (insights' WSS)."""
    labels = _labels_array(labels_in_order)
    n_docs, n_pos = int(labels.size), int(labels.sum())
    if n_pos == 0:
        raise ValueError("WSS needs at least one relevant record")
    k = max(_slice_index(n_pos, recall), 1)
    found = np.cumsum(labels)
    random_found = np.round(np.linspace(0, n_pos, n_docs))
    when = int(np.searchsorted(found, k))
    when_random = int(np.searchsorted(random_found, k))
    return (when_random - when) / n_docs


def recall_at(labels_in_order: Sequence[int] | np.ndarray, fraction: float = 0.1) -> float:
    """Share of the relevant records found in the first ``fraction`` of the records."""
    labels = _labels_array(labels_in_order)
    n_docs, n_pos = int(labels.size), int(labels.sum())
    if n_pos == 0:
        raise ValueError("recall needs at least one relevant record")
    i = _slice_index(n_docs, fraction)
    if i == 0:
        return 0.0
    return float(labels[:i].sum()) / n_pos


def time_to_discovery(labels_in_order: Sequence[int] | np.ndarray) -> list[int]:
    """1-based position of each relevant record in the order."""
    labels = _labels_array(labels_in_order)
    return (np.flatnonzero(labels == 1) + 1).tolist()


def average_time_to_discovery(labels_in_order: Sequence[int] | np.ndarray) -> float:
    """Mean position of the relevant records divided by the number of records (a fraction)."""
    labels = _labels_array(labels_in_order)
    positions = time_to_discovery(labels)
    if not positions:
        raise ValueError("ATD needs at least one relevant record")
    return float(np.mean(positions)) / labels.size


def screened_to_recall(labels_in_order: Sequence[int] | np.ndarray, recall: float) -> int:
    """Records screened until ``ceil(recall x relevant)`` relevant records are found."""
    labels = _labels_array(labels_in_order)
    n_pos = int(labels.sum())
    if n_pos == 0:
        raise ValueError("needs at least one relevant record")
    needed = max(1, math.ceil(recall * n_pos - 1e-9))
    return int(np.searchsorted(np.cumsum(labels), needed)) + 1


# --- simulation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrainSchedule:
    """How many records to screen between retrains.

    Every record while the data set has at most ``every_record_up_to`` records or fewer than
    ``warmup`` decisions are made; after that ``max(1, floor(growth x decisions))`` records,
    capped at ``max_step``: geometric spacing, about ``log(n_end / warmup) / growth`` retrains
    more beyond the warm-up.
    """

    every_record_up_to: int = 5000
    warmup: int = 500
    growth: float = 0.01
    max_step: int = 100

    def step(self, n_labelled: int, n_records: int) -> int:
        if n_records <= self.every_record_up_to or n_labelled < self.warmup:
            return 1
        return int(min(self.max_step, max(1, math.floor(self.growth * n_labelled))))

    def describe(self) -> str:
        return (
            f"retrain after every record up to {self.every_record_up_to:,} records; above "
            f"that, every record for the first {self.warmup} decisions, then every "
            f"{self.growth:.0%} of the decisions so far (at most {self.max_step})"
        )


@dataclass(frozen=True)
class SimulationResult:
    """A replayed screening. ``order`` is every record (0-based row), priors first."""

    model: str
    seed: int
    records: int
    inclusions: int
    priors: tuple[int, ...]
    order: tuple[int, ...]
    screened_to_95: int
    screened_to_100: int
    wss95: float
    wss100: float
    recall_at_10pct: float
    atd: float
    retrains: int
    schedule: str
    stopping: tuple[stopping.StoppingAdvice, ...] = field(default=())
    stopping_recall: tuple[float | None, ...] = field(default=())

    def labels_in_order(self, labels: Sequence[int]) -> list[int]:
        return [int(labels[i]) for i in self.order]

    def to_dict(self, *, include_order: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "seed": self.seed,
            "records": self.records,
            "inclusions": self.inclusions,
            "priors": list(self.priors),
            "screened_to_95": self.screened_to_95,
            "screened_to_100": self.screened_to_100,
            "wss95": self.wss95,
            "wss100": self.wss100,
            "recall_at_10pct": self.recall_at_10pct,
            "atd": self.atd,
            "retrains": self.retrains,
            "schedule": self.schedule,
            "stopping": [
                {**advice.to_dict(), "true_recall_at_recommended_stop": recall}
                for advice, recall in zip(self.stopping, self.stopping_recall, strict=False)
            ],
        }
        if include_order:
            data["order"] = list(self.order)
        return data


def choose_priors(labels: Sequence[int] | np.ndarray, seed: int) -> tuple[int, int]:
    """One random include and one random exclude (row positions), seeded."""
    y = np.asarray(labels)
    includes, excludes = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if includes.size == 0 or excludes.size == 0:
        raise ScreeningInputError("a simulation needs at least one include and one exclude")
    rng = np.random.default_rng(seed)
    return int(rng.choice(includes)), int(rng.choice(excludes))


def _progress_calls(
    progress: Progress | Callable[[int, int], None] | None, total: int
) -> tuple[Callable[[int], None], Callable[[], None]]:
    if progress is None:
        return (lambda done: None), (lambda: None)
    if isinstance(progress, Progress):
        bar = progress
        bar.start(total, "screening")
        state = {"done": 0}

        def advance(done: int) -> None:
            if done > state["done"]:
                bar.advance(done - state["done"])
                state["done"] = done

        return advance, bar.finish
    callback = progress
    return (lambda done: callback(done, total)), (lambda: None)


def simulate(
    records: Sequence[str] | Sequence[tuple[str | None, str | None]],
    labels: Sequence[int] | np.ndarray,
    *,
    model: str | ScreeningModel = DEFAULT_MODEL,
    seed: int = 0,
    priors: Sequence[int] | None = None,
    schedule: RetrainSchedule | None = None,
    features: sparse.spmatrix | None = None,
    evaluate_stopping: bool = True,
    progress: Progress | Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Replay screening of labelled records in the prioritised order.

    Starts from ``priors`` (default: one random include and one random exclude chosen with
    ``seed``), retrains on ``schedule`` (default :class:`RetrainSchedule`) and labels records
    in the model's order until the last relevant record is found; the remaining records, all
    irrelevant, follow in the last model's order (no metric depends on their order).
    ``progress`` is a ``Progress`` (start/advance/finish) or a ``callable(done, total)``.
    """
    y = np.asarray(labels, dtype=np.int64).ravel()
    if y.size != len(records) and features is None:
        raise ScreeningInputError(f"{len(records)} records but {y.size} labels")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ScreeningInputError("labels must be 0 or 1")
    spec = get_model(model)
    schedule = schedule or RetrainSchedule()
    prior_rows = tuple(int(i) for i in priors) if priors is not None else choose_priors(y, seed)
    if len(set(prior_rows)) != len(prior_rows):
        raise ScreeningInputError("prior records repeat")
    prioritiser = Prioritiser(records, model=spec, seed=seed, features=features)
    n = prioritiser.n_records
    if n != y.size:
        raise ScreeningInputError(f"{n} feature rows but {y.size} labels")
    total_relevant = int(y.sum())
    advance, finish = _progress_calls(progress, n)
    for index in prior_rows:
        prioritiser.record_decision(index, int(y[index]))
    found = int(y[list(prior_rows)].sum())
    retrains = 0
    try:
        advance(prioritiser.n_labelled)
        while found < total_relevant and prioritiser.n_labelled < n:
            if prioritiser.retrain():
                retrains += 1
            batch = prioritiser.next_records(schedule.step(prioritiser.n_labelled, n))
            for index in batch:
                prioritiser.record_decision(index, int(y[index]))
                found += int(y[index])
                if found >= total_relevant:
                    break
            advance(prioritiser.n_labelled)
        rest = prioritiser.next_records(n)
        for index in rest:
            prioritiser.record_decision(index, int(y[index]))
        advance(n)
    finally:
        finish()
    order = prioritiser.decided
    full = y[order]
    after_priors = full[len(prior_rows) :]
    advice: tuple[stopping.StoppingAdvice, ...] = ()
    true_recall: tuple[float | None, ...] = ()
    if evaluate_stopping:
        advice = tuple(stopping.stopping_aid(full, n, consecutive=stopping.default_consecutive(n)))
        found_by = np.cumsum(full)
        true_recall = tuple(
            None
            if a.recommended_stop is None
            else float(found_by[a.recommended_stop - 1]) / total_relevant
            for a in advice
        )
    return SimulationResult(
        model=spec.name,
        seed=seed,
        records=n,
        inclusions=total_relevant,
        priors=prior_rows,
        order=tuple(order),
        screened_to_95=screened_to_recall(full, 0.95),
        screened_to_100=screened_to_recall(full, 1.0),
        wss95=wss(after_priors, 0.95) if after_priors.sum() else 0.0,
        wss100=wss(after_priors, 1.0) if after_priors.sum() else 0.0,
        recall_at_10pct=recall_at(after_priors, 0.1) if after_priors.sum() else 1.0,
        atd=average_time_to_discovery(after_priors) if after_priors.sum() else 0.0,
        retrains=retrains,
        schedule=schedule.describe(),
        stopping=advice,
        stopping_recall=true_recall,
    )


# --- labelled files and the command line ----------------------------------------------------


@dataclass(frozen=True)
class LabelledRecords:
    titles: list[str]
    abstracts: list[str]
    labels: list[int]

    def texts(self) -> list[str]:
        return record_texts(self.titles, self.abstracts)


def read_labelled_csv(text: str) -> LabelledRecords:
    """Parse CSV text with ``title``, ``abstract`` and ``label_included`` (0/1) columns."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {name.strip().lower(): name for name in reader.fieldnames or []}
    missing = [name for name in ("title", "abstract", "label_included") if name not in header]
    if missing:
        raise ScreeningInputError(
            f"row 1: missing column(s) {', '.join(missing)} (need title, abstract, label_included)"
        )
    titles: list[str] = []
    abstracts: list[str] = []
    labels: list[int] = []
    for number, row in enumerate(reader, start=2):
        raw = (row.get(header["label_included"]) or "").strip()
        if not raw and not any((value or "").strip() for value in row.values() if value):
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ScreeningInputError(
                f"row {number}: label_included must be 0 or 1, not {raw!r}"
            ) from None
        if value not in (0.0, 1.0):
            raise ScreeningInputError(f"row {number}: label_included must be 0 or 1, not {raw!r}")
        titles.append((row.get(header["title"]) or "").strip())
        abstracts.append((row.get(header["abstract"]) or "").strip())
        labels.append(int(value))
    if not labels:
        raise ScreeningInputError("no records")
    if 1 not in labels or 0 not in labels:
        raise ScreeningInputError("a simulation needs at least one include and one exclude")
    return LabelledRecords(titles, abstracts, labels)


def simulate_csv(
    path: str | Path,
    *,
    model: str = DEFAULT_MODEL,
    seed: int = 0,
    progress: Progress | Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """What ``steppingstones evidence simulate LABELLED.csv`` runs: read, replay, report.

    Raises :class:`ScreeningInputError` for a file that cannot be simulated (message names the
    file and row).
    """
    file = Path(path)
    try:
        data = read_labelled_csv(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ScreeningInputError(f"{file.name}: not UTF-8 text ({error})") from error
    except OSError as error:
        raise ScreeningInputError(f"{file.name}: {error.strerror or error}") from error
    except ScreeningInputError as error:
        raise ScreeningInputError(f"{file.name}: {error}") from error
    get_model(model)
    return simulate(data.texts(), data.labels, model=model, seed=seed, progress=progress)


def format_simulation(result: SimulationResult) -> str:
    """The plain-text report the command prints."""
    lines = [
        f"model {result.model}, seed {result.seed}, priors {list(result.priors)} (rows, 0-based)",
        f"records          {result.records}",
        f"inclusions       {result.inclusions}",
        f"screened_to_95   {result.screened_to_95}",
        f"screened_to_100  {result.screened_to_100}",
        f"wss95            {result.wss95:.4f}",
        f"recall_at_10pct  {result.recall_at_10pct:.4f}",
        f"atd              {result.atd:.4f}",
        f"retrains         {result.retrains} ({result.schedule})",
    ]
    if result.stopping:
        lines.append("stopping rules replayed on this order (each gives an estimate):")
        for advice, recall in zip(result.stopping, result.stopping_recall, strict=False):
            if advice.recommended_stop is None or recall is None:
                lines.append(f"  {advice.method}: would not have stopped")
            else:
                lines.append(
                    f"  {advice.method}: stop at record {advice.recommended_stop} of "
                    f"{result.records}, true recall there {recall:.1%}"
                )
    return "\n".join(lines)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``function()`` and its value (for benchmarks)."""
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value
