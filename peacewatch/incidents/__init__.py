"""Ceasefire monitoring: incident reports, their verification, merging into events, figures and exports."""
