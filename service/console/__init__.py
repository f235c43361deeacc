"""Web pages served by the service for staff (the projector check-in page)."""
