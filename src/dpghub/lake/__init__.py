"""The data lake: raw zone, versioned Delta tables, ingestion, profiles, row APIs."""
