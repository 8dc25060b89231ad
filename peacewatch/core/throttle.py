"""Limits on guessing passwords: wrong sign-ins counted per account and per address, in the database.

The counting is ``limits``' fixed-window strategy; its counters live in a table of ours rather than in a
process's memory, so every server process of a cluster shares them (two processes do not double an
attacker's allowance) and a restart does not reset them. A counter is one row, incremented by a single
upsert that the database serialises; windows are timed by the database's clock, not a host's.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, Float, Integer, String, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.db import Base
from peacewatch.core.settings import Settings

log = logging.getLogger(__name__)


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

    scope: str  # "account from address", "address" or "account"
    key: str
    failures: int
    window_s: int


@dataclass(frozen=True)
class LockoutState:
    """A limit used up now: who or where is refused, until when."""

    scope: str
    username: str | None
    address: str | None
    failures: int
    until: float  # seconds since the epoch

    @property
    def key(self) -> str:
        return "/".join(part for part in (self.scope, self.username, self.address) if part is not None)


PAIR, ADDRESS, ACCOUNT = "account from address", "address", "account"
_SCOPE_KEYS = {PAIR: "pair", ADDRESS: "address", ACCOUNT: "account"}


def _part(text: str) -> str:
    """One part of a counter's key, with its slashes escaped: keys are read back part by part."""
    return quote(text, safe="")


class SignInGuard:
    """Wrong passwords counted per (account, address), per address and per account, so that guessing is bounded
    and a lockout cannot be turned against a user:

    - an address over its limit is refused, whatever the account (it is guessing at scale);
    - an account from an address over their limit: that address may not try that account for a while;
    - an account over its account-wide limit (guessed at from many addresses) may be tried only from addresses
      that have not failed on it: the guessing slows to one wrong password per address, and the right password
      from an address that has not been failing is never refused.

    An administrator lifts any of these (:meth:`lift`); lockouts and lifts are audited by the caller.
    """

    def __init__(self, engine: Engine, *, per_account_address: str, per_address: str, per_account: str) -> None:
        self.engine = engine
        self.limiter = FixedWindowRateLimiter(DatabaseCounters(engine))
        self.limits: dict[str, RateLimitItem] = {PAIR: parse(per_account_address), ADDRESS: parse(per_address),
                                                 ACCOUNT: parse(per_account)}

    def _keys(self, username: str, address: str) -> dict[str, tuple[str, ...]]:
        account = _part(username.strip().lower()[:64])
        where = _part(address[:64])
        return {PAIR: (account, where), ADDRESS: (where,), ACCOUNT: (account,)}

    def _wait(self, scope: str, key: tuple[str, ...]) -> int | None:
        item = self.limits[scope]
        if self.limiter.test(item, "sign-in", _SCOPE_KEYS[scope], *key):
            return None
        reset = self.limiter.get_window_stats(item, "sign-in", _SCOPE_KEYS[scope], *key).reset_time
        return min(item.get_expiry(), max(1, math.ceil(reset - time.time())))

    def wait_s(self, username: str, address: str) -> int | None:
        """Seconds until this address may try this account again, or None if it may now."""
        keys = self._keys(username, address)
        waits = [wait for scope in (ADDRESS, PAIR) if (wait := self._wait(scope, keys[scope])) is not None]
        if not waits:
            account_wait = self._wait(ACCOUNT, keys[ACCOUNT])
            if account_wait is not None and self.limiter.get_window_stats(
                    self.limits[PAIR], "sign-in", _SCOPE_KEYS[PAIR], *keys[PAIR]).remaining < self.limits[PAIR].amount:
                waits.append(account_wait)  # the account is being guessed at, and this address has failed on it
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> list[Lockout]:
        """Count a wrong password; the limits this failure used up (each is reported once per window)."""
        used_up = []
        for scope, key in self._keys(username, address).items():
            item = self.limits[scope]
            if self.limiter.hit(item, "sign-in", _SCOPE_KEYS[scope], *key) and \
                    self.limiter.get_window_stats(item, "sign-in", _SCOPE_KEYS[scope], *key).remaining == 0:
                used_up.append(Lockout(scope, "/".join(unquote(part) for part in key), item.amount, item.get_expiry()))
        for lockout in used_up:
            log.warning("sign-in locked out (%s: %s) after %d wrong passwords, for %d s", lockout.scope, lockout.key,
                        lockout.failures, lockout.window_s)
        return used_up

    def _counted(self) -> list[tuple[str, LockoutState]]:
        """Every live sign-in counter: its key, and what it counts."""
        now = _now_sql(self.engine)
        with self.engine.connect() as connection:
            rows = connection.execute(text(f"SELECT key, count, expires_at FROM rate_counters WHERE key LIKE 'LIMITER/sign-in/%' "
                                           f"AND expires_at > {now} ORDER BY expires_at")).all()
        found = []
        by_name = {name: scope for scope, name in _SCOPE_KEYS.items()}
        for key, count, expires_at in rows:
            parts = key.split("/")[2:-3]  # LIMITER/sign-in/<scope>/<parts...>/<amount>/<multiples>/<granularity>
            scope = by_name.get(parts[0]) if parts else None
            if scope is None or len(parts) != (3 if scope == PAIR else 2):
                continue
            values = [unquote(part) for part in parts[1:]]
            username = values[0] if scope in (PAIR, ACCOUNT) else None
            address = values[-1] if scope in (PAIR, ADDRESS) else None
            found.append((key, LockoutState(scope, username, address, int(count), float(expires_at))))
        return found

    def lockouts(self) -> list[LockoutState]:
        """The limits used up now, the soonest to end first: what an administrator may lift."""
        return [state for _, state in self._counted() if state.failures >= self.limits[state.scope].amount]

    def lift(self, username: str | None, address: str | None) -> list[LockoutState]:
        """Forget the wrong passwords counted for ``username`` (from ``address`` only, when given), or from ``address``:
        the limits they used up are lifted at once, on every process. The lockouts lifted."""
        account = username.strip().lower() if username else None
        chosen = [(key, state) for key, state in self._counted()
                  if (account is None or state.username == account) and (address is None or state.address == address)]
        if chosen:
            with self.engine.begin() as connection:
                connection.execute(delete(RateCounter).where(RateCounter.key.in_([key for key, _ in chosen])))
        return [state for _, state in chosen if state.failures >= self.limits[state.scope].amount]


def sign_in_guard(engine: Engine, settings: Settings) -> SignInGuard:
    """The guard with the settings' limits (the server's, and the CLI's when an administrator lifts a lockout)."""
    return SignInGuard(engine, per_account_address=settings.sign_in_limit_account, per_address=settings.sign_in_limit_address,
                       per_account=settings.sign_in_limit_account_wide)
