"""A patrol's day in the field application, offline, across a browser restart, then its outbox emptied.

Run by hand, not in the test suite:
    python benchmarks/bench_field_day.py [--reports 200] [--photos 2] [--photo-mb 1.2]

It loads the demo into a scratch data directory (SQLite, the embedded default: WAL, synchronous=FULL), serves it
on loopback behind a relay the benchmark cuts (the phone's link: unreachable for the page and its service
worker alike), and drives Debian's chromium as a 412×915 phone in Baku's time zone through /field/ as a patrol
commander uses it: signed in and opened once online, then with no link the patrol started and ``reports`` reports
made through the form, each with ``photos`` distinct JPEGs of about ``photo-mb`` MB (noise, which does not
compress away; over 1.5 MB the page also keeps a smaller copy to send first). Every item is sealed on the device
(WebCrypto). The browser is closed and opened again offline, the outbox counted, then the link restored: it
prints how long the day took to keep, how long the outbox took to empty with no action of the user, how many
items were refused (the goal is none), and the resident memory of the server and its media workers, sampled every
0.2 s, before and at its peak. It checks its answers: every report stored once, in the order made, each with the
hashes of its photos as the device computed them, the patrol under way, and an outbox with nothing waiting.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, sync_playwright
from scratch import MemoryWatch, demo_served, tree_rss_mb

from tests.browser.conftest import api_token, wait_until
from tests.browser.test_field import today_patrol
from tests.browser.test_field_days import come_back, go_offline, link_to, phone, report, signed_in_phone, stored, tab_of

PREFIX = "Bench day"


def noise_jpeg(megabytes: float, seed: int) -> bytes:
    """A JPEG of noise of about ``megabytes`` MB (a phone's photo does not compress much better), its pixels its own:
    the smaller copy the page makes of it is its own too."""
    side = int((megabytes * 2**20 / 0.95) ** 0.5 / 1.2)
    image = Image.frombytes("RGB", (side * 4 // 3, side), random.Random(seed).randbytes(side * 4 // 3 * side * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def count(page: Page, state: str) -> int:
    return int(page.evaluate(f"window.peacewatch.outbox.all().then((a) => a.filter((i) => i.state === '{state}').length)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--photos", type=int, default=2, help="photos per report")
    parser.add_argument("--photo-mb", type=float, default=1.2)
    args = parser.parse_args()
    photos = [[noise_jpeg(args.photo_mb, n * args.photos + p) for p in range(args.photos)] for n in range(args.reports)]
    with demo_served() as server, link_to(server) as link, tempfile.TemporaryDirectory() as profile_dir, \
            sync_playwright() as driver:
        patrol = today_patrol(server)
        profile = Path(profile_dir)
        context, page = signed_in_phone(driver, profile, link)
        go_offline(context, link)
        row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
        began = time.perf_counter()
        row.locator("button[data-action=start]").click()
        for n in range(args.reports):
            report(page, f"{PREFIX}: report {n:04d}", int(patrol["id"]), photos[n])
            page.wait_for_function(f"document.querySelectorAll('#outbox li').length >= {2 + n * (1 + args.photos)}", timeout=120_000)
        wait_until(page, "window.peacewatch.outbox.all().then((a) => a.filter((i) => i.kind === 'file' && !i.copy_of).length"
                   f" >= {args.reports * args.photos})", timeout_s=300)
        kept_s = time.perf_counter() - began
        kept = count(page, "waiting")
        context.close()  # closed offline, and opened again later in the day

        context = phone(driver, profile, link, offline=True)
        page = tab_of(context)
        page.goto("/field/")
        page.wait_for_function("document.body.dataset.fieldReady === 'true'")
        after_restart = count(page, "waiting")
        if after_restart != kept or stored(server, PREFIX):
            raise SystemExit(f"after the restart {after_restart} items wait, {kept} were kept")

        before = tree_rss_mb(server.process.pid)
        watch = MemoryWatch(server.process.pid, every=0.2)
        watch.start()
        started = time.perf_counter()
        come_back(context, link)
        page.wait_for_function("document.body.dataset.outboxWaiting === '0'", timeout=3_600_000, polling=250)
        emptied_s = time.perf_counter() - started
        watch.stop.set()
        watch.join()
        refused = count(page, "refused")
        context.close()

        # the answers checked: each report once, in order, with its photos' hashes; the patrol under way
        reports = stored(server, PREFIX)
        if [r["narrative"] for r in reports] != [f"{PREFIX}: report {n:04d}" for n in range(args.reports)]:
            raise SystemExit(f"stored {len(reports)} reports of {args.reports}, or out of order")
        ops = api_token(server, "ops")
        with httpx.Client(base_url=server.url, headers=ops, timeout=60) as client:
            for n, stored_report in enumerate(reports):
                files = client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": stored_report["id"]}).json()
                if sorted(f["sha256"] for f in files) != sorted(hashlib.sha256(p).hexdigest() for p in photos[n]):
                    raise SystemExit(f"report {n}: its photos differ from those kept: {[(f['filename'], f['copy_of_sha256']) for f in files]}")
            if client.get(f"/api/v1/patrols/{patrol['id']}").json()["status"] != "under_way":
                raise SystemExit("the patrol's start was not stored")
    files = args.reports * args.photos
    sent_mb = sum(len(p) for ps in photos for p in ps) / 2**20
    print(f"a day kept offline: 1 patrol start, {args.reports} reports, {files} photos ({sent_mb:,.0f} MB) as {kept} items "
          f"in {kept_s:.1f} s through the form ({args.reports / kept_s:.1f} reports/s, sealed on the device)")
    print(f"after a browser restart offline: {after_restart} items waiting, nothing on the server")
    print(f"link restored: outbox emptied in {emptied_s:.1f} s with no action of the user ({kept / emptied_s:.1f} items/s, "
          f"{sent_mb / emptied_s:.1f} MB/s); refused: {refused}")
    print(f"server memory (with its media workers): {before:.0f} MB before, {watch.peak:.0f} MB at its peak while receiving")


if __name__ == "__main__":
    main()
