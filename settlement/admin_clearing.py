"""Clearing statements in the admin (filled in by the clearing work)."""
