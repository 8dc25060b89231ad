"""Sign-ins under load: does a burst of password hashing starve the other users, and does guessing stop?

Serves the demo, then times a cheap read (the posts open on a day, anonymous) alone, and again while
``--signers`` clients sign in as fast as they can (right passwords: argon2 each time); then sends
wrong passwords for one account and counts how many are answered before the lockout (429).
Checks what it times: every sign-in answered 200 with a token, every read 200 with the same posts.

    python benchmarks/bench_sign_in.py [--signers 64] [--seconds 10] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp
from bench_load import percentiles, served

READ = "/api/v1/posts?on=2020-11-18"


async def reads(session: aiohttp.ClientSession, url: str, until: float, expected: int | None) -> tuple[list[float], int]:
    """Read latencies until ``until``; the feature count every answer had."""
    latencies, count = [], expected
    while time.monotonic() < until:
        began = time.perf_counter()
        async with session.get(url + READ) as answer:
            body = await answer.json()
        latencies.append(time.perf_counter() - began)
        assert answer.status == 200, answer.status
        assert count is None or len(body["features"]) == count, "a read answered different posts"
        count = len(body["features"])
        await asyncio.sleep(0.05)
    return latencies, count or 0


async def signer(session: aiohttp.ClientSession, url: str, until: float, done: list[int]) -> None:
    while time.monotonic() < until:
        async with session.post(url + "/api/v1/auth/token", data={"username": "press", "password": "demo"}) as answer:
            body = await answer.json()
        assert answer.status == 200 and body["access_token"], (answer.status, body)
        done.append(1)


async def measure(url: str, args: argparse.Namespace) -> bool:
    connector = aiohttp.TCPConnector(limit=args.signers + 8)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        alone, posts = await reads(session, url, time.monotonic() + args.seconds / 2, None)
        signed: list[int] = []
        until = time.monotonic() + args.seconds
        results = await asyncio.gather(reads(session, url, until, posts),
                                       *(signer(session, url, until, signed) for _ in range(args.signers)))
        loaded = results[0][0]
        statuses = []
        for n in range(args.guesses):
            async with session.post(url + "/api/v1/auth/token", data={"username": "observer", "password": f"guess {n}"}) as answer:
                statuses.append(answer.status)
                retry_after = answer.headers.get("Retry-After")
    print(f"cheap read alone ({len(alone)} reads, {posts} posts): {percentiles(alone)}")
    print(f"cheap read with {args.signers} clients signing in: {percentiles(loaded)}; "
          f"{len(signed) / args.seconds:.1f} sign-ins/s, all 200")
    refused = statuses.index(429) if 429 in statuses else None
    print(f"{args.guesses} wrong passwords for one account: {statuses.count(401)} answered 401, "
          f"{statuses.count(429)} answered 429 from guess {refused} on (Retry-After {retry_after} s)")
    return refused is not None and all(s == 401 for s in statuses[:refused]) and all(s == 429 for s in statuses[refused:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--guesses", type=int, default=30)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with served(args) as (url, _database):
        ok = asyncio.run(measure(url, args))
    print("PASS" if ok else "FAIL: the lockout did not hold")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
