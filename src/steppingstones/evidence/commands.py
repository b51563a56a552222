"""`steppingstones evidence parse | import | simulate`: thin wrappers over the domain modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from steppingstones.evidence import references

FORMATS = sorted(references.FORMATS)


class EvidenceCommandError(Exception):
    """Printed as one line by the command-line entry point."""


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        return file.read_bytes()
    except OSError as error:
        raise EvidenceCommandError(f"{file.name}: {error.strerror or error}") from error


def cmd_parse(args: argparse.Namespace) -> None:
    data = _read(args.file)
    try:
        result = references.parse(data, format=args.format, filename=Path(args.file).name)
    except references.ReferenceFormatError as error:
        raise EvidenceCommandError(str(error)) from error
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        records = []
        for record in result.records:
            item = record.to_dict()
            records.append(item)
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    print(f"{len(result.records)} records ({result.format}, {result.encoding})")
    for record in result.records:
        authors = "; ".join(record.authors[:3]) + (" et al." if len(record.authors) > 3 else "")
        print(f"{record.source_record:>6}  {record.year or '----'}  {authors}  {record.title}")


def cmd_import(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model

    from steppingstones.core import audit
    from steppingstones.core.progress import ConsoleProgress
    from steppingstones.evidence import services
    from steppingstones.evidence.models import Review, Source

    review = Review.objects.filter(study__slug=args.study, slug=args.review).first()
    if review is None:
        raise EvidenceCommandError(f"no review {args.review!r} in study {args.study!r}")
    data = _read(args.file)
    name = Path(args.file).name
    try:
        result = references.parse(data, format=args.format, filename=name)
    except references.ReferenceFormatError as error:
        raise EvidenceCommandError(str(error)) from error
    for warning in result.warnings[:50]:
        print(f"warning: {warning}", file=sys.stderr)
    source, _ = Source.objects.get_or_create(
        review=review, name=args.source, defaults={"kind": args.kind}
    )
    user = get_user_model().objects.filter(username=args.user).first() if args.user else None
    with audit.acting_as(audit.Actor(user_id=user.pk if user else None, name="command line")):
        batch = services.store_references(
            review,
            source,
            result.records,
            filename=name,
            file_format=result.format,
            encoding=result.encoding,
            warnings=result.warnings,
            user=user,
            progress=ConsoleProgress(),
        )
    print(f"Imported {batch.record_count} records from {name} into {review.title} ({source.name}).")


def cmd_simulate(args: argparse.Namespace) -> None:
    from steppingstones.core.progress import ConsoleProgress
    from steppingstones.evidence import screening

    progress: Any = None if args.json else ConsoleProgress()
    try:
        model = args.model or screening.DEFAULT_MODEL
        if model not in screening.available_models():
            known = ", ".join(sorted(screening.available_models()))
            raise EvidenceCommandError(f"unknown model {model!r}; choose one of {known}")
        result = screening.simulate_csv(args.data, model=model, seed=args.seed, progress=progress)
    except (screening.ScreeningInputError, ValueError) as error:
        raise EvidenceCommandError(str(error).strip("'\"")) from error
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(screening.format_simulation(result))


def add_commands(evidence: Any, command_error: type[Exception]) -> None:
    """Add the review subcommands to the ``evidence`` subparsers."""

    def wrapped(handler: Any) -> Any:
        def run(args: argparse.Namespace) -> None:
            try:
                handler(args)
            except EvidenceCommandError as error:
                raise command_error(str(error)) from error

        return run

    parse = evidence.add_parser("parse", help="Read a search-results file; print its records.")
    parse.add_argument("file", metavar="FILE")
    parse.add_argument("--format", choices=FORMATS, help="default: detect from the file")
    parse.add_argument("--json", action="store_true", help="print the normalised records")
    parse.set_defaults(handler=wrapped(cmd_parse), needs_database=False)

    load = evidence.add_parser("import", help="Store a search-results file in a review.")
    load.add_argument("file", metavar="FILE")
    load.add_argument("--study", required=True)
    load.add_argument("--review", required=True)
    load.add_argument("--source", required=True, help="the database or method, e.g. MEDLINE")
    load.add_argument("--kind", default="database", choices=["database", "register", "other"])
    load.add_argument("--format", choices=FORMATS)
    load.add_argument("--user", help="the account recorded as importing it")
    load.set_defaults(handler=wrapped(cmd_import))

    simulate = evidence.add_parser(
        "simulate", help="Replay prioritised screening of a labelled CSV; report WSS, recall."
    )
    simulate.add_argument("data", metavar="LABELLED.csv")
    simulate.add_argument("--model", help="a registered model name (default: the platform's)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--json", action="store_true")
    simulate.set_defaults(handler=wrapped(cmd_simulate), needs_database=False)
