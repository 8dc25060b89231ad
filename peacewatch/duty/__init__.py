"""The duty roster and the escalation of alerts: who is told, when, by which channel, and who acknowledged."""
