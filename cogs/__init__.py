"""Thin Discord glue, one module per feature."""
