"""Every page of every demo user, loaded in Debian's chromium as that user would: how long until it is ready.

Run by hand, not in the test suite:
    python benchmarks/bench_pages.py [--url http://127.0.0.1:8000] [--repeat 3] [--pollers 300]

Without ``--url`` it loads the demo into a scratch data directory and serves it on a free loopback port (SQLite).
For each of the nine demo users it signs in at 1366x768, follows every link of the menu (and the pages reached
from them: the reconciliation grid, the missing persons, the situation report) and times each page from
navigation to ready: the load event, and for the live pages (map, remains, airlift) until their data is drawn
(``document.body.dataset.loaded``). It fails if a page answers other than 200, writes to the console an error,
or takes no heading; it prints the median and the slowest of ``repeat`` loads per page in the browser, and the
server's time for the page itself (from the request sent to the answer's first byte, the browser's own
Navigation Timing): the first load apart (SQL compiled, figures drawn for the first time in this process) from
the median of the loads after it (the same page again: what the server keeps is used, and said so).

While the pages are timed, the maps of ``pollers`` other users read the day's plan in the background, each
every 30 s as an open map does (``pollers / 30`` requests a second): the pages are timed under that load.

Then it times the live map's refresh of the day's plan (every open map reads it every 30 s): ``pollers`` signed-in
maps asking at once, as many requests as maps, and prints requests per second; each answer must list the patrols.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import sync_playwright
from scratch import demo_served

USERS = ("ops", "patrol", "humanitarian", "air", "press", "liaison-a", "liaison-b", "admin", "observer")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
LIVE_PAGES = ("/map",)  # drawn from the API after the load event
BUDGET_S = 1.5
SERVER_BUDGET_S = 0.3
# pages reached from the menu's, not in it: timed too
REACHED = {"humanitarian": ["/remains/reconciliation", "/remains/missing"], "admin": ["/remains/reconciliation"],
           "ops": ["/reports?kind=sitrep"]}
SERVER_TIME = "(() => { const n = performance.getEntriesByType('navigation')[0]; return (n.responseStart - n.requestStart) / 1000; })()"


Row = tuple[str, str, float, float, float, float]


def time_pages(url: str, repeat: int) -> list[Row]:
    """(user, path, browser median s, browser slowest s, server first s, server median after s) of every page."""
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for username in USERS:
            context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 768},
                                          bypass_csp=True)  # lets the bench poll for "drawn" as the tests do
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda message, seen=errors: seen.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
            page.goto("/login")
            page.fill("#username", username)
            page.fill("#password", "demo")
            page.click("form.card button[type=submit]")
            page.wait_for_load_state("load")
            if "/login" in page.url:
                raise SystemExit(f"{username} could not sign in")
            links = page.locator("nav[aria-label] a")
            paths = [links.nth(i).get_attribute("href") or "" for i in range(links.count())] + REACHED.get(username, [])
            for path in paths:
                times, server = [], []
                for _ in range(repeat):
                    started = time.perf_counter()
                    answer = page.goto(path, wait_until="load")
                    if answer is None or answer.status != 200:
                        raise SystemExit(f"{username} {path}: HTTP {answer.status if answer else 'none'}")
                    if path in LIVE_PAGES:
                        page.wait_for_function("document.body.dataset.loaded !== undefined", timeout=15_000)
                    times.append(time.perf_counter() - started)
                    server.append(float(page.evaluate(SERVER_TIME)))
                    if page.locator("h1").count() == 0:
                        raise SystemExit(f"{username} {path}: no heading")
                if errors:
                    raise SystemExit(f"{username} {path}: console errors: {errors[:3]}")
                rows.append((username, path, statistics.median(times), max(times), server[0],
                             statistics.median(server[1:]) if len(server) > 1 else server[0]))
            context.close()
        browser.close()
    return rows


async def poll_day_plan(url: str, pollers: int) -> float:
    """Requests per second when ``pollers`` maps read the day's plan at once."""
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=100)) as client:
        token = (await client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        path = "/api/v1/patrols?since=2020-11-13T20:00:00Z&until=2020-11-14T20:00:00Z&limit=1000"
        expected = len((await client.get(path, headers=headers)).json())
        if expected == 0:
            raise SystemExit("the day's plan is empty: nothing to time")
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.get(path, headers=headers) for _ in range(pollers)))
        elapsed = time.perf_counter() - started
    wrong = [a.status_code for a in answers if a.status_code != 200 or len(a.json()) != expected]
    if wrong:
        raise SystemExit(f"{len(wrong)} of {pollers} answers were wrong: {wrong[:5]}")
    return pollers / elapsed


