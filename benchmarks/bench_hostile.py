"""Hostile uploads while the operations centre reads: does the server stay small and quick?

Run by hand, not in the test suite:
    python benchmarks/bench_hostile.py [--rounds 3] [--photo-mp 12]

It loads the demo into a scratch data directory (SQLite, the embedded default: WAL, synchronous=FULL) and serves
it with 'peacewatch serve' on a free loopback port. Each round sends at once two decompression bombs (PNGs of
225 megapixels, 656 KB each, attached by liaison-b to a missing person it filed, as in issue 34) and four
ordinary phone photos (noise JPEGs of ``photo-mp`` megapixels, about 6 MB each, attached by operations to an
incident), while an operations officer reads without a pause: the posts of a day, the patrols' positions at a
moment, the incident list from an offset, each request different from every other (so no answer is a replay of
a kept one: the run reports how many requests repeated, 0). Rounds alternate with control rounds of the four
photos alone, interleaved, so the bombs' own cost is read side by side.

It samples the resident memory of the server's process tree (the server and its media workers, psutil, every
50 ms) and prints the baseline, the peak and its rise, and the operations reads' latency (p50, p99, max) per kind
of round. It checks its answers: every bomb refused with 422 naming the pixel budget, every photo stored with the
SHA-256 sent, every read 200 with the records expected, and at the end the photos on the incident counted.
Goal (issue 34): peak rise under 300 MB, operations p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from scratch import MemoryWatch, demo_served, tree_rss_mb

from tests.bodies import person as missing_person
from tests.evidence_files import png_bomb


def noise_photo(megapixels: float) -> bytes:
    """A phone-sized JPEG of noise (it does not compress away; its thumbnail reads the whole image)."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    image = Image.frombytes("RGB", (width, height), random.Random(34).randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


