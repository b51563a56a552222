"""The ``steppingstones voices`` subcommands: REFI-QDA project import and export.

::

    steppingstones voices import-qdpx FILE --study SLUG [--site CODE] [--user NAME]
    steppingstones voices export-qdpx --study SLUG -o FILE

Thin wrappers over :mod:`steppingstones.voices.exchange`: progress goes to standard error, a
summary to standard output, and every refusal (a hostile or broken file, a project already
imported) is one line naming the file, the element and the line, with nothing stored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


class VoicesCommandError(Exception):
    """Printed as one line by the command-line entry point."""


def _study(slug: str) -> Any:
    from steppingstones.core.models import Study

    study = Study.objects.filter(slug=slug).first()
    if study is None:
        raise VoicesCommandError(f"no study with the slug {slug!r}")
    return study


def cmd_import(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model

    from steppingstones.core import audit
    from steppingstones.core.progress import ConsoleProgress
    from steppingstones.voices import exchange
    from steppingstones.voices.refiqda import RefiQdaError

    study = _study(args.study)
    path = Path(args.file)
    if not path.is_file():
        raise VoicesCommandError(f"{path.name}: no such file")
    sites = study.sites.order_by("code")
    if args.site:
        site = sites.filter(code=args.site).first()
        if site is None:
            known = ", ".join(sites.values_list("code", flat=True))
            raise VoicesCommandError(f"no site {args.site!r} in {study.slug} (sites: {known})")
    elif sites.count() == 1:
        site = sites.get()
    else:
        known = ", ".join(sites.values_list("code", flat=True))
        raise VoicesCommandError(f"choose the site the sources belong to with --site ({known})")
    user = None
    if args.user:
        user = get_user_model().objects.filter(username=args.user).first()
        if user is None:
            raise VoicesCommandError(f"no user named {args.user!r}")
    actor = audit.Actor(user_id=user.pk if user else None, name=args.user or "command line")
    try:
        with audit.acting_as(actor):
            summary = exchange.import_qdpx(
                study, path, site=site, label=path.name, progress=ConsoleProgress()
            )
    except (RefiQdaError, exchange.ExchangeError) as error:
        raise VoicesCommandError(f"nothing was imported. {error}") from error
    print(f"Imported {path.name} into {study.slug} at {site.code}: {summary.describe()}.")


def cmd_export(args: argparse.Namespace) -> None:
    from steppingstones.core import audit
    from steppingstones.core.progress import ConsoleProgress
    from steppingstones.voices import exchange

    study = _study(args.study)
    target = Path(args.output)
    if target.suffix.casefold() != ".qdpx":
        raise VoicesCommandError("the output must end in .qdpx (a REFI-QDA project)")
    with audit.acting_as(audit.Actor(user_id=None, name="command line")):
        try:
            data, summary = exchange.export_qdpx(study, progress=ConsoleProgress())
        except exchange.ExchangeError as error:
            raise VoicesCommandError(str(error)) from error
    target.write_bytes(data)
    print(f"Exported {summary.describe()} from {study.slug} to {target}.", file=sys.stdout)


def add_commands(subcommands: Any, command_error: type[Exception]) -> None:
    """Add the voices subcommands to the ``voices`` subparsers."""

    def wrapped(handler: Any) -> Any:
        def run(args: argparse.Namespace) -> None:
            try:
                handler(args)
            except VoicesCommandError as error:
                raise command_error(str(error)) from error

        return run

    load = subcommands.add_parser(
        "import-qdpx",
        help="Import a REFI-QDA project (.qdpx) into a study: all of it or nothing.",
        description=(
            "Import a .qdpx project from NVivo, ATLAS.ti, MAXQDA, QualCoder or this platform. "
            "Its texts are taken to be de-identified already and are stored ready for analysis."
        ),
    )
    load.add_argument("file", metavar="FILE")
    load.add_argument("--study", required=True, metavar="SLUG")
    load.add_argument("--site", metavar="CODE", help="site of the sources (needed with 2+ sites)")
    load.add_argument("--user", metavar="NAME", help="the account recorded as importing it")
    load.set_defaults(handler=wrapped(cmd_import))

    save = subcommands.add_parser(
        "export-qdpx",
        help="Export a study's analysis as a REFI-QDA project (.qdpx).",
        description="Only the de-identified text of sources ready for analysis is exported.",
    )
    save.add_argument("--study", required=True, metavar="SLUG")
    save.add_argument("-o", "--output", required=True, metavar="FILE")
    save.set_defaults(handler=wrapped(cmd_export))
