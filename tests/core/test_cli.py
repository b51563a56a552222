"""The `steppingstones` command, run as a user runs it: in a fresh process on a fresh instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from steppingstones.core.identity import encode_key, generate_key


@dataclass
class Instance:
    data_dir: Path
    env: dict[str, str]

    def run(
        self,
        *args: str,
        check: bool = True,
        extra_env: dict[str, str] | None = None,
        timeout: int = 300,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "steppingstones.cli", *args],
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def dump(self) -> list[dict]:
        out = self.run(
            "manage",
            "dumpdata",
            "core",
            "auth.user",
            "otp_totp",
            "--natural-foreign",
            "--exclude",
            "core.job",
        ).stdout
        return json.loads(out)


def _base_env() -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STEPPINGSTONES_", "DJANGO_", "DATABASE_URL"))
    }
    return keep


@pytest.fixture
def new_instance(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[callable]:
    """Make empty instances on the same kind of database as this test run."""
    made: list[str] = []
    on_postgres = connection.vendor == "postgresql"
    admin_url = os.environ.get("DATABASE_URL", "")

    def make(name: str) -> Instance:
        data_dir = tmp_path / name
        env = {**_base_env(), "STEPPINGSTONES_DATA_DIR": str(data_dir)}
        if on_postgres:
            db_name = f"ss_cli_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(
                admin_url.rsplit("/", 1)[0] + "/postgres", autocommit=True
            ) as conn:
                conn.execute(f'CREATE DATABASE "{db_name}"')
            made.append(db_name)
            env["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + db_name
        return Instance(data_dir, env)

    yield make
    if made:
        with psycopg.connect(admin_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            for db_name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


ACCOUNT_LINES = [
    "study-manager demo-study-manager stones-study-manager-demo",
    "researcher demo-researcher stones-researcher-demo",
    "site-researcher demo-site-researcher stones-site-researcher-demo",
    "peer-researcher demo-peer-researcher stones-peer-researcher-demo",
    "advisory-group-member demo-advisory-group-member stones-advisory-group-member-demo",
    "auditor demo-auditor stones-auditor-demo",
]


def test_help_lists_the_subcommands(new_instance) -> None:
    out = new_instance("a").run("--help").stdout
    for command in ("demo", "serve", "migrate", "createadmin", "backup", "restore", "check"):
        assert command in out


@pytest.fixture
def demo(new_instance) -> Instance:
    instance = new_instance("demo")
    first = instance.run("demo", "--no-serve", "--quiet")
    for line in ACCOUNT_LINES:
        assert line in first.stdout.splitlines()
    return instance


def test_demo_twice_prints_the_accounts_and_duplicates_nothing(demo) -> None:
    before = demo.dump()
    again = demo.run("demo", "--no-serve", "--quiet")
    assert [line for line in again.stdout.splitlines() if line in ACCOUNT_LINES] == ACCOUNT_LINES
    after = demo.dump()

    def count(dump, model):
        return sum(1 for row in dump if row["model"] == model)

    for model in (
        "core.participant",
        "core.identityrecord",
        "core.site",
        "core.membership",
        "auth.user",
    ):
        assert count(after, model) == count(before, model)
    assert count(after, "core.participant") == 136


def test_secrets_are_created_private_and_outside_the_database(demo) -> None:
    for name in ("secret.key", "identity.key"):
        assert (demo.data_dir / name).stat().st_mode & 0o777 == 0o600
    key_text = (demo.data_dir / "identity.key").read_text().strip()
    assert key_text not in json.dumps(demo.dump())
    result = demo.run("check")
    assert "FAIL" not in result.stdout and "identity key: present and matches" in result.stdout


def test_check_fails_on_debug_and_wildcard_hosts(demo) -> None:
    result = demo.run(
        "check",
        check=False,
        extra_env={"STEPPINGSTONES_DEBUG": "1", "STEPPINGSTONES_ALLOWED_HOSTS": "*"},
    )
    assert result.returncode == 1
    assert "FAIL debug off" in result.stdout and "FAIL allowed hosts" in result.stdout


def test_backup_and_restore_reproduce_every_record(demo, new_instance) -> None:
    (demo.data_dir / "files" / "uploads").mkdir(parents=True)
    (demo.data_dir / "files" / "uploads" / "note.txt").write_text("an uploaded file")
    archive = demo.data_dir.parent / "snapshot.tar.gz"
    out = demo.run("backup", str(archive), "--quiet").stdout
    assert "Backed up" in out
    assert archive.stat().st_mode & 0o777 == 0o600, "a backup holds hashes: owner-only"
    assert not list(archive.parent.glob("*.partial"))
    original = [
        row
        for row in demo.dump()
        if not (row["model"] == "core.auditevent" and row["fields"]["action"] == "backup.create")
    ]

    target = new_instance("restored")
    target.data_dir.mkdir(parents=True)
    key = (demo.data_dir / "identity.key").read_text()
    (target.data_dir / "identity.key").write_text(key)
    (target.data_dir / "identity.key").chmod(0o600)
    target.run("migrate")
    target.run("restore", str(archive), "--quiet")
    restored = [
        row
        for row in target.dump()
        if not (row["model"] == "core.auditevent" and row["fields"]["action"] == "backup.restore")
    ]
    assert restored == original
    assert (target.data_dir / "files" / "uploads" / "note.txt").read_text() == "an uploaded file"
    assert "FAIL" not in target.run("check").stdout
    # The restored instance signs the demo users in and opens identities with the same key.
    again = target.run("restore", str(archive), check=False)
    assert again.returncode == 1 and "already holds data" in again.stderr


def _empty_with_key(new_instance, name: str, key: str | None) -> Instance:
    target = new_instance(name)
    target.data_dir.mkdir(parents=True)
    if key is not None:
        (target.data_dir / "identity.key").write_text(key)
    return target


def test_a_corrupt_backup_is_refused_and_changes_nothing(demo, new_instance, tmp_path) -> None:
    archive = tmp_path / "good.tar.gz"
    demo.run("backup", str(archive), "--quiet")
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    members["data.json"] = members["data.json"].replace(b"EL-W01", b"EL-W99", 1)
    corrupt = tmp_path / "corrupt.tar.gz"
    import io

    with tarfile.open(corrupt, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    key = (demo.data_dir / "identity.key").read_text()
    target = _empty_with_key(new_instance, "t1", key)
    result = target.run("restore", str(corrupt), check=False)
    assert result.returncode == 1
    assert "data.json is corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [row for row in target.dump() if row["model"] != "core.auditevent"] == []

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:2000])
    result = target.run("restore", str(truncated), check=False)
    assert result.returncode == 1 and "not a readable backup archive" in result.stderr


def test_restore_refuses_a_key_that_does_not_match(demo, new_instance, tmp_path) -> None:
    archive = tmp_path / "b.tar.gz"
    demo.run("backup", str(archive), "--quiet")
    target = _empty_with_key(new_instance, "t2", encode_key(generate_key()))
    result = target.run("restore", str(archive), check=False)
    assert result.returncode == 1 and "but this backup needs key" in result.stderr
    missing = _empty_with_key(new_instance, "t3", None)
    result = missing.run("restore", str(archive), check=False)
    assert result.returncode == 1 and "put that key in place" in result.stderr


def test_a_missing_or_wrong_identity_key_stops_the_platform_with_one_message(demo) -> None:
    key_file = demo.data_dir / "identity.key"
    original = key_file.read_text()
    key_file.unlink()
    result = demo.run("serve", "--port", "0", check=False)
    assert (
        result.returncode == 1
        and "identity key file" in result.stderr
        and "is missing" in result.stderr
    )
    assert not key_file.exists(), "a lost key is never silently replaced"
    check = demo.run("check", check=False)
    assert check.returncode == 1 and "FAIL identity key" in check.stdout
    key_file.write_text(encode_key(generate_key()))
    result = demo.run("serve", "--port", "0", check=False)
    assert (
        result.returncode == 1 and "is not the key this database was sealed with" in result.stderr
    )
    key_file.write_text(original)
    loose = demo.run("check", check=False)
    assert loose.returncode == 1 and "FAIL identity key file permissions" in loose.stdout
    key_file.chmod(0o600)
    assert demo.run("check").returncode == 0


def test_a_wrong_database_url_gives_one_clear_message(new_instance) -> None:
    instance = new_instance("bad")
    result = instance.run("check", check=False, extra_env={"DATABASE_URL": "nosuchdb://x/y"})
    assert result.returncode == 1 and "DATABASE_URL is not usable" in result.stderr
    result = instance.run(
        "migrate",
        check=False,
        extra_env={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"},
    )
    assert result.returncode == 1 and "cannot connect to the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_createadmin_validates_the_password(new_instance) -> None:
    instance = new_instance("adm")
    instance.run("migrate")
    weak = instance.run(
        "createadmin",
        "--username",
        "root",
        check=False,
        extra_env={"STEPPINGSTONES_ADMIN_PASSWORD": "short"},
    )
    assert weak.returncode == 1 and "password refused" in weak.stderr
    ok = instance.run(
        "createadmin",
        "--username",
        "root",
        extra_env={"STEPPINGSTONES_ADMIN_PASSWORD": "A-Sufficiently-Long-Phrase-5"},
    )
    assert "Administrator root created" in ok.stdout


def test_bad_settings_and_paths_give_one_line_not_a_traceback(demo, tmp_path) -> None:
    result = demo.run("check", check=False, extra_env={"STEPPINGSTONES_LOGIN_ATTEMPTS": "many"})
    assert result.returncode == 1
    assert "STEPPINGSTONES_LOGIN_ATTEMPTS must be a positive whole number" in result.stderr
    result = demo.run("backup", str(tmp_path), check=False)
    assert result.returncode == 1 and "is a directory" in result.stderr
    for result in (
        demo.run("createadmin", "--username", "", check=False),
        demo.run("restore", str(tmp_path / "missing.tar.gz"), check=False),
    ):
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_cohort_commands_export_check_and_refuse_a_bad_cell(demo, tmp_path) -> None:
    exported = tmp_path / "cohort.xlsx"
    out = demo.run("cohort", "export", "--study", "demo", "-o", str(exported)).stdout
    assert "Exported 36 women" in out
    # Into the study it came from, every woman is already there: refused, nothing saved.
    again = demo.run("cohort", "import", str(exported), "--study", "demo", "--dry-run", check=False)
    assert again.returncode == 1 and "women row 2, column pseudonym" in again.stderr
    csv_base = tmp_path / "cohort.csv"
    demo.run("cohort", "export", "--study", "demo", "-o", str(csv_base))
    interviews = (tmp_path / "cohort-interviews.csv").read_text().splitlines()
    assert len(interviews) - 1 > 131  # every wave held, missed, withdrawn or lost
    header = interviews[0].split(",")
    row = interviews[3].split(",")
    row[header.index("date")] = "2024-13-01"
    (tmp_path / "interviews.csv").write_text("\n".join([interviews[0], ",".join(row)]) + "\n")
    bad = demo.run(
        "cohort",
        "import",
        str(tmp_path / "interviews.csv"),
        "--study",
        "demo",
        "--dry-run",
        check=False,
    )
    assert bad.returncode == 1
    assert 'interviews row 2, column date: "2024-13-01" is not a date' in bad.stderr
    due = demo.run("cohort", "due", "--study", "demo", "--within", "14d").stdout
    assert due.splitlines()[0] == "status,woman,site,wave,opens,target,closes,booked_for"
    wrong = demo.run("cohort", "due", "--study", "nope", check=False)
    assert wrong.returncode == 1 and "no study with the slug 'nope'" in wrong.stderr
