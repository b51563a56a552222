"""Inter-coder agreement for qualitative coding: percent agreement, Cohen's kappa and Krippendorff's
alpha.

Two or more coders code the same documents blind to each other. Their codings are compared here,
code by code, on one of two kinds of unit, and the disagreements are listed for side-by-side
reconciliation, whose decisions are kept as a record next to the consensus coding they produce.

Units
-----
*Character units* (``per_code_agreement``): every character (Unicode code point) of every document
in the reliability sample is a unit, and a coder's value for a code on that unit is 1 when one of
their codings of that code covers it, else 0. This is the method of NVivo's coding comparison query
(kappa computed over the characters of each source), here pooled over all documents of the sample.
Characters nobody coded count as agreement, so long uncoded stretches raise percent agreement; kappa
and alpha correct for that through chance agreement.

*Segment units* (``segment_agreement``): the units are the coded segments: in each document, the
maximal stretches of text that either coder coded with any code (the union of both coders' codings,
overlapping or touching codings joined into one segment). A coder's value for a code on a segment is
1 when their codings of that code cover more than ``min_overlap`` of the segment's characters (by
default: any character of it). This follows MAXQDA's segment-level intercoder agreement in spirit
(a segment is an agreement when both coders gave it the code), with one difference: MAXQDA checks
each coder's segments in turn against the other's, so its table has no "neither coder" cell and it
reports Brennan & Prediger's kappa; here the segments are shared by both coders and coded with other
codes, so every code has a full 2x2 table and Cohen's kappa is defined.

Coefficients
------------
*Percent agreement*: the share of units on which all coders gave the same value, times 100.

*Cohen's kappa* (two coders): ``(p_o - p_e) / (1 - p_e)`` on the same units, as scikit-learn's
``cohen_kappa_score``. With more than two coders the mean of the pairwise Cohen kappas (Light's
kappa) is reported. ``None`` where chance agreement is 1 (no coder varied), where kappa is 0/0.

*Krippendorff's alpha* (``krippendorff_alpha``), implemented here from the coincidence matrix, for
nominal, ordinal, interval and ratio data, any number of coders and missing values, as in
Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Departmental Papers (ASC),
Annenberg School for Communication, University of Pennsylvania. Per code it is the nominal alpha
of the binary unit values above.

*Unitized alpha* (``unitized_alpha``): Krippendorff's alpha for unitizing a continuum, where the
coders themselves cut the text into units, from Krippendorff, K. (2004). Measuring the reliability
of qualitative text analysis data. Quality & Quantity 38: 787-800. Observed disagreement counts,
for every pair of coders, the squared differences of the beginnings and ends of overlapping coded
units and the squared length of a unit that the other coder left wholly uncoded; expected
disagreement places the units at random on the continuum. Several documents form one continuum of
the summed length whose gaps never run across a document boundary. It is given for two coders
only: Krippendorff, Mathet, Bouvry & Widlöcher (2016, Quality & Quantity 50: 2347-2364) found the
2004 definition misbehaves with more than two coders. Its value on the paper's Figure 2 example
(code "c": 0.729, code "k": 1.0) agrees with the independent text-alpha implementation.

Offsets are character offsets into the document text (Python ``str`` indices: code points), ``end``
exclusive. Nothing here touches Django: the functions take and return plain values.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Method = Literal["character", "segment"]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Coding:
    """One coder's application of one code to the characters ``start`` to ``end`` of a document."""

    document_id: str
    code_id: str
    coder: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(
                f"coding of {self.code_id!r} in {self.document_id!r} has a bad range "
                f"{self.start}-{self.end}: need 0 <= start <= end"
            )


