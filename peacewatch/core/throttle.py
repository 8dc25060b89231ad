"""Limits on guessing passwords: wrong sign-ins counted per account and per address, in the database.

The counting is ``limits``' fixed-window strategy; its counters live in a table of ours rather than in a
process's memory, so every server process of a cluster shares them (two processes do not double an
attacker's allowance) and a restart does not reset them. A counter is one row, incremented by a single
upsert that the database serialises; windows are timed by the database's clock, not a host's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, Float, Integer, String, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.db import Base


class RateCounter(Base):
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch, by the database's clock


def _now_sql(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "extract(epoch from clock_timestamp())"
    return "((julianday('now') - 2440587.5) * 86400.0)"


class DatabaseCounters(Storage):
    """``limits``' storage interface on the ``rate_counters`` table."""

    STORAGE_SCHEME = ["peacewatch-database"]

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        now = _now_sql(engine)
        self._incr = text(
            f"INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, :amount, {now} + :expiry) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"count = CASE WHEN rate_counters.expires_at <= {now} THEN excluded.count ELSE rate_counters.count + excluded.count END, "
            f"expires_at = CASE WHEN rate_counters.expires_at <= {now} THEN excluded.expires_at ELSE rate_counters.expires_at END "
            "RETURNING count")
        self._live = text(f"SELECT count, expires_at FROM rate_counters WHERE key = :key AND expires_at > {now}")

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self.engine.begin() as connection:  # a transaction of its own: a failure counts even if the request fails
            return int(connection.execute(self._incr, {"key": key, "amount": amount, "expiry": expiry}).scalar_one())

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            row = connection.execute(self._live, {"key": key}).first()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            row = connection.execute(self._live, {"key": key}).first()
        return float(row[1]) if row else time.time()

    def check(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(select(1))
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(RateCounter)).rowcount)

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(RateCounter).where(RateCounter.key == key))


@dataclass
class Lockout:
    """A limit a failed sign-in just used up: audited once per window."""

    scope: str  # "account" or "address"
    key: str
    failures: int
    window_s: int


class SignInGuard:
    """How many wrong passwords an account, and an address, may send in a window before sign-in answers 429."""

    def __init__(self, engine: Engine, *, per_account: str, per_address: str) -> None:
        self.limiter = FixedWindowRateLimiter(DatabaseCounters(engine))
        self.limits: dict[str, RateLimitItem] = {"account": parse(per_account), "address": parse(per_address)}

    def _keys(self, username: str, address: str) -> dict[str, str]:
        return {"account": username.strip().lower()[:64], "address": address[:64]}

    def wait_s(self, username: str, address: str) -> int | None:
        """Seconds until the account or the address may try again, or None if both may now."""
        waits = []
        for scope, key in self._keys(username, address).items():
            item = self.limits[scope]
            if not self.limiter.test(item, "sign-in", scope, key):
                reset = self.limiter.get_window_stats(item, "sign-in", scope, key).reset_time
                waits.append(min(item.get_expiry(), max(1, math.ceil(reset - time.time()))))
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> list[Lockout]:
        """Count a wrong password; the limits this failure used up (each is reported once per window)."""
        used_up = []
        for scope, key in self._keys(username, address).items():
            item = self.limits[scope]
            if self.limiter.hit(item, "sign-in", scope, key) and self.limiter.get_window_stats(item, "sign-in", scope, key).remaining == 0:
                used_up.append(Lockout(scope, key, item.amount, item.get_expiry()))
        return used_up
