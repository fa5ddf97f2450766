"""Grading and classification of the catalogue, and desensitization of what a view shows."""
