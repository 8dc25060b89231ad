"""Imports every capability's models so Alembic and ``create_all`` see the whole schema."""

from __future__ import annotations


def load_all_models() -> None:
    import peacewatch.airlift.models
    import peacewatch.alerts.models
    import peacewatch.claims.models
    import peacewatch.core.audit
    import peacewatch.core.auth
    import peacewatch.core.blobs
    import peacewatch.core.changes
    import peacewatch.core.installation
    import peacewatch.core.throttle
    import peacewatch.demining.models
    import peacewatch.duty.models
    import peacewatch.evidence.models
    import peacewatch.force.models
    import peacewatch.geography.models
    import peacewatch.incidents.models
    import peacewatch.mandate.models
    import peacewatch.patrols.models
    import peacewatch.remains.models
    import peacewatch.returns.models
    import peacewatch.tracking.models  # noqa: F401 - imported for its tables
