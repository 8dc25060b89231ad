"""Demining: areas, roads and buildings cleared of explosive remnants, by the force's engineers."""
