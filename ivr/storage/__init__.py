"""Database: models, migrations, the `Store` worker and the functions others call (docs/storage.md)."""
