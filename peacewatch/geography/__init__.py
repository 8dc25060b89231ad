"""Geography: areas of responsibility, the corridor, the line of contact, posts and checkpoints."""
