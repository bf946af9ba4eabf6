"""The lake's fixtures (a provider with real Korean datasets) serve the analysis tests too."""

from tests.support.lake import kr, lake  # noqa: F401
