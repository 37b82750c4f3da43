"""The stats requests of the load benchmark, as (name, path template, query, weight): read
by benchmarks/locustfile.py to send them and by benchmarks.api to warm the API up first."""

MONITOR_REQUESTS = [
    ("stats 24h", "/api/v1/monitors/{id}/stats", {"window": "24h"}, 4),
    ("stats 7d", "/api/v1/monitors/{id}/stats", {"window": "7d"}, 1),
    ("series 24h (1h)", "/api/v1/monitors/{id}/series", {"window": "24h"}, 2),
    ("status", "/api/v1/monitors/{id}/status", {"limit": "60"}, 2),
    ("regions 24h", "/api/v1/monitors/{id}/regions", {"window": "24h"}, 1),
    ("downtimes 24h", "/api/v1/monitors/{id}/downtimes", {"window": "24h"}, 1),
]
GROUP_REQUEST = ("group stats 24h", "/api/v1/stats", {"window": "24h"}, 1)  # plus tag=
