"""The JSON API (OpenAPI) over the same services and area rules as the pages."""
