"""The lake's fixtures (a provider with real Korean datasets) serve the analysis tests too."""

from tests.integration.lake.conftest import kr, lake  # noqa: F401