def background_maps(url: str, pollers: int, stop: threading.Event) -> list[float]:
    """The day's plan read by ``pollers`` open maps, each every 30 s, until ``stop``: the load the pages are timed
    under. Each answer is checked to list the patrols; the latencies are returned."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        path = "/api/v1/patrols?since=2020-11-13T20:00:00Z&until=2020-11-14T20:00:00Z&limit=1000"
        expected = len(client.get(path, headers=headers).json())
        every = 30 / max(1, pollers)
        due = time.perf_counter()
        while not stop.is_set():
            due += every
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200 or len(answer.json()) != expected:
                raise SystemExit(f"the day's plan answered {answer.status_code} under load")
            stop.wait(max(0.0, due - time.perf_counter()))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running PeaceWatch with the demo loaded (default: one is started)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pollers", type=int, default=300)
    args = parser.parse_args()
    with _server(args.url) as url:
        stop = threading.Event()
        background: list[list[float]] = []
        poller = threading.Thread(target=lambda: background.append(background_maps(url, args.pollers, stop)), daemon=True)
        poller.start()
        try:
            rows = time_pages(url, args.repeat)
        finally:
            stop.set()
            poller.join()
        rate = asyncio.run(poll_day_plan(url, args.pollers))
    print(f"{'user':<13} {'page':<30} {'browser':>8} {'slowest':>8} {'server 1st':>11} {'server then':>12}")
    for username, path, median, slowest, first, then in rows:
        flag = "  over 1.5 s" if median > BUDGET_S else ""
        flag += "  server over 0.3 s" if then > SERVER_BUDGET_S else ""
        print(f"{username:<13} {path:<30} {median * 1000:>6.0f}ms {slowest * 1000:>6.0f}ms {first * 1000:>9.0f}ms {then * 1000:>10.0f}ms{flag}")
    medians = [r[2] for r in rows]
    firsts, thens = [r[4] for r in rows], [r[5] for r in rows]
    print(f"{len(rows)} pages of {len(USERS)} users in the browser: median {statistics.median(medians) * 1000:.0f} ms, "
          f"slowest median {max(medians) * 1000:.0f} ms; {sum(m > BUDGET_S for m in medians)} over {BUDGET_S} s")
    print(f"on the server: first load median {statistics.median(firsts) * 1000:.0f} ms, slowest {max(firsts) * 1000:.0f} ms; "
          f"loads after it median {statistics.median(thens) * 1000:.0f} ms, slowest {max(thens) * 1000:.0f} ms; "
          f"{sum(t > SERVER_BUDGET_S for t in thens)} over {SERVER_BUDGET_S} s")
    if background and background[0]:
        lat = sorted(background[0])
        print(f"meanwhile {len(lat)} reads of the day's plan by {args.pollers} background maps: "
              f"median {statistics.median(lat) * 1000:.0f} ms, p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.0f} ms")
    print(f"the day's plan read by {args.pollers} maps at once: {rate:.0f} requests/s "
          f"(a map reads it every 30 s: {args.pollers / 30:.0f} requests/s needed)")


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    """The server given with --url, or the demo served for this run."""
    if url is not None:
        yield url
        return
    with demo_served() as served:
        yield served.url


if __name__ == "__main__":
    main()
