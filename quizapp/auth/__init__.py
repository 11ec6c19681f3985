"""Logging in and out, and self-registration."""
