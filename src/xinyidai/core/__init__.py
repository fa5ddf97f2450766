"""Settings, database, base model, errors, ids, clock, i18n and jobs shared by every domain."""
