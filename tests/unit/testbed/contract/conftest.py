"""Contract validation tests: Hypothesis keeps its caches in a temporary folder, not the
working directory, as the hub does with `use_storage`."""

from __future__ import annotations

import pytest

from dpghub.testbed.contract import use_storage


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_storage(tmp_path_factory: pytest.TempPathFactory) -> None:
    use_storage(tmp_path_factory.mktemp("hypothesis"))
