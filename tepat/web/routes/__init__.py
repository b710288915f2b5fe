"""Routers of the operator pages, one per concern."""
