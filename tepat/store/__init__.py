"""Storage: SQLAlchemy Core tables, the engine, and one query module per aggregate.

Store functions take a ``Connection`` and never commit: the calling service
owns the transaction.
"""
