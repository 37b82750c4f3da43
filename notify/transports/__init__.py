"""Channel transports: base.py (shared signature and errors), one module per kind, registry.py."""
