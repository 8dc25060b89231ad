"""Live tracking: trackers, the position store, geofencing and H3 coverage.

Every source of positions (HTTP batches, Cursor-on-Target, GPX files) becomes the
same :func:`peacewatch.tracking.service.record_positions` call on columns of numbers.
"""
