"""Operator pages (Bahasa Indonesia): FastAPI routers and Jinja2 templates over the services."""
