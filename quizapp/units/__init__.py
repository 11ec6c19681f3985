"""Units (the organisation tree) and staff rosters."""
