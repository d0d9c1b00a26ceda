"""Who may call what: one line per route of the app. `test_auth` checks every route the app has
against this table, so a route added without a line here fails the suite.

Roles: operator, engineer, service, unit (own resources only; paths below use the unit's own id),
admin (always allowed). PUBLIC: no token needed. STREAM: allowed calls never end, so only the
refusals are checked here (test_sse opens them for real).
"""

from __future__ import annotations

PUBLIC = frozenset({"*public*"})
READERS = frozenset({"operator", "engineer", "service"})
OPS = frozenset({"operator"})

# (method, path template) → (allowed roles, is_stream)
RULES: dict[tuple[str, str], tuple[frozenset[str], bool]] = {
    # framework and console shell: no data
    ("GET", "/openapi.json"): (PUBLIC, False),
    ("GET", "/docs"): (PUBLIC, False),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, False),
    ("GET", "/redoc"): (PUBLIC, False),
    ("GET", "/healthz"): (PUBLIC, False),
    ("GET", "/"): (PUBLIC, False),
    ("GET", "/{page}.html"): (PUBLIC, False),
    ("GET", "/static/{rel:path}"): (PUBLIC, False),
    # password login (api/routes/auth.py): getting a token needs none
    ("POST", "/api/auth/token"): (PUBLIC, False),
    ("GET", "/api/auth/me"): (frozenset({"operator", "engineer", "unit", "service"}), False),
    # alerts and incidents
    ("GET", "/api/alerts"): (READERS, False),
    ("GET", "/api/alerts/{alert_id}"): (READERS, False),
    ("GET", "/api/alerts/{alert_id}/snapshot"): (READERS, False),
    ("GET", "/api/alerts/{alert_id}/clip"): (READERS, False),
    ("GET", "/api/incidents"): (READERS, False),
    ("GET", "/api/incidents/{incident_id}"): (READERS, False),
    ("POST", "/api/incidents/{incident_id}/units"): (OPS, False),
    ("POST", "/api/incidents/{incident_id}/stand-down"): (OPS, False),
    # orders
    ("GET", "/api/orders"): (READERS | {"unit"}, False),
    ("POST", "/api/orders/{order_id}/{action}"): (frozenset({"operator", "unit"}), False),
    ("POST", "/api/orders/{order_id}/reassign"): (OPS, False),
    ("GET", "/api/orders/{order_id}/deliveries"): (frozenset({"operator", "engineer"}), False),
    # responders
    ("GET", "/api/responders"): (READERS, False),
    ("POST", "/api/responders/{responder_id}/position"): (frozenset({"operator", "unit", "service"}), False),
    ("POST", "/api/responders/{responder_id}/status"): (frozenset({"operator", "unit"}), False),
    # reports, audit, drills
    ("GET", "/api/reports/response-times"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/reports/breakdown"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/reports/breakdown.csv"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/reports/chart.png"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/reports/coverage"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/coverage/suggestions"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/audit"): (OPS, False),
    ("POST", "/api/drills"): (OPS, False),
    ("GET", "/api/drills/{incident_id}"): (frozenset({"operator", "engineer"}), False),
    # streams
    ("GET", "/api/units/{unit_id}/stream"): (frozenset({"unit", "operator"}), True),
    ("GET", "/api/stream"): (frozenset({"operator", "engineer"}), True),
    # console (api/routes/console*.py)
    ("GET", "/api/console/whoami"): (frozenset({"operator", "engineer", "unit", "service"}), False),
    ("GET", "/api/cameras"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/console/site"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/cameras/{camera_id}/frame.jpg"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/console/responders"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/console/orders/{order_id}/snapshot"): (frozenset({"unit", "operator"}), False),
    ("GET", "/api/fences/schema"): (frozenset({"engineer", "operator"}), False),
    ("GET", "/api/fences"): (frozenset({"engineer", "operator"}), False),
    ("PUT", "/api/fences"): (frozenset({"engineer"}), False),
    ("GET", "/api/fences/history"): (frozenset({"engineer", "operator"}), False),
    ("GET", "/api/console/replay/recordings"): (frozenset({"engineer", "operator"}), False),
    ("POST", "/api/console/replay"): (frozenset({"engineer"}), False),
    ("GET", "/api/console/replay/{job_id}"): (frozenset({"engineer", "operator"}), False),
    ("GET", "/api/console/replay/{job_id}/snapshot/{n}"): (frozenset({"engineer", "operator"}), False),
    ("POST", "/api/console/manual-alerts"): (OPS, False),
    ("GET", "/api/console/camera-health"): (frozenset({"operator", "engineer"}), False),
    ("POST", "/api/console/incidents/{incident_id}/acknowledge"): (OPS, False),
    ("GET", "/api/console/incident-acks"): (frozenset({"operator", "engineer"}), False),
    ("POST", "/api/console/orders/{order_id}/report"): (frozenset({"unit", "operator"}), False),
    ("GET", "/api/console/orders/{order_id}/photos/{name}"): (frozenset({"unit", "operator", "engineer"}), False),
    ("GET", "/api/console/incidents/{incident_id}/reports"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/console/reports/alert-counts"): (frozenset({"operator", "engineer"}), False),
    ("GET", "/api/console/units/{unit_id}/position"): (frozenset({"unit", "operator"}), False),
}

# WebSocket routes (no HTTP method, so not in RULES): path template → allowed roles. test_ws checks
# every WebSocket route of the app has a line and opens each for every role against a live server.
WS_RULES: dict[str, frozenset[str]] = {
    "/api/units/{unit_id}/ws": frozenset({"unit", "operator"}),
}

# Example values for path parameters (the unit token's subject is patrol-1; order ids come from a fixture).
PATH_VALUES = {"responder_id": "patrol-1", "unit_id": "patrol-1", "camera_id": "cam-1", "action": "acknowledge",
               "page": "index", "rel:path": "app.js", "name": "1800000000-000000000000.jpg"}

PATH_VALUES.update({"job_id": "0123456789abcdef", "n": "0"})  # fence-editor replay jobs (none exist: 404)

# Plausible bodies, so allowed callers get past validation where they can.
BODIES = {
    "/api/responders/{responder_id}/position": {"lat": 31.23, "lon": 121.47},
    "/api/responders/{responder_id}/status": {"status": "available"},
    "/api/orders/{order_id}/reassign": {"responder_id": "guard-far"},
    "/api/incidents/{incident_id}/units": {"tier": 3},
    "/api/incidents/{incident_id}/stand-down": {"reason": "authorization matrix"},
    "/api/drills": {"lat": 31.2304, "lon": 121.4737, "severity": "low"},
    "/api/console/replay": {"camera": "cam-1", "rules": []},
}
