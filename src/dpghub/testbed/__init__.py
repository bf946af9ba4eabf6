"""The testbed: sandbox projects, mocks from OpenAPI, synthetic data, contract validation
and a support desk — where developers build and validate a service before production."""
