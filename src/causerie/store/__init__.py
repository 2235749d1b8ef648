"""Storage adapters: SQLAlchemy Core over SQLite or PostgreSQL (docs/architecture.md)."""
