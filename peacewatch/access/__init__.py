"""Access: sign-in, users and their roles, device API tokens, and reading the audit log."""
