"""Alerts: rules evaluated as positions arrive (and by a sweeper for silence), one alert per
episode, acknowledged and closed by the operations centre, pushed live over server-sent events."""
