"""Live tracking: trackers, the position store, geofencing and H3 coverage.

Every source of positions (HTTP batches, Cursor-on-Target, GPX files) becomes the
same :class:`peacewatch.live.ingest.Ingest` on columns of numbers.
"""
