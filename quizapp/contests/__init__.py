"""Contests and rounds as participants see them."""
