"""Patrols: plans with a route and a window, their life (planned, under way, completed, aborted),
check-ins from the field, and recurring plans that generate them."""
