"""The official map's content: public records only, as they stood on one date."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from peacewatch.core.visibility import Scope, Visibility
from peacewatch.geography.features import post_feature, zone_feature
from peacewatch.geography.models import PostStatus, ZoneKind
from peacewatch.geography.service import list_posts, list_zones

PUBLIC = frozenset({Visibility.public})
ZONE_LAYERS = (ZoneKind.area_of_responsibility, ZoneKind.corridor, ZoneKind.line_of_contact)
# what the public may read of each record: the rest (notes, overrides, audit times) stays inside
ZONE_FIELDS = ("kind", "code", "name", "name_ru", "valid_from", "valid_to", "width_m", "area_km2", "length_km")
POST_FIELDS = ("kind", "code", "name", "name_ru", "zone_code", "opened_on", "status", "lat", "lon", "mgrs")


def official_features(session: Session, on: date, readable: Scope = PUBLIC) -> list[dict[str, Any]]:
    """Areas, corridor and line of contact in force on ``on``, then the posts open that day (public ones by default)."""
    features = []
    for kind in ZONE_LAYERS:
        for zone in list_zones(session, readable, kind=kind, on=on, limit=2**31):
            feature = zone_feature(zone)
            feature["properties"] = {k: feature["properties"][k] for k in ZONE_FIELDS}
            features.append(feature)
    for post in list_posts(session, readable, on=on, limit=2**31):
        if post.status_on(on) != PostStatus.open:
            continue
        feature = post_feature(post, on)
        feature["properties"] = {k: feature["properties"][k] for k in POST_FIELDS}
        features.append(feature)
    return features
