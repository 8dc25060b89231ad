"""PeaceWatch: operations and ceasefire monitoring for a peacekeeping mission."""

__version__ = "0.1.0"
