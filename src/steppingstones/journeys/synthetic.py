"""Synthetic routine data: national-scale perinatal pathway event logs for demos and benchmarks.

Every log made here is SYNTHETIC: no row describes a real person, site or region. It is
labelled so in three places: case identifiers start with ``SYN-``, sites and regions are named
``Synthetic …``, and the Arrow schema carries the metadata ``synthetic: true`` with the
generator's name, version and seed.

A case is one mother–infant journey from referral to the specialist service through birth to
health-visitor follow-up, with the branches the service sees: booking late or before the
referral reaches it, drug treatment, a pre-birth assessment and child protection conference,
neonatal abstinence syndrome (NAS) treatment, a neonatal unit stay, separation at or after
discharge and, for some, reunification. Delays are log-normal with a multiplier per site;
about a third of sites record dates only (midnight timestamps), which gives the same-timestamp
events real logs have. The source order of such ties follows the pathway order of the
activities (discharge before separation), and ``seq`` is that source order.

The generator is vectorised (NumPy, one pass per activity, one sort) and deterministic: the
same ``n_cases`` and ``seed`` give the same table, byte for byte, on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

GENERATOR = "steppingstones.journeys.synthetic"
GENERATOR_VERSION = "1"

ACTIVITIES: tuple[str, ...] = (
    "Referral",
    "Booking",
    "Specialist midwife contact",
    "Drug treatment start",
    "Pre-birth assessment",
    "Child protection conference",
    "Birth",
    "NAS treatment",
    "Neonatal unit admission",
    "Discharge",
    "Separation",
    "Reunification",
    "Health visitor contact",
)
(
    REFERRAL,
    BOOKING,
    SPECIALIST_MIDWIFE,
    DRUG_TREATMENT,
    PRE_BIRTH_ASSESSMENT,
    CP_CONFERENCE,
    BIRTH,
    NAS_TREATMENT,
    NEONATAL_UNIT,
    DISCHARGE,
    SEPARATION,
    REUNIFICATION,
    HEALTH_VISITOR,
) = range(len(ACTIVITIES))

N_REGIONS = 12
SITES_PER_REGION = (18, 14, 12, 12, 11, 10, 9, 9, 8, 7, 6, 4)  # 120 sites in all
DAY_ONLY_SHARE = 0.3
START = np.datetime64("2016-01-01T00:00:00", "s").astype(np.int64)
SPAN_SECONDS = 6 * 365 * 86_400  # referrals over six years
DAY = 86_400
WEEK = 7 * DAY


@dataclass(frozen=True)
class Sites:
    """The synthetic sites: name, region, share of cases, delay multiplier, date-only flag."""

    names: list[str]
    regions: list[str]
    region_of_site: np.ndarray
    weights: np.ndarray
    delay_factor: np.ndarray
    day_only: np.ndarray


def make_sites(seed: int) -> Sites:
    """The 120 synthetic sites in 12 synthetic regions, sized by a Zipf-like law."""
    rng = np.random.default_rng([seed, 1])
    region_of_site = np.repeat(np.arange(N_REGIONS), SITES_PER_REGION)
    n_sites = region_of_site.size
    names = [f"Synthetic site {i + 1:03d}" for i in range(n_sites)]
    regions = [f"Synthetic region {chr(ord('A') + r)}" for r in range(N_REGIONS)]
    sizes = 1.0 / np.arange(1, n_sites + 1) ** 0.8
    weights = rng.permutation(sizes)
    weights = weights / weights.sum()
    delay_factor = rng.lognormal(0.0, 0.25, n_sites)
    day_only = rng.random(n_sites) < DAY_ONLY_SHARE
    return Sites(names, regions, region_of_site, weights, delay_factor, day_only)


def _lognormal_seconds(
    rng: np.random.Generator, median_days: float, sigma: float, size: int
) -> np.ndarray:
    return rng.lognormal(np.log(median_days * DAY), sigma, size)


class _Events:
    """Accumulates (case index, activity code, time in seconds) arrays, one activity at a time."""

    def __init__(self) -> None:
        self.cases: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.times: list[np.ndarray] = []

    def add(self, code: int, cases: np.ndarray, times: np.ndarray) -> None:
        self.cases.append(cases.astype(np.int64, copy=False))
        self.codes.append(np.full(cases.size, code, dtype=np.int64))
        self.times.append(times.astype(np.int64))

    def add_repeated(
        self,
        code: int,
        counts: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """``counts[i]`` events for case i, uniformly between ``lo[i]`` and ``hi[i]``."""
        cases = np.repeat(np.arange(counts.size), counts)
        span = np.maximum(hi - lo, 0)[cases]
        times = lo[cases] + rng.random(cases.size) * span
        self.add(code, cases, times)


def generate(n_cases: int, seed: int = 0) -> pa.Table:
    """A synthetic perinatal event log of ``n_cases`` journeys (about 20 events each).

    Columns: ``case_id``, ``activity``, ``timestamp`` (UTC, microseconds), ``seq`` (source
    order, 0-based) and the attributes ``site`` and ``region``. ``case_id``, ``activity``,
    ``site`` and ``region`` are dictionary-encoded strings, which keeps 40 million events in
    about 1 GB. Rows are in source order: by case, then time, then pathway order.
    """
    if n_cases < 0:
        raise ValueError("n_cases must be zero or more")
    sites = make_sites(seed)
    rng = np.random.default_rng([seed, 2])
    n = n_cases
    case_site = rng.choice(sites.weights.size, size=n, p=sites.weights)
    factor = sites.delay_factor[case_site]
    ev = _Events()
    everyone = np.arange(n)

    # Referral, and the pregnancy it arrives in.
    referral = START + rng.random(n) * SPAN_SECONDS
    gestation_at_referral = rng.uniform(6, 30, n)  # weeks
    preterm = rng.random(n) < 0.15
    weeks_to_birth = (40 - gestation_at_referral) + rng.normal(0, 1.2, n)
    weeks_to_birth -= np.where(preterm, rng.uniform(3, 9, n), 0)
    birth = referral + np.maximum(weeks_to_birth, 1.0) * WEEK + rng.random(n) * DAY
    ev.add(REFERRAL, everyone, referral)

    # Booking: most after the referral, some before it (booked first, referred later).
    booked = rng.random(n) < 0.93
    booked_first = rng.random(n) < 0.12
    delay = _lognormal_seconds(rng, 9, 0.7, n) * factor
    booking = np.where(booked_first, referral - delay * 0.5, referral + delay)
    booked &= booking < birth
    ev.add(BOOKING, everyone[booked], booking[booked])

    # Specialist midwife contacts through pregnancy; engaged women are seen more often.
    engaged = rng.random(n) < 0.6
    contacts = rng.poisson(np.where(engaged, 10, 4))
    ev.add_repeated(SPECIALIST_MIDWIFE, contacts, referral, birth, rng)

    # Drug treatment start (opioid substitution and others), antenatal or just after birth.
    on_treatment = rng.random(n) < 0.55
    treatment = referral + _lognormal_seconds(rng, 21, 0.8, n) * factor
    ev.add(DRUG_TREATMENT, everyone[on_treatment], treatment[on_treatment])

    # Pre-birth assessment and, for some, a child protection conference.
    assessed = rng.random(n) < 0.65
    assessment = np.maximum(birth - rng.uniform(2, 10, n) * WEEK, referral + DAY)
    ev.add(PRE_BIRTH_ASSESSMENT, everyone[assessed], assessment[assessed])
    conference = assessed & (rng.random(n) < 0.5)
    conference_at = assessment + _lognormal_seconds(rng, 14, 0.5, n) * factor
    ev.add(CP_CONFERENCE, everyone[conference], conference_at[conference])

    ev.add(BIRTH, everyone, birth)

    # NAS treatment (likelier with drug treatment) and neonatal unit admission.
    nas = rng.random(n) < np.where(on_treatment, 0.4, 0.15)
    nas_at = birth + rng.uniform(0.5, 4, n) * DAY
    ev.add(NAS_TREATMENT, everyone[nas], nas_at[nas])
    nnu = rng.random(n) < np.where(nas, 0.8, 0.1)
    nnu_at = birth + rng.random(n) * np.where(nas, 3, 1) * DAY
    ev.add(NEONATAL_UNIT, everyone[nnu], nnu_at[nnu])

    # Discharge home (or into care): longer after a neonatal unit stay.
    stay = _lognormal_seconds(rng, 2, 0.5, n)
    stay += np.where(nnu, _lognormal_seconds(rng, 10, 0.6, n) * factor, 0)
    discharge = np.maximum(birth + stay, np.where(nas, nas_at, birth) + 3600)
    discharge = np.maximum(discharge, np.where(nnu, nnu_at, birth) + 3600)
    ev.add(DISCHARGE, everyone, discharge)

    # Separation at discharge (same time) or later, and reunification for some.
    separated = rng.random(n) < np.where(conference, 0.43, 0.08)
    at_discharge = rng.random(n) < 0.6
    later = np.minimum(_lognormal_seconds(rng, 20, 0.8, n), 365 * DAY)
    separation = np.where(at_discharge, discharge, discharge + later)
    ev.add(SEPARATION, everyone[separated], separation[separated])
    reunified = separated & (rng.random(n) < 0.35)
    reunification = separation + np.minimum(_lognormal_seconds(rng, 120, 0.6, n), 730 * DAY)
    ev.add(REUNIFICATION, everyone[reunified], reunification[reunified])

    # Health visitor contacts in the first year.
    visits = rng.poisson(5, n) + 1
    ev.add_repeated(HEALTH_VISITOR, visits, discharge + 10 * DAY, discharge + 365 * DAY, rng)

    cases = np.concatenate(ev.cases) if ev.cases else np.zeros(0, np.int64)
    codes = np.concatenate(ev.codes) if ev.codes else np.zeros(0, np.int64)
    times = np.concatenate(ev.times) if ev.times else np.zeros(0, np.int64)
    # Recording resolution: date only at some sites, to the minute elsewhere.
    day_only = sites.day_only[case_site][cases]
    times = np.where(day_only, times - times % DAY, times - times % 60)

    # Source order: case, time, pathway order, as one int64 key when it fits (it does for
    # any realistic size); rows equal on all three are interchangeable.
    if times.size:
        inner = (times - times.min()) * 16 + codes
        width = int(inner.max()) + 1
        if n * width < 2**62:
            order = np.argsort(cases * width + inner)
        else:  # pragma: no cover - beyond a billion cases
            order = np.lexsort((codes, times, cases))
        cases, codes, times = cases[order], codes[order], times[order]

    return _table(n, cases, codes, times, case_site, sites, seed)


def case_ids(n_cases: int) -> pa.Array:
    """``SYN-0000001`` … as an Arrow string array."""
    numbers = pc.cast(pa.array(np.arange(1, n_cases + 1)), pa.string())
    width = max(7, len(str(n_cases)))
    return pc.binary_join_element_wise("SYN-", pc.utf8_lpad(numbers, width, "0"), "")


def _table(
    n: int,
    cases: np.ndarray,
    codes: np.ndarray,
    times: np.ndarray,
    case_site: np.ndarray,
    sites: Sites,
    seed: int,
) -> pa.Table:
    index_type = pa.int32()
    case_col = pa.DictionaryArray.from_arrays(pa.array(cases, index_type), case_ids(n))
    activity_col = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int8)), pa.array(ACTIVITIES)
    )
    site_codes = case_site[cases].astype(np.int16)
    site_col = pa.DictionaryArray.from_arrays(pa.array(site_codes), pa.array(sites.names))
    region_col = pa.DictionaryArray.from_arrays(
        pa.array(sites.region_of_site[site_codes].astype(np.int8)), pa.array(sites.regions)
    )
    timestamp = pa.array(times * 1_000_000, pa.timestamp("us", tz="UTC"))
    schema = pa.schema(
        [
            ("case_id", case_col.type),
            ("activity", activity_col.type),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("seq", pa.int64()),
            ("site", site_col.type),
            ("region", region_col.type),
        ],
        metadata={
            "synthetic": "true",
            "generator": GENERATOR,
            "generator_version": GENERATOR_VERSION,
            "seed": str(seed),
            "description": "SYNTHETIC perinatal pathway event log: no real people or places.",
        },
    )
    seq = pa.array(np.arange(cases.size, dtype=np.int64))
    return pa.Table.from_arrays(
        [case_col, activity_col, timestamp, seq, site_col, region_col], schema=schema
    )


def is_synthetic(table: pa.Table) -> bool:
    """Whether ``table`` carries this generator's synthetic label."""
    meta = table.schema.metadata or {}
    return meta.get(b"synthetic") == b"true"
