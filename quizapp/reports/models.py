"""Reports keep no tables of their own: they read attempts, users and units, and audit exports."""
