"""Evidence: photos, videos and documents attached to records, kept by their SHA-256 and shown unaltered."""
