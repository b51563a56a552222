"""Time from a screening decision to the next record shown, at 20,000 records.

Sets up a throw-away instance (SQLite, or PostgreSQL with DATABASE_URL) holding one review of
20,000 synthetic records, ranks it once, then times what the screening page does on each
decision: store the decision, queue the background re-ranking, and fetch the next record for
the reviewer by the stored ranking. The re-ranking itself runs in the background worker and is
timed separately (it never delays the next record). The peer is the same page without the
prioritisation model (records in import order): the ratio shows what ranking costs per
decision.

    python bench/screening_latency.py [--records 20000] [--decisions 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=50)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="screening-latency-")
    os.environ["STEPPINGSTONES_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steppingstones.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model

    from steppingstones.core.jobs import start_job
    from steppingstones.core.models import Study
    from steppingstones.evidence import services
    from steppingstones.evidence.demo_records import build_demo_records
    from steppingstones.evidence.models import Review, Source

    user = get_user_model().objects.create(username="bench")
    study = Study.objects.create(slug="bench", name="Bench")
    review = Review.objects.create(study=study, slug="r", title="R", dual_screening=False)
    source = Source.objects.create(review=review, name="MEDLINE")
    demo = build_demo_records(11, args.records)
    started = time.perf_counter()
    services.store_references(
        review,
        source,
        [record.reference() for record in demo],
        filename="bench.ris",
        file_format="ris",
        encoding="utf-8",
        warnings=[],
        user=user,
    )
    print(f"stored {args.records:,} records in {time.perf_counter() - started:.1f} s")
    truth = {r.pk: demo[i].relevant for i, r in enumerate(review.records.order_by("number"))}

    def decide_and_next(count: int) -> list[float]:
        times = []
        record = services.next_for(review, services.TITLE_ABSTRACT, user)
        for _ in range(count):
            assert record is not None
            began = time.perf_counter()
            decision = "include" if truth[record.pk] else "exclude"
            services.decide(record, stage=services.TITLE_ABSTRACT, user=user, decision=decision)
            start_job(study=study, user=user, kind="screening-rank", label="rank", params={})
            record = services.next_for(review, services.TITLE_ABSTRACT, user)
            times.append((time.perf_counter() - began) * 1000)
        return times

    unranked = decide_and_next(args.decisions)
    began = time.perf_counter()
    services.rank(review)
    rank_seconds = time.perf_counter() - began
    ranked = decide_and_next(args.decisions)

    def summary(times: list[float]) -> str:
        ordered = sorted(times)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        return f"median {statistics.median(times):6.1f} ms, 95th percentile {p95:6.1f} ms"

    print(f"decision to next record, import order:  {summary(unranked)}")
    print(f"decision to next record, model ranking: {summary(ranked)}")
    print(
        f"ratio (import order / ranked, medians): "
        f"{statistics.median(unranked) / statistics.median(ranked):.2f}x"
    )
    print(f"background re-ranking of {args.records:,} records: {rank_seconds:.1f} s")


if __name__ == "__main__":
    main()
