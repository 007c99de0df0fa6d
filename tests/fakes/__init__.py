"""Stand-ins for external servers (fake at the HTTP boundary, not inside)."""
