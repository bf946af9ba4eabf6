"""The lake's fixtures (a provider with real Korean datasets), from tests/support/lake.py."""

from tests.support.lake import kr, lake  # noqa: F401
