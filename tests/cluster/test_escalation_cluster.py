"""The escalation chain over two real server processes on one PostgreSQL: the leader killed mid-chain, the other
process continues it, no step doubled and none skipped, each e-mail sent once (a real SMTP server counts them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.cluster.conftest import Server, admin_headers, token
from tests.conftest import PG_URL
from tests.helpers import wait_for
from tests.mail import Mailbox, smtp_server

pytestmark = pytest.mark.skipif(not PG_URL, reason="several server processes need PostgreSQL (SQLite takes one)")

CHAIN = {"name": "Quick chain", "rank": 1, "kinds": ["emergency"], "max_priority": 1, "steps": [
    {"after_s": 0, "duties": ["duty_officer"], "channels": ["email"]},
    {"after_s": 4, "duties": ["deputy_duty_officer", "chief_of_operations"], "channels": ["email"]},
    {"after_s": 8, "everyone_on_duty": True, "channels": ["email"]}]}


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as box:
        yield box


def test_a_leader_killed_mid_chain_leaves_no_step_doubled_or_skipped(
        start_server: Callable[..., Server], scenario: None, app: Any, mailbox: tuple[Mailbox, int]) -> None:
    box, smtp_port = mailbox
    app.state.engine.dispose()
    mail = {"PEACEWATCH_SMTP_HOST": "127.0.0.1", "PEACEWATCH_SMTP_PORT": str(smtp_port), "PEACEWATCH_NOTIFY_SECONDS": "0.2"}
    first = start_server(**mail)
    second = start_server(cot_port=first.cot_port, **mail)
    admin = admin_headers()
    ops = {"Authorization": f"Bearer {token(first, 'ops')}"}
    users = {u["username"]: u["id"] for u in httpx.get(f"{first.url}/api/v1/users", headers=admin, timeout=30).json()}
    now = datetime.now(UTC)
    for username, duty in (("ops", "duty_officer"), ("observer", "deputy_duty_officer"), ("admin", "chief_of_operations")):
        assert httpx.patch(f"{first.url}/api/v1/users/{users[username]}", json={"email": f"{username}@mission.test"},
                           headers=admin, timeout=30).status_code == 200
        assert httpx.post(f"{second.url}/api/v1/duty/shifts", headers=ops, timeout=30, json={
            "username": username, "duty": duty, "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat()}).status_code == 201
    assert httpx.post(f"{first.url}/api/v1/escalation-policies", json=CHAIN, headers=ops, timeout=30).status_code == 201
    wait_for(lambda: first.details() and second.details(), 10, "both ready")
    leader, follower = (first, second) if first.details()["leader"] else (second, first)  # type: ignore[index]

    patrol = {"Authorization": f"Bearer {token(follower, 'patrol')}"}
    alert = httpx.post(f"{follower.url}/api/v1/emergencies", json={"client_id": "em-cluster-1"}, headers=patrol, timeout=30).json()
    wait_for(lambda: box.to("ops@mission.test"), 10, "the duty officer's e-mail (step 1)")
    leader.kill()  # before step 2 is due: the other process must take it, and step 3
    wait_for(lambda: (follower.details() or {}).get("leader"), 10, "the surviving process to lead")
    wait_for(lambda: len(box.received) >= 6, 30, "steps 2 and 3 taken by the new leader")

    engine = create_engine(follower.env["PEACEWATCH_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        steps = connection.execute(text("SELECT step, round FROM alert_steps WHERE alert_id = :a ORDER BY step, round"),
                                   {"a": alert["id"]}).all()
        sent = connection.execute(text("SELECT recipient, count(*) FROM notices WHERE alert_id = :a AND status = 'sent' "
                                       "GROUP BY recipient ORDER BY recipient"), {"a": alert["id"]}).all()
    engine.dispose()
    assert [tuple(s) for s in steps] == [(0, 0), (1, 0), (2, 0)]  # each step once, none skipped
    assert [tuple(s) for s in sent] == [("admin", 2), ("observer", 2), ("ops", 2)]
    ids = Counter(message["Message-ID"] for message in box.received)
    assert len(box.received) == 6 and all(n == 1 for n in ids.values())  # every e-mail once
    assert Counter(message["To"] for message in box.received) == {"ops@mission.test": 2, "observer@mission.test": 2,
                                                                   "admin@mission.test": 2}