@dataclass(frozen=True, slots=True)
class CodeAgreement:
    """Agreement between coders on one code, over the units of one method."""

    code_id: str
    method: Method
    units: int  # characters (method "character") or segments (method "segment")
    agreed: int  # units on which all coders gave the same value
    percent: float  # agreed / units * 100 (0 when there are no units)
    kappa: float | None  # Cohen's (two coders) or Light's mean pairwise kappa; None if undefined
    alpha: float | None  # Krippendorff's nominal alpha on the same units; None if undefined
    coded: Mapping[str, int]  # units each coder gave the code
    coded_by_all: int  # units every coder gave the code
    unitized_alpha: float | None = None  # Krippendorff (2004); characters, two coders


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A contiguous range that ``coded_by`` gave the code and ``not_coded_by`` did not."""

    document_id: str
    code_id: str
    start: int
    end: int
    coded_by: str
    not_coded_by: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """A reconciliation decision: in this range the consensus has (``apply``) the code or not."""

    document_id: str
    code_id: str
    start: int
    end: int
    apply: bool
    decided_by: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"resolution range {self.start}-{self.end}: need 0 <= start < end")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The consensus coding from two coders, the decisions that made it, and what is still open."""

    coders: tuple[str, str]
    consensus_coder: str
    codings: tuple[Coding, ...]
    resolutions: tuple[Resolution, ...]
    unresolved: tuple[Disagreement, ...]

    @property
    def complete(self) -> bool:
        return not self.unresolved


# --------------------------------------------------------------------------- Krippendorff's alpha


def krippendorff_alpha(
    reliability_data: Sequence[Sequence[Any]] | npt.NDArray[Any],
    level: Level = "nominal",
) -> float:
    """Krippendorff's alpha of a coders x units table; ``None`` (or NaN) marks a missing value.

    Values may be any hashable for nominal data, anything orderable for ordinal data and numbers
    for interval and ratio data. Units with fewer than two values are not pairable and drop out.
    Raises ValueError when alpha is undefined (no pairable values, or all of them identical).
    """
    counts, values = _value_counts(reliability_data, level)
    result = _alpha_from_counts(counts, values, level)
    if result is None:
        raise ValueError(
            "Krippendorff's alpha is undefined: fewer than two distinct pairable values"
        )
    return result


def _value_counts(
    data: Sequence[Sequence[Any]] | npt.NDArray[Any], level: Level
) -> tuple[FloatArray, npt.NDArray[np.generic]]:
    """Units x values counts of how many coders gave each value to each unit, and the values."""
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ValueError(f"unknown level of measurement {level!r}")
    rows = None if isinstance(data, np.ndarray) else [list(row) for row in data]
    if rows is not None and len(rows) < 2:
        raise ValueError("reliability data need at least two coders (rows) of units (columns)")
    if rows is not None and len({len(row) for row in rows}) > 1:
        raise ValueError("every coder's row must have one value per unit (rows differ in length)")
    numeric: FloatArray | None = None
    # Text labels stay labels (np.asarray would read "1" as 1.0 and "nan" as a missing value).
    if rows is None or not any(isinstance(v, str | bytes) for row in rows for v in row):
        try:
            numeric = np.asarray(data if rows is None else rows, dtype=np.float64)
        except (TypeError, ValueError):
            numeric = None
    if numeric is not None:
        if numeric.ndim != 2 or numeric.shape[0] < 2:
            raise ValueError("reliability data need at least two coders (rows) of units (columns)")
        present = ~np.isnan(numeric)
        unit_index = np.nonzero(present)[1]
        values, value_index = np.unique(numeric[present], return_inverse=True)
        n_units = numeric.shape[1]
    else:
        if level in ("interval", "ratio"):
            raise ValueError(f"{level} data must be numbers")
        assert rows is not None
        n_units = len(rows[0])
        cells = [
            (unit, value)
            for row in rows
            for unit, value in enumerate(row)
            if value is not None and not (isinstance(value, float) and math.isnan(value))
        ]
        distinct: list[Any] = list(dict.fromkeys(value for _, value in cells))
        if level == "ordinal":
            try:
                distinct.sort()
            except TypeError as error:
                raise ValueError("ordinal values must be mutually orderable") from error
        position = {value: i for i, value in enumerate(distinct)}
        values = np.empty(len(distinct), dtype=object)
        for i, value in enumerate(distinct):
            values[i] = value
        unit_index = np.fromiter((unit for unit, _ in cells), dtype=np.int64, count=len(cells))
        value_index = np.fromiter(
            (position[value] for _, value in cells), dtype=np.int64, count=len(cells)
        )
    counts = np.zeros((n_units, len(values)), dtype=np.float64)
    np.add.at(counts, (unit_index, value_index), 1.0)
    return counts, values


