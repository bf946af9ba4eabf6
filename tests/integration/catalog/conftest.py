from tests.integration.lake.conftest import kr, lake  # noqa: F401
