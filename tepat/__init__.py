"""tepat: a social welfare registry and targeted-aid system for an Indonesian city's Dinas Sosial."""

__version__ = "0.1.0"
