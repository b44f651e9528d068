"""The three faces: the JSON API (/api/v1), the customer mobile web app (/), the staff console (/staff)."""
