"""Question banks: models, formats, import."""
