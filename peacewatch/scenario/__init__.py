"""Reference scenarios that the demo and the tests load."""
