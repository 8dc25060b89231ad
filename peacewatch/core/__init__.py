"""Shared infrastructure: settings, database, auth, audit, geometry, errors."""
