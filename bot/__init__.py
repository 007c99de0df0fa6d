"""Edges of tocns: channel adapters, update intake, outbox dispatcher, CLI and app assembly."""

__version__ = "0.1.0"
