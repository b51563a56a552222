"""The ``steppingstones`` command: thin, it parses, calls domain code and prints."""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""


def _setup_django(connect: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steppingstones.config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        raise CommandError(f"configuration: {error}") from error
    except ValueError as error:  # dj-database-url rejects an unknown scheme
        raise CommandError(f"DATABASE_URL is not usable: {error}") from error
    from django.db import DatabaseError, connection

    if not connect:
        return
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        raise CommandError(
            f"cannot connect to the database ({_safe_db_name()}): {error}".strip()
        ) from error


def _safe_db_name() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    host = f"{db.get('HOST') or 'local'}:{db.get('PORT') or ''}".rstrip(":")
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')} on {host}"


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _require_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            "the database has unapplied migrations: run `steppingstones migrate` first"
        )


def _print_accounts(accounts: list[Any]) -> None:
    print("Demo accounts (ROLE USERNAME PASSWORD):")
    for account in accounts:
        print(f"{account.role} {account.username} {account.password}")


def cmd_demo(args: argparse.Namespace) -> None:
    from steppingstones.core.demo_load import load_demo
    from steppingstones.core.identity import IdentityKeyError
    from steppingstones.core.progress import ConsoleProgress

    _migrate()
    try:
        accounts = load_demo(ConsoleProgress(enabled=not args.quiet))
    except IdentityKeyError as error:
        raise CommandError(str(error)) from error
    print("Loaded the SYNTHETIC demo study 'demo' (generated people, no real data).")
    _print_accounts(accounts)
    if not args.no_serve:
        cmd_serve(args)


def cmd_migrate(args: argparse.Namespace) -> None:
    from steppingstones.core import identity_store
    from steppingstones.core.identity import IdentityKeyError

    _migrate(verbosity=1)
    try:
        identity_store.ensure_key()
    except IdentityKeyError as error:
        raise CommandError(str(error)) from error


