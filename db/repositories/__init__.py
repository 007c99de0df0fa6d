"""Repositories: take a session, query and add; they never commit (the unit of work does)."""
