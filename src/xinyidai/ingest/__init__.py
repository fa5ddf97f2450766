"""Data in: files, API pushes and verification calls; validation, quarantine, dedup, quality."""
