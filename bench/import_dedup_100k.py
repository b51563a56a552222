"""Import and de-duplication of 100,000 search results: time and peak memory.

Builds 100,000 synthetic records (about one in five a realistic variant of an earlier one,
from `build_demo_records`), writes them as one RIS file, then in one run:

1. parses the file with our parser and with `rispy` (the peer, when installed) and prints the
   ratio;
2. de-duplicates our parsed records with `find_duplicates` and prints time, peak memory
   (tracemalloc, in a second run) and pairwise precision and recall against the known
   duplicates. The synthetic titles are built from a limited phrase bank, so distinct records
   are more alike than real ones and precision here is a floor.

    python bench/import_dedup_100k.py [--records 100000]
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc

from steppingstones.evidence import dedup
from steppingstones.evidence.demo_records import build_demo_records
from steppingstones.evidence.references import parse
from steppingstones.evidence.references.writers import write_ris


def timed(label: str, work):  # type: ignore[no-untyped-def]
    """Wall time of ``work()`` and the memory it allocated at its peak: measured in two runs,
    as tracemalloc slows Python code several-fold and would distort the timing."""
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    del result
    tracemalloc.start()
    result = work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<34} {seconds:8.2f} s   peak {peak / 1024 / 1024:8.1f} MiB")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    demo = build_demo_records(7, args.records)
    handle = io.StringIO()
    write_ris([record.reference() for record in demo], handle)
    data = handle.getvalue().encode()
    print(f"{args.records:,} records, {len(data) / 1024 / 1024:.1f} MiB of RIS")

    ours, our_seconds = timed("parse: Stepping Stones", lambda: parse(data, format="ris"))
    try:
        import rispy
    except ImportError:
        print("parse: rispy not installed (pip install rispy) - no peer ratio")
    else:
        text = data.decode()
        peer, peer_seconds = timed("parse: rispy", lambda: rispy.loads(text))
        print(f"  records: ours {len(ours.records):,}, rispy {len(peer):,}")
        print(f"  ratio (rispy time / our time): {peer_seconds / our_seconds:.2f}x")

    records = [
        {**record.to_dict(), "id": str(index), "source": demo[index].source}
        for index, record in enumerate(ours.records)
    ]
    groups, _ = timed("de-duplicate: find_duplicates", lambda: dedup.find_duplicates(records))
    truth = set()
    for index in range(len(demo)):
        original = index
        while demo[original].duplicate_of is not None:
            original = demo[original].duplicate_of  # type: ignore[assignment]
        if original != index:
            truth.add((original, index))
    roots = {}
    for number, group in enumerate(groups):
        for member in group.ids:
            roots[int(member)] = number
    clusters: dict[int, list[int]] = {}
    for original, index in truth:
        clusters.setdefault(original, [original]).append(index)
    true_pairs = {
        (min(a, b), max(a, b))
        for members in clusters.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    }
    found_pairs = {
        (min(a, b), max(a, b))
        for group in groups
        for i, a in enumerate(map(int, group.ids))
        for b in list(map(int, group.ids))[i + 1 :]
    }
    hits = len(true_pairs & found_pairs)
    precision = hits / len(found_pairs) if found_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    print(f"  groups {len(groups):,}; pairwise precision {precision:.4f}, recall {recall:.4f}")


if __name__ == "__main__":
    main()
