"""Privacy: personal-data detection, pseudonymisation, combination, safe zone, export review."""
