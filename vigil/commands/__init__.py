"""The top floor: the `vigil` command, `vigil up` and the demo. These import every service;
nothing below imports them (tests/test_layers.py holds the rule)."""
