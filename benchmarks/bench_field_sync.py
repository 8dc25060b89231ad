"""A day offline, then the outbox is emptied: reports and their photos sent to the server over loopback.

Run by hand, not in the test suite:
    python benchmarks/bench_field_sync.py [--reports 1000] [--photos 2] [--photo-mb 3] [--devices 1]

It loads the demo into a scratch data directory (SQLite, the embedded default: WAL, synchronous=FULL) and serves
it on a free loopback port, then sends what the field application's outbox holds after a day without a
connection, as it sends it: per device, oldest first, one request at a time, each report then its photos
(multipart, with the SHA-256 the device computed). Every photo is a distinct JPEG of about ``photo-mb`` MB (noise,
so that it does not compress away; its thumbnail is made from the whole image). It prints the time to empty the
outbox and the resident memory of the server and its media workers, sampled every 0.2 s, before and at its peak: the files are streamed to
disk, so the peak must not grow with the bytes sent. It checks its answers: every report stored once (by its
client id), every photo on its report with the hash sent; then it sends a tenth of everything again (answers the
device did not hear) and checks that nothing more was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from scratch import MemoryWatch, demo_served, tree_rss_mb


def noise_jpeg(megabytes: float) -> bytes:
    """A JPEG of noise of about ``megabytes`` MB (a phone's photo does not compress much better)."""
    side = int((megabytes * 2**20 / 0.95) ** 0.5 / 1.2)
    image = Image.frombytes("RGB", (side * 4 // 3, side), random.Random(7).randbytes(side * 4 // 3 * side * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def outbox(reports: int, photos: int, device: int, base: bytes) -> list[dict[str, Any]]:
    """What a device's outbox holds after a day offline: reports, each followed by its photos."""
    start = datetime(2020, 11, 20, 5, 0, tzinfo=UTC)
    items: list[dict[str, Any]] = []
    for n in range(reports):
        at = start + timedelta(seconds=n * 80)
        client_id = f"bench-{device}-{n}"
        items.append({"kind": "incident", "client_id": client_id, "body": {
            "type": "ceasefire_violation", "subtype": "explosion", "started_at": at.isoformat(), "lat": 39.80 + n % 50 / 1000,
            "lon": 46.75 + n % 40 / 1000, "source": "joint_monitoring_centre", "narrative": f"bench report {client_id}",
            "client_id": client_id}})
        for p in range(photos):
            data = base + f"device {device} report {n} photo {p}".encode()  # after the JPEG's end: a distinct file
            items.append({"kind": "photo", "report": client_id, "data": data, "sha256": hashlib.sha256(data).hexdigest(),
                          "name": f"IMG_{n:04d}_{p}.JPG", "captured_at": (at + timedelta(seconds=p)).isoformat()})
    return items


async def empty(client: httpx.AsyncClient, headers: dict[str, str], items: list[dict[str, Any]], ids: dict[str, int]) -> None:
    """Send one device's outbox as the field application does: in order, one at a time."""
    for item in items:
        if item["kind"] == "incident":
            answer = await client.post("/api/v1/incidents", json=item["body"], headers=headers)
            if answer.status_code not in (200, 201):
                raise SystemExit(f"report refused: {answer.status_code} {answer.text[:300]}")
            ids[str(item["client_id"])] = int(answer.json()["id"])
        else:
            form = {"record_kind": "incident", "record_key": str(ids[str(item["report"])]), "sha256": str(item["sha256"]),
                    "captured_at": str(item["captured_at"])}
            answer = await client.post("/api/v1/attachments", data=form, files={"file": (str(item["name"]), item["data"], "image/jpeg")},
                                       headers=headers)
            if answer.status_code not in (200, 201) or answer.json()["sha256"] != item["sha256"]:
                raise SystemExit(f"photo refused: {answer.status_code} {answer.text[:300]}")


async def run(url: str, pid: int, args: argparse.Namespace) -> None:
    base = noise_jpeg(args.photo_mb)
    devices = [outbox(args.reports // args.devices, args.photos, d, base) for d in range(args.devices)]
    photo_count = sum(1 for items in devices for i in items if i["kind"] == "photo")
    sent_mb = sum(len(i["data"]) for items in devices for i in items if i["kind"] == "photo") / 2**20
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        token = (await client.post("/api/v1/auth/token", data={"username": "patrol", "password": "demo"})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        before = tree_rss_mb(pid)
        watch = MemoryWatch(pid, every=0.2)
        watch.start()
        ids: dict[str, int] = {}
        started = time.perf_counter()
        await asyncio.gather(*(empty(client, headers, items, ids) for items in devices))
        elapsed = time.perf_counter() - started
        watch.stop.set()
        watch.join()
        # the answers checked: each report once, each photo on its report with the hash sent
        listed = 0
        for items in devices:
            for item in items:
                if item["kind"] == "incident":
                    files = (await client.get("/api/v1/attachments", params={"record_kind": "incident",
                                                                           "record_key": ids[str(item["client_id"])]},
                                              headers=headers)).json()
                    wanted = {str(i["sha256"]) for i in items if i.get("report") == item["client_id"]}
                    if {f["sha256"] for f in files} != wanted:
                        raise SystemExit(f"report {item['client_id']}: its photos differ from those sent")
                    listed += len(files)
        if len(set(ids.values())) != args.reports or listed != photo_count:
            raise SystemExit(f"stored {len(set(ids.values()))} reports and {listed} photos, sent {args.reports} and {photo_count}")
        # a tenth sent again: answers the device did not hear
        again = [items[: max(1, len(items) // 10)] for items in devices]
        resent_ids: dict[str, int] = {}
        resend_started = time.perf_counter()
        await asyncio.gather(*(empty(client, headers, items, resent_ids) for items in again))
        resend_s = time.perf_counter() - resend_started
        if any(ids[k] != v for k, v in resent_ids.items()):
            raise SystemExit("a resent report was stored again")
    print(f"outbox of {args.reports} reports and {photo_count} photos ({sent_mb:,.0f} MB) from {args.devices} device(s): "
          f"emptied in {elapsed:.1f} s ({(args.reports + photo_count) / elapsed:.1f} items/s, {sent_mb / elapsed:.1f} MB/s)")
    print(f"server memory (with its media workers): {before:.0f} MB before, {watch.peak:.0f} MB at its peak while receiving")
    print(f"a tenth sent again ({sum(len(i) for i in again)} items): {resend_s:.1f} s, nothing stored twice")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=2, help="photos per report")
    parser.add_argument("--photo-mb", type=float, default=3.0)
    parser.add_argument("--devices", type=int, default=1)
    args = parser.parse_args()
    with demo_served() as served:
        asyncio.run(run(served.url, served.process.pid, args))


if __name__ == "__main__":
    main()
