"""The registry of digital resources: services (APIs) with their OpenAPI documents."""
