"""Civilians returning home through the force's checkpoints: people per day, by route."""
