"""The air-movement cell: flights, convoys, strength and rotation, and the figures the press office quotes."""
