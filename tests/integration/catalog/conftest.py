from tests.support.lake import kr, lake  # noqa: F401
