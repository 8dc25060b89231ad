"""Imports every capability's models so Alembic and ``create_all`` see the whole schema."""

from __future__ import annotations


def load_all_models() -> None:
    import peacewatch.airlift.models  # noqa: F401
    import peacewatch.alerts.models  # noqa: F401
    import peacewatch.claims.models  # noqa: F401
    import peacewatch.core.audit  # noqa: F401
    import peacewatch.core.auth  # noqa: F401
    import peacewatch.core.changes  # noqa: F401
    import peacewatch.core.throttle  # noqa: F401
    import peacewatch.demining.models  # noqa: F401
    import peacewatch.force.models  # noqa: F401
    import peacewatch.geography.models  # noqa: F401
    import peacewatch.incidents.models  # noqa: F401
    import peacewatch.mandate.models  # noqa: F401
    import peacewatch.patrols.models  # noqa: F401
    import peacewatch.remains.models  # noqa: F401
    import peacewatch.returns.models  # noqa: F401
    import peacewatch.tracking.models  # noqa: F401
