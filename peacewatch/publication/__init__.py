"""What the force publishes: the official deployment map (and, later, the bulletin and sitrep)."""