def _alpha_from_counts(
    counts: FloatArray,
    values: npt.NDArray[np.generic],
    level: Level,
    multiplicity: FloatArray | None = None,
) -> float | None:
    """Alpha from units x values counts (Krippendorff 2011, coincidence-matrix form).

    ``multiplicity`` says how many units share each row of ``counts`` (default: one each).
    """
    pairable = counts.sum(axis=1)
    keep = pairable >= 2
    if multiplicity is not None:
        keep &= multiplicity > 0
    counts = counts[keep]
    if counts.shape[0] == 0:
        return None
    scale = 1.0 / (pairable[keep] - 1.0)
    if multiplicity is not None:
        scale = scale * multiplicity[keep]
    weighted = counts * scale[:, None]
    coincidences = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = float(n_c.sum())
    delta = _distances(values, n_c, level)
    expected = float((np.outer(n_c, n_c) * delta).sum())
    if expected == 0.0:
        return None
    observed = float((coincidences * delta).sum())
    return 1.0 - (n - 1.0) * observed / expected


def _distances(values: npt.NDArray[np.generic], n_c: FloatArray, level: Level) -> FloatArray:
    """Squared difference function delta^2(c, k) of Krippendorff (2011) for each pair of values."""
    size = len(values)
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "ordinal":
        # values are sorted; delta^2 = (sum of n_g for g from c to k - (n_c + n_k) / 2)^2
        cumulative = np.concatenate(([0.0], np.cumsum(n_c)))
        low = np.minimum.outer(np.arange(size), np.arange(size))
        high = np.maximum.outer(np.arange(size), np.arange(size))
        between = cumulative[high + 1] - cumulative[low]
        return np.asarray((between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2, dtype=np.float64)
    numbers = values.astype(np.float64)
    difference = numbers[:, None] - numbers[None, :]
    if level == "interval":
        return np.asarray(difference**2, dtype=np.float64)
    total = numbers[:, None] + numbers[None, :]
    ratio = np.divide(difference, total, out=np.zeros_like(difference), where=total != 0)
    return np.asarray(ratio**2, dtype=np.float64)


# --------------------------------------------------------------------------- character units


class _Layout:
    """The documents of a reliability sample laid end to end: one global offset per document."""

    def __init__(self, document_lengths: Mapping[str, int]) -> None:
        self.documents = sorted(document_lengths)
        self.lengths = {doc: int(document_lengths[doc]) for doc in self.documents}
        if any(length < 0 for length in self.lengths.values()):
            raise ValueError("document lengths must not be negative")
        self.offsets: dict[str, int] = {}
        total = 0
        for doc in self.documents:
            self.offsets[doc] = total
            total += self.lengths[doc]
        self.total = total

    def mask(self, codings: Iterable[Coding]) -> BoolArray:
        """Which characters of the laid-out sample these codings cover (vectorised)."""
        starts: list[int] = []
        ends: list[int] = []
        for coding in codings:
            offset = self.offsets.get(coding.document_id)
            if offset is None:
                continue
            if coding.end > self.lengths[coding.document_id]:
                raise ValueError(
                    f"coding of {coding.code_id!r} by {coding.coder!r} ends at {coding.end}, past "
                    f"the end of {coding.document_id!r} ({self.lengths[coding.document_id]})"
                )
            starts.append(offset + coding.start)
            ends.append(offset + coding.end)
        return _cover(self.total, starts, ends)


def _cover(size: int, starts: Sequence[int], ends: Sequence[int]) -> BoolArray:
    """Boolean mask of length ``size`` that is True inside any [start, end) range."""
    diff = np.zeros(size + 1, dtype=np.int64)
    np.add.at(diff, np.asarray(starts, dtype=np.int64), 1)
    np.add.at(diff, np.asarray(ends, dtype=np.int64), -1)
    return np.asarray(np.cumsum(diff[:-1]) > 0)


def _runs(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Starts and (exclusive) ends of the runs of True in a boolean mask."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    return np.nonzero(edges == 1)[0].astype(np.int64), np.nonzero(edges == -1)[0].astype(np.int64)


def _check_coders(coders: Sequence[str]) -> tuple[str, ...]:
    coders = tuple(coders)
    if len(coders) < 2 or len(set(coders)) != len(coders):
        raise ValueError("agreement needs at least two distinct coders")
    return coders


def _group(
    codings: Iterable[Coding], coders: Collection[str]
) -> dict[str, dict[str, list[Coding]]]:
    """code id -> coder -> codings, for the given coders only."""
    grouped: dict[str, dict[str, list[Coding]]] = defaultdict(lambda: defaultdict(list))
    for coding in codings:
        if coding.coder in coders:
            grouped[coding.code_id][coding.coder].append(coding)
    return grouped


def character_units(
    codings: Iterable[Coding],
    document_lengths: Mapping[str, int],
    code_id: str,
    coders: Sequence[str],
) -> BoolArray:
    """Coders x characters table of one code: True where the coder's codings cover the character.

    Documents are laid end to end in sorted order of their ids. Codings of documents outside
    ``document_lengths`` (the reliability sample) are left out.
    """
    coders = _check_coders(coders)
    layout = _Layout(document_lengths)
    by_coder = _group((c for c in codings if c.code_id == code_id), coders)[code_id]
    return np.vstack([layout.mask(by_coder.get(coder, ())) for coder in coders])


def per_code_agreement(
    codings: Iterable[Coding],
    document_lengths: Mapping[str, int],
    coders: Sequence[str],
    codes: Iterable[str] | None = None,
) -> list[CodeAgreement]:
    """Agreement on each code with every character of the sample as a unit (NVivo's method).

    ``codes`` defaults to every code any of the coders used in the sample; a code named there that
    nobody used has 100% agreement and undefined kappa and alpha. Sorted by code id.
    """
    coders = _check_coders(coders)
    layout = _Layout(document_lengths)
    codings = [c for c in codings if c.document_id in layout.offsets and c.coder in coders]
    grouped = _group(codings, coders)
    wanted = sorted(set(grouped) if codes is None else set(codes))
    results = []
    for code in wanted:
        by_coder = grouped.get(code, {})
        masks = np.vstack([layout.mask(by_coder.get(coder, ())) for coder in coders])
        results.append(
            _binary_agreement(
                code,
                "character",
                coders,
                masks,
                unitized=_unitized_alpha(layout, by_coder, coders),
            )
        )
    return results


def _binary_agreement(
    code_id: str,
    method: Method,
    coders: tuple[str, ...],
    masks: BoolArray,
    unitized: float | None = None,
) -> CodeAgreement:
    """Percent agreement, kappa and nominal alpha of coders x units binary values."""
    units = int(masks.shape[1])
    m = len(coders)
    coded_counts = np.count_nonzero(masks, axis=1)
    # Units by how many coders gave the code: the binary table collapses to m + 1 rows.
    ones = np.count_nonzero(masks, axis=0)
    how_many = np.bincount(ones, minlength=m + 1).astype(np.float64)
    all_coded = int(how_many[m])
    agreed = all_coded + int(how_many[0])
    kappas = [
        _cohen_kappa_binary(masks[i], masks[j]) for i, j in itertools.combinations(range(m), 2)
    ]
    defined = [k for k in kappas if k is not None]
    kappa = float(np.mean(defined)) if len(defined) == len(kappas) else None
    # Every unit has a value from every coder: its value counts are (m - k, k), k coders coding.
    k = np.arange(m + 1, dtype=np.float64)
    counts = np.column_stack((m - k, k))
    alpha = _alpha_from_counts(counts, np.array([0.0, 1.0]), "nominal", multiplicity=how_many)
    return CodeAgreement(
        code_id=code_id,
        method=method,
        units=units,
        agreed=agreed,
        percent=100.0 * agreed / units if units else 0.0,
        kappa=kappa,
        alpha=alpha,
        coded={coder: int(n) for coder, n in zip(coders, coded_counts, strict=True)},
        coded_by_all=all_coded,
        unitized_alpha=unitized,
    )


def _cohen_kappa_binary(first: BoolArray, second: BoolArray) -> float | None:
    units = first.size
    if units == 0:
        return None
    p_first = np.count_nonzero(first) / units
    p_second = np.count_nonzero(second) / units
    observed = (units - np.count_nonzero(first ^ second)) / units
    chance = p_first * p_second + (1.0 - p_first) * (1.0 - p_second)
    if chance >= 1.0:
        return None
    return float((observed - chance) / (1.0 - chance))


# --------------------------------------------------------------------------- unitized alpha


def unitized_alpha(
    codings: Iterable[Coding],
    document_lengths: Mapping[str, int],
    code_id: str,
    coders: Sequence[str],
) -> float | None:
    """Krippendorff's (2004) alpha for unitizing the sample's text with one code.

    None when no coder used the code, and for more than two coders (see the module notes).
    """
    coders = _check_coders(coders)
    layout = _Layout(document_lengths)
    by_coder = _group((c for c in codings if c.code_id == code_id), coders)[code_id]
    return _unitized_alpha(layout, by_coder, coders)


def _sections(
    layout: _Layout, codings: Iterable[Coding]
) -> dict[str, tuple[IntArray, IntArray, IntArray, IntArray]]:
    """Per document: starts and ends of coded units and of the gaps between them."""
    per_document: dict[str, list[Coding]] = defaultdict(list)
    for coding in codings:
        if coding.document_id in layout.offsets:
            per_document[coding.document_id].append(coding)
    result = {}
    for doc in layout.documents:
        length = layout.lengths[doc]
        mask = _cover(
            length,
            [c.start for c in per_document.get(doc, ())],
            [c.end for c in per_document.get(doc, ())],
        )
        unit_starts, unit_ends = _runs(mask)
        gap_starts, gap_ends = _runs(~mask)
        result[doc] = (unit_starts, unit_ends, gap_starts, gap_ends)
    return result


def _unitized_alpha(
    layout: _Layout, by_coder: Mapping[str, Sequence[Coding]], coders: tuple[str, ...]
) -> float | None:
    m = len(coders)
    total = float(layout.total)
    if total == 0 or m != 2:
        return None
    sections = {coder: _sections(layout, by_coder.get(coder, ())) for coder in coders}
    # Observed disagreement: sum over ordered pairs of coders = 2 x sum over unordered pairs.
    observed = 0.0
    for first, second in itertools.combinations(coders, 2):
        for doc in layout.documents:
            b1, e1, g1s, g1e = sections[first][doc]
            b2, e2, g2s, g2e = sections[second][doc]
            overlap = (b1[:, None] < e2[None, :]) & (b2[None, :] < e1[:, None])
            squared = (b1[:, None] - b2[None, :]) ** 2 + (e1[:, None] - e2[None, :]) ** 2
            observed += float(squared[overlap].sum())
            observed += _units_inside_gaps(b1, e1, g2s, g2e)
            observed += _units_inside_gaps(b2, e2, g1s, g1e)
    observed *= 2.0 / (m * (m - 1) * total**2)
    # Expected disagreement.
    unit_lengths = np.concatenate(
        [sec[1] - sec[0] for coder in coders for sec in sections[coder].values()]
    ).astype(np.float64)
    gap_lengths = np.sort(
        np.concatenate(
            [sec[3] - sec[2] for coder in coders for sec in sections[coder].values()]
        ).astype(np.float64)
    )
    n_units = unit_lengths.size
    if n_units == 0:
        return None
    # For each unit of length l: sum over gaps with length >= l of (gap - l + 1).
    suffix_sum = np.concatenate((np.cumsum(gap_lengths[::-1])[::-1], [0.0]))
    first_fit = np.searchsorted(gap_lengths, unit_lengths, side="left")
    fitting = gap_lengths.size - first_fit
    placements = suffix_sum[first_fit] - (unit_lengths - 1.0) * fitting
    lengths = unit_lengths
    numerator = float(
        (
            (n_units - 1) / 3.0 * (2 * lengths**3 - 3 * lengths**2 + lengths)
            + lengths**2 * placements
        ).sum()
    )
    denominator = m * total * (m * total - 1) - float((lengths * (lengths - 1)).sum())
    if denominator <= 0:
        return None
    expected = 2.0 / total * numerator / denominator
    if expected == 0.0:
        return None
    return 1.0 - observed / expected


def _units_inside_gaps(
    unit_starts: IntArray, unit_ends: IntArray, gap_starts: IntArray, gap_ends: IntArray
) -> float:
    """Sum of squared lengths of the units that lie wholly inside one of the other coder's gaps."""
    if unit_starts.size == 0 or gap_starts.size == 0:
        return 0.0
    # Gaps are sorted and disjoint: the candidate gap is the last one starting at or before.
    index = np.searchsorted(gap_starts, unit_starts, side="right") - 1
    valid = index >= 0
    inside = np.zeros(unit_starts.size, dtype=bool)
    inside[valid] = unit_ends[valid] <= gap_ends[index[valid]]
    lengths = (unit_ends - unit_starts)[inside].astype(np.float64)
    return float((lengths**2).sum())


# --------------------------------------------------------------------------- segment units


def segments(codings: Iterable[Coding], coders: Sequence[str]) -> list[tuple[str, int, int]]:
    """The segment units: per document, maximal stretches any of the coders coded with any code."""
    coders = _check_coders(coders)
    per_document: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for coding in codings:
        if coding.coder in coders and coding.end > coding.start:
            per_document[coding.document_id].append((coding.start, coding.end))
    result = []
    for doc in sorted(per_document):
        for start, end in _merge(per_document[doc]):
            result.append((doc, start, end))
    return result


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open ranges: sorted, with overlapping or touching ranges joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def segment_units(
    codings: Iterable[Coding],
    code_id: str,
    coders: Sequence[str],
    min_overlap: float = 0.0,
) -> BoolArray:
    """Coders x segments table of one code: True where the coder gave the segment the code.

    A coder gave a segment the code when their codings of it cover more than ``min_overlap``
    (a fraction, 0 <= min_overlap < 1) of the segment's characters.
    """
    coders = _check_coders(coders)
    codings = list(codings)
    units = segments(codings, coders)
    return _segment_masks(codings, units, code_id, coders, min_overlap)


def _segment_masks(
    codings: Sequence[Coding],
    units: Sequence[tuple[str, int, int]],
    code_id: str,
    coders: tuple[str, ...],
    min_overlap: float,
) -> BoolArray:
    if not 0.0 <= min_overlap < 1.0:
        raise ValueError("min_overlap is a fraction of the segment: 0 <= min_overlap < 1")
    # Lay the segments end to end so one vectorised coverage count serves all of them.
    layout = _Layout(
        {doc: max((e for d, _, e in units if d == doc), default=0) for doc, _, _ in units}
    )
    starts = np.array([layout.offsets[doc] + s for doc, s, _ in units], dtype=np.int64)
    ends = np.array([layout.offsets[doc] + e for doc, _, e in units], dtype=np.int64)
    rows = []
    for coder in coders:
        mask = layout.mask(
            c for c in codings if c.coder == coder and c.code_id == code_id and c.end > c.start
        )
        prefix = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
        covered = prefix[ends] - prefix[starts]
        rows.append(covered > min_overlap * (ends - starts))
    return np.vstack(rows) if rows else np.zeros((0, len(units)), dtype=bool)


def segment_agreement(
    codings: Iterable[Coding],
    coders: Sequence[str],
    codes: Iterable[str] | None = None,
    min_overlap: float = 0.0,
) -> list[CodeAgreement]:
    """Agreement on each code with the coded segments as units (see the module notes)."""
    coders = _check_coders(coders)
    codings = [c for c in codings if c.coder in coders]
    units = segments(codings, coders)
    wanted = sorted({c.code_id for c in codings} if codes is None else set(codes))
    return [
        _binary_agreement(
            code, "segment", coders, _segment_masks(codings, units, code, coders, min_overlap)
        )
        for code in wanted
    ]


# --------------------------------------------------------------------------- disagreements


def disagreements(
    codings: Iterable[Coding],
    a: str,
    b: str,
    texts: Mapping[str, str] | None = None,
) -> list[Disagreement]:
    """Contiguous ranges where one of two coders applied a code and the other did not.

    Overlapping or adjacent codings of one coder are merged first, so each range is maximal.
    Sorted by document, start, code and coder. With ``texts``, each carries its passage.
    """
    _check_coders((a, b))
    grouped: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = defaultdict(
        lambda: {a: [], b: []}
    )
    for coding in codings:
        if coding.coder in (a, b):
            grouped[coding.document_id, coding.code_id][coding.coder].append(
                (coding.start, coding.end)
            )
    found = []
    for (doc, code), by_coder in grouped.items():
        size = max(end for ranges in by_coder.values() for _, end in ranges)
        mask_a = _cover(size, [s for s, _ in by_coder[a]], [e for _, e in by_coder[a]])
        mask_b = _cover(size, [s for s, _ in by_coder[b]], [e for _, e in by_coder[b]])
        for only, coder, other in ((mask_a & ~mask_b, a, b), (mask_b & ~mask_a, b, a)):
            run_starts, run_ends = _runs(only)
            for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
                text = texts[doc][start:end] if texts is not None and doc in texts else None
                found.append(Disagreement(doc, code, start, end, coder, other, text))
    found.sort(key=lambda d: (d.document_id, d.start, d.end, d.code_id, d.coded_by))
    return found


def side_by_side(
    disagreement_list: Iterable[Disagreement], a: str, b: str
) -> list[tuple[str, int, int, str, str, str]]:
    """Rows for a two-column display: (document, start, end, code, what a did, what b did)."""
    rows = []
    for item in disagreement_list:
        did_a = "coded" if item.coded_by == a else "not coded"
        did_b = "coded" if item.coded_by == b else "not coded"
        rows.append((item.document_id, item.start, item.end, item.code_id, did_a, did_b))
    return rows


def reconcile(
    codings: Iterable[Coding],
    a: str,
    b: str,
    resolutions: Iterable[Resolution] = (),
    consensus_coder: str = "consensus",
) -> Reconciliation:
    """Consensus coding of two coders: what both coded, changed by the recorded decisions.

    Where both coders agree the consensus follows them unless a resolution says otherwise;
    where they disagree it follows the resolution covering the character. Disagreements that no
    resolution covers are returned as ``unresolved`` (and left uncoded in the consensus).
    """
    _check_coders((a, b))
    resolutions = tuple(resolutions)
    coded: dict[tuple[str, str], list[Coding]] = defaultdict(list)
    for coding in codings:
        if coding.coder in (a, b):
            coded[coding.document_id, coding.code_id].append(coding)
    decisions: dict[tuple[str, str], list[Resolution]] = defaultdict(list)
    for resolution in resolutions:
        decisions[resolution.document_id, resolution.code_id].append(resolution)
    consensus: list[Coding] = []
    unresolved: list[Disagreement] = []
    for doc, code in sorted(set(coded) | set(decisions)):
        here = coded.get((doc, code), [])
        decided = decisions.get((doc, code), [])
        size = max([c.end for c in here] + [r.end for r in decided])
        mask_a = _cover(
            size, [c.start for c in here if c.coder == a], [c.end for c in here if c.coder == a]
        )
        mask_b = _cover(
            size, [c.start for c in here if c.coder == b], [c.end for c in here if c.coder == b]
        )
        result = mask_a & mask_b
        touched = np.zeros(size, dtype=bool)
        for resolution in decided:  # later decisions override earlier ones
            result[resolution.start : resolution.end] = resolution.apply
            touched[resolution.start : resolution.end] = True
        open_ranges = (mask_a ^ mask_b) & ~touched
        for mask, coder, other in ((open_ranges & mask_a, a, b), (open_ranges & mask_b, b, a)):
            run_starts, run_ends = _runs(mask)
            for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
                unresolved.append(Disagreement(doc, code, start, end, coder, other))
        run_starts, run_ends = _runs(result)
        for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            consensus.append(Coding(doc, code, consensus_coder, start, end))
    unresolved.sort(key=lambda d: (d.document_id, d.start, d.end, d.code_id, d.coded_by))
    return Reconciliation(
        coders=(a, b),
        consensus_coder=consensus_coder,
        codings=tuple(consensus),
        resolutions=resolutions,
        unresolved=tuple(unresolved),
    )
