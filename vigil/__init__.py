"""Shared parts of Vigil: settings, database pool, named SQL, constants, CLI."""
