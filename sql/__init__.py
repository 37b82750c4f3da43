"""Vigil's SQL, shipped as package data: numbered migrations, functions/ and queries/ (docs/sql.md)."""
