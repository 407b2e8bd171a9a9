"""Alembic migrations, shipped inside the package so ``omniroute migrate`` works anywhere."""
