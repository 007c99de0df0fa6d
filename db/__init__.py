"""Persistence: SQLAlchemy 2 models, repositories, the engine factory and Alembic migrations."""
