"""What a notice says, in the person's language: the GeoChat line and the e-mail of a call for help."""

from __future__ import annotations

from datetime import UTC, datetime

from peacewatch.core.settings import Settings
from peacewatch.duty.channels import Outgoing, alert_email, tak_text

RAISED = datetime(2020, 11, 14, 8, 0, 5, tzinfo=UTC)


def call(language: str, kind: str = "emergency") -> Outgoing:
    return Outgoing(notice_id=7, alert_id=12, recipient="ops", channel="tak", address="ops", attempts=1, language=language,
                    kind=kind, priority=1, message="EMERGENCY from MP-07: 911 Alert", raised_at=RAISED, lat=39.841, lon=46.7712,
                    details={"callsign": "MP-07", "label": "911 Alert", "emergency_type": "911"})


def test_the_geochat_line_says_what_who_where_and_how_to_acknowledge_in_english_and_russian() -> None:
    english = tak_text(call("en"))
    assert english.startswith("EMERGENCY alert 12: Emergency from MP-07: 911 Alert · 39.84100, 46.77120 (MGRS 38S")
    assert english.endswith("Reply ACK 12 to acknowledge.")
    russian = tak_text(call("ru"))
    assert russian.startswith("БЕДСТВИЕ: оповещение 12: Экстренный вызов от MP-07: Сигнал 911")
    assert russian.endswith("Ответьте ACK 12, чтобы подтвердить.")
    assert tak_text(call("ru", "casevac")).startswith("БЕДСТВИЕ: оповещение 12: Запрос эвакуации раненых от MP-07")


def test_the_email_carries_the_link_and_the_same_message_id_at_every_attempt() -> None:
    settings = Settings(public_url="https://pw.mission.test", secret_key="k" * 40)
    first = alert_email(settings, call("ru"), "https://pw.mission.test/alerts/acknowledge/T", "https://pw.mission.test/alerts/12")
    again = alert_email(settings, call("ru"), "https://pw.mission.test/alerts/acknowledge/T", "https://pw.mission.test/alerts/12")
    assert first["Message-ID"] == again["Message-ID"] == "<notice-7.alert-12@pw.mission.test>"
    body = first.get_content()
    assert "Подтвердить (эскалация прекратится): https://pw.mission.test/alerts/acknowledge/T" in body
    assert "2020-11-14 12:00:05" in body  # mission time (Baku, UTC+4)