def cmd_serve(args: argparse.Namespace) -> None:
    from steppingstones.core import identity_store
    from steppingstones.core.identity import IdentityKeyError

    _require_migrated()
    try:
        identity_store.ensure_key()
    except IdentityKeyError as error:
        raise CommandError(str(error)) from error
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "steppingstones.config.settings"}
    bin_dir = Path(sys.executable).parent
    gunicorn = bin_dir / "gunicorn" if (bin_dir / "gunicorn").exists() else shutil.which("gunicorn")
    if gunicorn is None:
        raise CommandError("gunicorn is not installed: pip install steppingstones again")
    worker = subprocess.Popen([sys.executable, "-m", "steppingstones.cli", "worker"], env=env)
    server = subprocess.Popen(
        [
            str(gunicorn),
            "steppingstones.config.wsgi:application",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        env=env,
    )
    print(
        f"Stepping Stones is serving at http://{args.host}:{args.port}/ (Ctrl-C stops it)",
        flush=True,
    )

    def stop(*_: Any) -> None:
        for process in (server, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.wait()
    finally:
        stop()
        worker.wait(timeout=10)


def cmd_worker(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    call_command("db_worker", interval=0.5, startup_delay=False, batch=args.batch, verbosity=0)


def cmd_createadmin(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model, password_validation
    from django.core.exceptions import ValidationError

    _require_migrated()
    users = get_user_model().objects
    if not args.username.strip():
        raise CommandError("give a user name with --username")
    if users.filter(username=args.username).exists():
        raise CommandError(f"a user named {args.username!r} already exists")
    try:
        password = os.environ.get("STEPPINGSTONES_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    except EOFError as error:
        raise CommandError(
            "no password given: type one, or set STEPPINGSTONES_ADMIN_PASSWORD"
        ) from error
    try:
        password_validation.validate_password(password)
    except ValidationError as error:
        raise CommandError("password refused: " + " ".join(error.messages)) from error
    users.create_superuser(username=args.username, email=args.email or "", password=password)
    print(f"Administrator {args.username} created.")


def cmd_backup(args: argparse.Namespace) -> None:
    from steppingstones.core.backup import BackupError, create_backup
    from steppingstones.core.progress import ConsoleProgress

    _require_migrated()
    if not args.path.strip():
        raise CommandError("give the backup file to write, e.g. backups/stones.tar.gz")
    try:
        summary = create_backup(Path(args.path), ConsoleProgress(enabled=not args.quiet))
    except BackupError as error:
        raise CommandError(str(error)) from error
    print(f"Backed up {summary.records} records and {summary.files} files to {summary.path}")


def cmd_restore(args: argparse.Namespace) -> None:
    from steppingstones.core.backup import BackupError, restore_backup
    from steppingstones.core.progress import ConsoleProgress

    _migrate()
    try:
        summary = restore_backup(Path(args.path), ConsoleProgress(enabled=not args.quiet))
    except BackupError as error:
        raise CommandError(str(error)) from error
    print(f"Restored {summary.records} records and {summary.files} files from {summary.path}")


def cmd_check(args: argparse.Namespace) -> None:
    from steppingstones.core.selfcheck import run_checks

    results = run_checks()
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
    if not all(result.ok for result in results):
        raise SystemExit(1)


def _study(slug: str) -> Any:
    from steppingstones.core.models import Study

    study = Study.objects.filter(slug=slug).first()
    if study is None:
        raise CommandError(f"no study with the slug {slug!r}")
    return study


def cmd_cohort_import(args: argparse.Namespace) -> None:
    from steppingstones.cohort import exchange
    from steppingstones.cohort.tabular import TableError
    from steppingstones.core import audit
    from steppingstones.core.progress import ConsoleProgress

    _require_migrated()
    study = _study(args.study)
    path = Path(args.file)
    try:
        plan = exchange.plan_import(study, path.read_bytes(), path.name)
    except TableError as error:
        lines = [str(e) for e in error.errors] or [str(error)]
        raise CommandError(
            f"{path.name} refused, nothing imported:\n  " + "\n  ".join(lines)
        ) from error
    if args.dry_run:
        print(f"{path.name} is valid: would import {plan.summary()} (dry run, nothing saved)")
        return
    with audit.acting_as(audit.Actor(user_id=None, name="command line")):
        summary = exchange.apply_import(study, plan, ConsoleProgress(enabled=not args.quiet))
    print(f"Imported {summary} into {study.slug}")


def cmd_cohort_export(args: argparse.Namespace) -> None:
    from steppingstones.cohort import exchange
    from steppingstones.cohort.models import Woman
    from steppingstones.cohort.tabular import write_csv, write_xlsx
    from steppingstones.core import audit

    _require_migrated()
    study = _study(args.study)
    records = exchange.export_records(study, Woman.objects.filter(participant__study=study))
    target = Path(args.output)
    if target.suffix.lower() == ".csv":
        stem = target.with_suffix("")
        for sheet, columns in exchange.SHEETS.items():
            Path(f"{stem}-{sheet}.csv").write_text(
                write_csv(columns, records[sheet]), encoding="utf-8"
            )
        written = ", ".join(f"{stem}-{sheet}.csv" for sheet in exchange.SHEETS)
    elif target.suffix.lower() == ".xlsx":
        target.write_bytes(write_xlsx({n: (c, records[n]) for n, c in exchange.SHEETS.items()}))
        written = str(target)
    else:
        raise CommandError("the output must end in .xlsx (one workbook) or .csv (one file a sheet)")
    audit.record(
        "export.cohort",
        study=study,
        actor=audit.Actor(None, "command line"),
        changes={"women": len(records["women"])},
    )
    print(f"Exported {len(records['women'])} women to {written}")


def cmd_cohort_due(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from steppingstones.cohort import services
    from steppingstones.cohort.models import Woman

    study = _study(args.study)
    text = args.within.rstrip("d")
    if not text.isdigit():
        raise CommandError(f"--within takes days, e.g. 14d, not {args.within!r}")
    items = services.due_list(
        study, Woman.objects.filter(participant__study=study), timezone.localdate(), int(text)
    )
    print("status,woman,site,wave,opens,target,closes,booked_for")
    for item in items:
        print(
            f"{item.status},{item.pseudonym},{item.site_code},{item.wave},{item.window.opens},"
            f"{item.window.target},{item.window.closes},{item.booked_for or ''}"
        )


def _meta_figure_path(option: str, value: str | None) -> Path | None:
    from steppingstones.evidence.figures import FigureError, figure_format

    if not value:
        return None
    try:
        figure_format(value)
    except FigureError as error:
        raise CommandError(f"{option}: {error}") from error
    return Path(value)


def _meta_moderators(values: list[list[str]] | None) -> list[str]:
    names = [name for group in values or [] for name in group]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CommandError(f"--moderator: column {', '.join(duplicates)} given twice")
    return names


def cmd_evidence_meta(args: argparse.Namespace) -> None:
    import json

    from steppingstones.evidence import meta, pooling
    from steppingstones.evidence.figures import FigureError, write_figure
    from steppingstones.evidence.meta_input import RATIO_MEASURES

    path = Path(args.data)
    forest_path = _meta_figure_path("--forest", args.forest)
    funnel_path = _meta_figure_path("--funnel", args.funnel)
    options = pooling.Options(
        subgroup=args.subgroup or "",
        moderators=tuple(_meta_moderators(args.moderator)),
        leave_one_out=args.leave_one_out,
        egger=args.egger,
        trim_fill=args.trim_fill,
    )
    try:
        table = pooling.read_table(path.read_text(encoding="utf-8-sig"), args.measure, options)
        report, _ = pooling.report_for(
            table, measure=args.measure, method=args.method, hksj=args.hksj, options=options
        )
        if forest_path is not None:
            write_figure(forest_path, pooling.forest(report))
        if funnel_path is not None:
            write_figure(funnel_path, pooling.funnel(report, contours=args.contours))
    except (meta.MetaInputError, meta.MetaConvergenceError, FigureError) as error:
        raise CommandError(f"{path.name}: {error}") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{path.name}: not UTF-8 text ({error})") from error
    except OSError as error:
        raise CommandError(f"{path.name}: {error.strerror or error}") from error
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
        return
    _meta_print(report, args.measure, args.measure in RATIO_MEASURES)


def _meta_number(value: float | None, digits: int = 4) -> str:
    return "not defined" if value is None else f"{value:.{digits}f}"


def _meta_p(value: float | None) -> str:
    return "not defined" if value is None else f"{value:.4g}"


def _meta_print(report: dict[str, Any], measure: str, ratio: bool) -> None:
    """The report as text, one block an analysis."""
    from types import SimpleNamespace

    result = SimpleNamespace(level=95.0, **report)
    scale = " (log scale)" if ratio else ""
    stat = "t" if result.test == "knha" else "z"
    print(f"{result.method} model, k = {result.k}, {measure}{scale}")
    print(
        f"estimate {result.estimate:.4f}  se {result.se:.4f}  "
        f"{result.level:.0f}% CI {result.ci_low:.4f} to {result.ci_high:.4f}  "
        f"{stat} {_meta_number(report['z_or_t'], 3)}  p {_meta_p(report['p'])}"
    )
    if result.k == 1:
        print("a single study: its own estimate, no heterogeneity to assess")
    elif result.method != "EE":
        print(
            f"tau^2 {result.tau2:.4f}  I^2 {result.i2:.2f}%  H^2 {result.h2:.2f}  "
            f"prediction interval {result.pi_low:.4f} to {result.pi_high:.4f}"
        )
    if result.k > 1:
        print(f"Q({result.q_df}) = {result.q:.4f}, p = {_meta_p(result.q_p)}")
    if ratio:
        exp = report["exp"]
        print(f"exp: {exp['estimate']:.4f} [{exp['ci_low']:.4f}, {exp['ci_high']:.4f}]")
    if "subgroups" in report:
        print()
        print(f"Subgroups by {report['subgroup_column']}:")
        width = max(len(name) for name in report["subgroups"])
        for name, sub in report["subgroups"].items():
            line = (
                f"  {name:<{width}}  k = {sub['k']:<3} estimate {sub['estimate']:.4f} "
                f"[{sub['ci_low']:.4f}, {sub['ci_high']:.4f}]"
            )
            if sub["k"] > 1 and result.method != "EE":
                line += f"  tau^2 {sub['tau2']:.4f}  I^2 {sub['i2']:.2f}%"
            print(line)
        test = report["test_of_differences"]
        print(
            f"  Test for subgroup differences: Q({test['df']}) = {test['q']:.4f}, "
            f"p = {_meta_p(test['p'])}"
        )
    if "meta_regression" in report:
        fit = report["meta_regression"]
        print()
        print(f"Meta-regression ({fit['method']}, k = {fit['k']}):")
        width = max(len(name) for name in fit["coefficients"])
        stat = "t" if fit["test"] == "knha" else "z"
        print(f"  {'':<{width}}  estimate       se  {stat:>7}        p  95% CI")
        for name, c in fit["coefficients"].items():
            print(
                f"  {name:<{width}}  {c['estimate']:8.4f} {c['se']:8.4f} "
                f"{_meta_number(c['z_or_t'], 3):>8} {_meta_p(c['p']):>8}  "
                f"{c['ci_low']:.4f} to {c['ci_high']:.4f}"
            )
        r2 = "not defined" if fit["r2"] is None else f"{fit['r2']:.2f}%"
        print(
            f"  residual tau^2 {fit['tau2']:.4f}  I^2 {fit['i2']:.2f}%  R^2 {r2}  "
            f"QM({fit['qm_df']}) = {_meta_number(fit['qm'])}, p = {_meta_p(fit['qm_p'])}  "
            f"QE({fit['qe_df']}) = {fit['qe']:.4f}, p = {_meta_p(fit['qe_p'])}"
        )
    if "leave_one_out" in report:
        print()
        print("Leave one out (each study omitted in turn):")
        width = max(len(str(row["omitted"])) for row in report["leave_one_out"])
        for row in report["leave_one_out"]:
            line = (
                f"  without {row['omitted']:<{width}}  estimate {row['estimate']:.4f} "
                f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]  p {_meta_p(row['p'])}"
            )
            if row["k"] > 1 and result.method != "EE":
                line += f"  tau^2 {row['tau2']:.4f}  I^2 {row['i2']:.2f}%"
            print(line)
    if "egger" in report:
        egger = report["egger"]
        stat = "t" if egger["test"] == "knha" else "z"
        df = f"({egger['df']})" if egger["df"] is not None else ""
        print()
        print(
            f"Egger's regression test for funnel plot asymmetry: {stat}{df} = "
            f"{_meta_number(egger['stat'], 3)}, p = {_meta_p(egger['p'])}; limit estimate "
            f"{egger['limit']:.4f} [{egger['limit_ci_low']:.4f}, {egger['limit_ci_high']:.4f}]"
        )
    if "trim_fill" in report:
        filled = report["trim_fill"]
        adjusted = filled["result"]
        print()
        print(
            f"Trim and fill ({filled['estimator']}): {filled['k0']} stud"
            f"{'y' if filled['k0'] == 1 else 'ies'} imputed on the {filled['side']} side "
            f"(SE {filled['se_k0']:.4f}); adjusted estimate {adjusted['estimate']:.4f} "
            f"[{adjusted['ci_low']:.4f}, {adjusted['ci_high']:.4f}], k = {adjusted['k']}"
        )


def cmd_manage(args: argparse.Namespace) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["steppingstones manage", *args.rest])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steppingstones",
        description="Stepping Stones: evaluating models of perinatal care for women who use drugs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], None], text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    def serve_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--workers", type=int, default=2)

    demo = add(
        "demo", cmd_demo, "Migrate, load the synthetic demo study, print its accounts and serve."
    )
    demo.add_argument("--no-serve", action="store_true", help="load and print, but do not serve")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    serve_options(demo)
    serve_options(
        add("serve", cmd_serve, "Serve the platform with gunicorn and a background worker.")
    )
    worker = add("worker", cmd_worker, "Run background jobs (serve starts one for you).")
    worker.add_argument("--batch", action="store_true", help="run queued jobs, then stop")
    add(
        "migrate",
        cmd_migrate,
        "Create or update the database tables (and the identity key on first run).",
    )
    admin = add(
        "createadmin",
        cmd_createadmin,
        "Create an administrator (password from STEPPINGSTONES_ADMIN_PASSWORD or a prompt).",
    )
    admin.add_argument("--username", default="admin")
    admin.add_argument("--email", default="")
    for name, handler, text in (
        ("backup", cmd_backup, "Write a consistent snapshot of the database and files to PATH."),
        ("restore", cmd_restore, "Restore a backup from PATH into an empty instance."),
    ):
        sub = add(name, handler, text)
        sub.add_argument("path", metavar="PATH")
        sub.add_argument("--quiet", action="store_true", help="no progress bar")
    add("check", cmd_check, "Self-test the configuration: keys, debug, hosts, database.")
    cohort = commands.add_parser("cohort", help="Cohort register: import, export, interviews due.")
    cohort_commands = cohort.add_subparsers(dest="cohort_command", required=True, metavar="ACTION")
    cohort_import = cohort_commands.add_parser("import", help="Import women, infants, interviews.")
    cohort_import.set_defaults(handler=cmd_cohort_import)
    cohort_import.add_argument("file", metavar="FILE", help="CSV or XLSX")
    cohort_import.add_argument("--study", required=True, metavar="SLUG")
    cohort_import.add_argument("--dry-run", action="store_true", help="check only, save nothing")
    cohort_import.add_argument("--quiet", action="store_true", help="no progress bar")
    cohort_export = cohort_commands.add_parser("export", help="Export the pseudonymised cohort.")
    cohort_export.set_defaults(handler=cmd_cohort_export)
    cohort_export.add_argument("--study", required=True, metavar="SLUG")
    cohort_export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help=".xlsx or .csv"
    )
    cohort_due = cohort_commands.add_parser("due", help="Interviews overdue, due or due soon.")
    cohort_due.set_defaults(handler=cmd_cohort_due)
    cohort_due.add_argument("--study", required=True, metavar="SLUG")
    cohort_due.add_argument("--within", default="14d", help="window opening within, e.g. 14d")
    evidence = commands.add_parser(
        "evidence", help="Reviews: parse and import search results, simulate screening, pool."
    )
    evidence_commands = evidence.add_subparsers(
        dest="evidence_command", required=True, metavar="ACTION"
    )
    from steppingstones.evidence.commands import add_commands

    add_commands(evidence_commands, CommandError)
    meta = evidence_commands.add_parser(
        "meta", help="Pool studies from a CSV file (metafor's column names)."
    )
    # A calculation on a file: it needs no database.
    meta.set_defaults(handler=cmd_evidence_meta, needs_database=False)
    meta.add_argument("data", metavar="DATA.csv")
    meta.add_argument(
        "--measure",
        required=True,
        choices=["RR", "OR", "RD", "MD", "SMD", "PR", "PLO", "PAS", "PFT", "ZCOR", "GEN"],
    )
    meta.add_argument(
        "--method", default="REML", choices=["EE", "DL", "REML", "ML", "PM", "HE", "SJ"]
    )
    meta.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman")
    meta.add_argument("--json", action="store_true", help="print the results as JSON")
    meta.add_argument(
        "--forest", metavar="FILE", help="draw a forest plot; .svg, .png or .pdf by the suffix"
    )
    meta.add_argument(
        "--funnel", metavar="FILE", help="draw a funnel plot; .svg, .png or .pdf by the suffix"
    )
    meta.add_argument(
        "--contours", action="store_true", help="contour-enhanced funnel plot (p .10/.05/.01)"
    )
    meta.add_argument(
        "--subgroup", metavar="COLUMN", help="subgroup analysis by this column of the file"
    )
    meta.add_argument(
        "--moderator",
        metavar="COLUMN",
        nargs="+",
        action="append",
        help="meta-regression on these numeric columns (repeatable)",
    )
    meta.add_argument(
        "--leave-one-out", action="store_true", help="refit with each study omitted in turn"
    )
    meta.add_argument("--egger", action="store_true", help="Egger's regression test")
    meta.add_argument("--trim-fill", action="store_true", help="trim and fill (L0 estimator)")
    voices = commands.add_parser(
        "voices", help="Qualitative analysis: REFI-QDA project import and export."
    )
    voices_commands = voices.add_subparsers(dest="voices_command", required=True, metavar="ACTION")
    from steppingstones.voices.commands import add_commands as add_voices_commands

    add_voices_commands(voices_commands, CommandError)
    journeys = commands.add_parser(
        "journeys", help="Pathway analytics on event logs: process maps, variants, milestones."
    )
    journeys_commands = journeys.add_subparsers(
        dest="journeys_command", required=True, metavar="ACTION"
    )
    from steppingstones.journeys.commands import add_commands as add_journeys_commands

    add_journeys_commands(journeys_commands, CommandError)
    manage = add("manage", cmd_manage, "Run a Django management command.")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup_django(connect=getattr(args, "needs_database", True))
        args.handler(args)
    except CommandError as error:
        print(f"steppingstones {args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file or folder named on the command line
        print(f"steppingstones {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
