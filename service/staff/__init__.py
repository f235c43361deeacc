"""Staff accounts (supervisors, province staff, organizers) created by an admin."""
