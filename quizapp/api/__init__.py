"""The JSON API under /api/v1 (session cookie; writes carry X-CSRFToken)."""
