"""The force: units, their types, their chain of command and their strength."""
