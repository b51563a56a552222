"""The coding page with a 100,000-word transcript: server render, saving a coding, and the
browser's time to interactive and to apply a code.

Sets up a throw-away instance (SQLite, or PostgreSQL with DATABASE_URL) holding one synthetic
100,000-word interview transcript with a few thousand overlapping codings over 40 codes, then:

* server: renders the coding page through Django's test client (median of --runs) and saves a
  coding through the JSON endpoint (median of --saves);
* peer: the same text rendered the naive way, one ``<span>`` per coding segment (the text cut at
  every coding boundary, each piece carrying the codes that cover it), as tools without the CSS
  Custom Highlight API render; its server time and page size are printed beside ours;
* browser (unless --no-browser): serves the instance with the real command, opens the page in
  Debian's chromium with Playwright and times navigation to the page being interactive (the
  script has painted every coding) and a select-and-apply to the response being painted.

    python bench/coding_page.py [--words 100000] [--codings 3000] [--runs 7] [--no-browser]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PHRASES = (
    "the midwife said I could come back any time and she listened to me about the baby",
    "my key worker rang the social worker before the meeting and nobody told me",
    "methadone script pharmacy clinic appointment scan housing worry trust",
    "partner mum nana support group felt safe honest kind rushed scared judged",
)
WORDS = [word for phrase in PHRASES for word in phrase.split(" ")]


def transcript(words: int, rng: random.Random) -> str:
    lines, count, turn = [], 0, 0
    while count < words:
        size = rng.randint(15, 90)
        speaker = "Interviewer" if turn % 2 == 0 else "EL-W07"
        body = " ".join(rng.choice(WORDS) for _ in range(size))
        lines.append(f"{speaker}: {body.capitalize()}.")
        count += size + 1
        turn += 1
    return "\n".join(lines)


def naive_html(text: str, codings: list[tuple[int, int, int]]) -> str:
    """The peer: one span per segment between coding boundaries (what a DOM-per-segment
    renderer produces), each with the ids of the codes covering it."""
    cuts = sorted({0, len(text), *(s for s, _, _ in codings), *(e for _, e, _ in codings)})
    starts: dict[int, list[tuple[int, int]]] = {}
    for start, end, code in codings:
        starts.setdefault(start, []).append((end, code))
    active: list[tuple[int, int]] = []
    out = []
    for left, right in itertools.pairwise(cuts):
        active = [(e, c) for e, c in active if e > left] + starts.get(left, [])
        piece = html.escape(text[left:right]).replace("\n", "<br>")
        if active:
            ids = " ".join(str(c) for _, c in active)
            out.append(f'<span class="seg" data-codes="{ids}" data-o="{left}">{piece}</span>')
        else:
            out.append(piece)
    return '<div class="coding-text">' + "".join(out) + "</div>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--codings", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="coding-page-")
    os.environ["STEPPINGSTONES_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steppingstones.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from steppingstones.core.models import Membership, Site, Study
    from steppingstones.voices.models import Code, Coding, Source
    from steppingstones.voices.views_coding import paragraphs_html

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(7)
    study = Study.objects.create(slug="bench", name="Coding page benchmark", is_synthetic=True)
    site = Site.objects.create(study=study, code="EL", name="Site EL", nation="england")
    password = "bench-password-not-secret-42"
    user = get_user_model().objects.create_user("bench-researcher", password=password)
    Membership.objects.create(user=user, study=study, role="researcher")
    text = transcript(args.words, rng)
    source = Source.objects.create(
        study=study, site=site, name="EL-W07 wave 1", kind="interview", status="ready", text=text
    )
    codes = [
        Code.objects.create(
            study=study, name=f"Code {i:02d}", colour=f"#{rng.randrange(1 << 24):06x}"
        )
        for i in range(40)
    ]
    rows = []
    for _ in range(args.codings):
        start = rng.randrange(0, len(text) - 400)
        rows.append(
            Coding(
                source=source,
                code=rng.choice(codes),
                coder=user,
                coder_name=user.username,
                start=start,
                end=start + rng.randint(20, 400),
            )
        )
    Coding.objects.bulk_create(rows, batch_size=1000)
    print(
        f"transcript: {len(text.split()):,} words, {len(text):,} characters, "
        f"{text.count(chr(10)) + 1:,} lines; {args.codings:,} codings over {len(codes)} codes"
    )

    client = Client()
    client.force_login(user)
    page_url = reverse("voices_code_source", args=[study.slug, source.pk])
    add_url = reverse("voices_codings_add", args=[study.slug, source.pk])
    client.get(page_url)  # warm up templates and caches
    renders, size = [], 0
    for _ in range(args.runs):
        began = time.perf_counter()
        response = client.get(page_url)
        renders.append(time.perf_counter() - began)
        size = len(response.content)
        assert response.status_code == 200
    saves = []
    for i in range(args.saves):
        start = rng.randrange(0, len(text) - 200)
        body = json.dumps({"codes": [codes[i % len(codes)].pk], "start": start, "end": start + 120})
        began = time.perf_counter()
        response = client.post(add_url, body, content_type="application/json")
        saves.append(time.perf_counter() - began)
        assert response.status_code == 201, response.content
    triples = [(c.start, c.end, c.code_id) for c in Coding.objects.filter(source=source)]
    ours_text, naive = [], []
    naive_size = 0
    for _ in range(args.runs):
        began = time.perf_counter()
        paragraphs_html(text)
        ours_text.append(time.perf_counter() - began)
        began = time.perf_counter()
        naive_size = len(naive_html(text, triples))
        naive.append(time.perf_counter() - began)
    render = statistics.median(renders)
    print(
        f"server: coding page rendered in {render * 1000:.0f} ms "
        f"(median of {args.runs}), {size / 1e6:.2f} MB"
    )
    print(
        f"server: saving a coding took {statistics.median(saves) * 1000:.1f} ms "
        f"(median of {args.saves})"
    )
    ours_body, naive_body = statistics.median(ours_text), statistics.median(naive)
    print(
        f"text body: ours (one <p> per line, codings as JSON) {ours_body * 1000:.1f} ms; "
        f"peer (one <span> per coding segment) {naive_body * 1000:.1f} ms, "
        f"{naive_size / 1e6:.2f} MB; "
        f"ratio peer/ours {naive_body / ours_body:.1f}x"
    )
    if args.no_browser:
        return
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("browser: skipped (Debian's chromium is not installed)")
        return
    browser_figures(folder, study.slug, source.pk, user.username, password, chromium, args.runs)


def browser_figures(
    folder: str, slug: str, source_id: int, username: str, password: str, chromium: str, runs: int
) -> None:
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_",))}
    env["STEPPINGSTONES_DATA_DIR"] = folder
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "steppingstones.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=base)
            page.goto("/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            url = f"/s/{slug}/voices/sources/{source_id}/code/"
            interactive, applies = [], []
            for run in range(runs):
                began = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#coding[data-ready=true]", state="attached")
                interactive.append(time.perf_counter() - began)
                count = page.inner_text("#coding-count")
                page.evaluate(
                    """(n) => { const p = document.querySelectorAll('#coding-text p')[n];
                    const r = document.createRange(); r.setStart(p.firstChild, 10);
                    r.setEnd(p.firstChild, 60); const s = getSelection();
                    s.removeAllRanges(); s.addRange(r); }""",
                    40 + 7 * run,
                )
                page.locator("#selection-status", has_text="Selected").wait_for()
                page.locator('.apply-code[data-key="1"]').evaluate("b => b.scrollIntoView()")
                began = time.perf_counter()
                page.click('.apply-code[data-key="1"]')
                page.locator("#coding-count").filter(has_not_text=count).wait_for()
                applies.append(time.perf_counter() - began)
            browser.close()
        print(
            f"browser: navigation to interactive {statistics.median(interactive) * 1000:.0f} ms; "
            f"select-and-apply to painted {statistics.median(applies) * 1000:.0f} ms "
            f"(medians of {runs}, chromium via Playwright)"
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
