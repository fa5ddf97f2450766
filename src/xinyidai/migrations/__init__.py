"""Alembic migrations of the XYD schema, run by ``xyd db upgrade``."""
