"""Reports for HR and organizers: participation lists by unit, and their exports."""
