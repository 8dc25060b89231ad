"""The register of public claims about the mission, checked against the mandate and its arrangements."""
