"""Flights, convoys, rotations and strength in theatre; the figures the press office quotes."""
