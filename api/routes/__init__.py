"""Thin HTTP routes; logic lives in api.dispatch, api.queries and api.reports."""
