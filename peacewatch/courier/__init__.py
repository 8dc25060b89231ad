"""A field device's outbox carried to the headquarters as a file, and taken in by the operations centre."""