class Reader(threading.Thread):
    """The operations officer: one read after another, each request different, until told to stop."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, headers=headers, timeout=30)
        self.stop = threading.Event()
        self.marks: list[tuple[float, float]] = []  # (when it started, seconds it took)
        self.seen: set[str] = set()
        self.repeated = 0
        self.count = 0

    def request(self) -> tuple[str, Callable[[Any], bool]]:
        n = self.count
        self.count += 1
        kind = n % 3
        if kind == 0:  # the posts open on a day (the deployment grew day by day)
            day = datetime(2020, 11, 14) + timedelta(days=n // 3)
            return f"/api/v1/posts?on={day:%Y-%m-%d}", lambda body: body["type"] == "FeatureCollection"
        if kind == 1:  # where the patrols were at a moment of the first day
            at = datetime(2020, 11, 14, 8, 0) + timedelta(seconds=n)
            return (f"/api/v1/positions/latest?at={at:%Y-%m-%dT%H:%M:%S}Z&max_age_minutes=60",
                    lambda body: len(body["features"]) >= 1)
        return f"/api/v1/incidents?limit=20&offset={n // 3}", lambda body: isinstance(body, list)

    def run(self) -> None:
        while not self.stop.is_set():
            path, right = self.request()
            if path in self.seen:
                self.repeated += 1
            self.seen.add(path)
            began = time.perf_counter()
            answer = self.client.get(path)
            took = time.perf_counter() - began
            if answer.status_code != 200 or not right(answer.json()):
                raise SystemExit(f"operations read {path}: {answer.status_code} {answer.text[:200]}")
            self.marks.append((began, took))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="Rounds with the bombs (as many control rounds between)")
    parser.add_argument("--photo-mp", type=float, default=12.0, help="Megapixels of each ordinary photo")
    args = parser.parse_args()

    bomb = png_bomb()
    photo = noise_photo(args.photo_mp)
    print(f"bomb: {len(bomb) / 1e3:.0f} KB PNG of 225 megapixels; photo: {len(photo) / 1e6:.1f} MB JPEG of {args.photo_mp:g} megapixels")
    with demo_served() as server:
        pid = server.process.pid

        def token(username: str) -> dict[str, str]:
            signed = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": username, "password": "demo"}).json()
            return {"Authorization": f"Bearer {signed['access_token']}"}

        ops, liaison = token("ops"), token("liaison-b")
        incident = httpx.post(f"{server.url}/api/v1/incidents", headers=ops, json={
            "type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-20T06:00:00Z", "lat": 39.81,
            "lon": 46.75, "source": "joint_monitoring_centre", "narrative": "bench_hostile"}).json()["id"]
        person = httpx.post(f"{server.url}/api/v1/missing-persons", headers=liaison,
                            json=missing_person(side="B", family_name="Benchmark")).json()
        assert "number" in person, person
        cold = tree_rss_mb(pid)
        photos_sent: list[str] = []

        def upload(headers: dict[str, str], kind: str, key: str, data: bytes, name: str) -> httpx.Response:
            with httpx.Client(base_url=server.url, headers=headers, timeout=300) as client:
                return client.post("/api/v1/attachments", data={"record_kind": kind, "record_key": key,
                                                                "sha256": hashlib.sha256(data).hexdigest()},
                                   files={"file": (name, data, "application/octet-stream")})

        def ordinary(n: int) -> None:
            data = photo + f"round photo {n}".encode()  # after the JPEG's end: a distinct file each time
            answer = upload(ops, "incident", str(incident), data, f"IMG_{n:04d}.JPG")
            if answer.status_code != 201 or answer.json()["sha256"] != hashlib.sha256(data).hexdigest():
                raise SystemExit(f"photo {n}: {answer.status_code} {answer.text[:300]}")
            photos_sent.append(answer.json()["sha256"])

        def hostile(n: int) -> None:
            answer = upload(liaison, "missing_person", person["number"], bomb + f"{n}".encode(), f"IMG_{n:04d}.PNG")
            if answer.status_code != 422 or "megapixels" not in answer.text:
                raise SystemExit(f"bomb {n}: {answer.status_code} {answer.text[:300]}")

        ordinary(0)  # the media workers start with the first file: the warm baseline includes them
        time.sleep(1)
        warm = tree_rss_mb(pid)
        reader = Reader(server.url, ops)
        watch = MemoryWatch(pid)
        watch.start()
        reader.start()
        time.sleep(2)
        windows: dict[str, list[tuple[float, float]]] = {"photos alone": [], "two bombs and the photos": []}
        counter = 1
        for _ in range(args.rounds):
            for label in ("photos alone", "two bombs and the photos"):
                jobs = [threading.Thread(target=ordinary, args=(counter + i,)) for i in range(4)]
                counter += 4
                if label != "photos alone":
                    jobs += [threading.Thread(target=hostile, args=(counter + i,)) for i in range(2)]
                    counter += 2
                began = time.perf_counter()
                for job in jobs:
                    job.start()
                for job in jobs:
                    job.join()
                windows[label].append((began, time.perf_counter()))
                time.sleep(1)
        reader.stop.set()
        reader.join()
        watch.stop.set()
        watch.join()
        stored = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": incident},
                           headers=ops).json()
        assert sorted(a["sha256"] for a in stored) == sorted(photos_sent), "the photos on the incident are not those sent"
        kept = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "missing_person", "record_key": person["number"]},
                         headers=liaison).json()
        assert kept == [], "a bomb was stored"

    print(f"server process tree (server and media workers), resident: cold {cold:.0f} MB, warm (workers started) {warm:.0f} MB, "
          f"peak {watch.peak:.0f} MB: rise {watch.peak - warm:.0f} MB over warm, {watch.peak - cold:.0f} MB over cold (goal < 300)")
    print(f"{len(photos_sent)} photos stored (SHA-256 checked), {args.rounds * 2} bombs refused (422); "
          f"{reader.count:,} operations reads, {reader.repeated} repeated (no answer replayed from the kept ones)")
    for label, spans in windows.items():
        during = [took for began, took in reader.marks if any(start <= began <= end for start, end in spans)]
        print(f"  operations reads during '{label}': {len(during)} reads, p50 {1000 * statistics.median(during):.0f} ms, "
              f"p99 {1000 * percentile(during, 0.99):.0f} ms, max {1000 * max(during):.0f} ms (goal p99 < 500)")
    quiet = [took for began, took in reader.marks if not any(s <= began <= e for spans in windows.values() for s, e in spans)]
    if quiet:
        print(f"  operations reads between rounds: {len(quiet)} reads, p50 {1000 * statistics.median(quiet):.0f} ms, "
              f"p99 {1000 * percentile(quiet, 0.99):.0f} ms")


if __name__ == "__main__":
    main()
