"""Shared fixtures. Tests that need ../shared skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from keyframeface.shared_data import shared_dir

# Property tests are derandomized by default so a CI run is reproducible (a failure found once is found every
# time); set KEYFRAMEFACE_HYPOTHESIS=explore locally to search with fresh random examples.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("explore" if os.environ.get("KEYFRAMEFACE_HYPOTHESIS") == "explore" else "repeatable")


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if path is None:
        pytest.skip("shared data folder not found (set KEYFRAMEFACE_SHARED or place ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def release_dir(shared: Path) -> Path:
    path = shared / "reference" / "keyframeface-release"
    if not path.is_dir():
        pytest.skip(f"release fixture not found at {path}")
    return path


@pytest.fixture(scope="session")
def realdata_dir(shared: Path) -> Path:
    path = shared / "realdata"
    if not path.is_dir():
        pytest.skip(f"real captures not found at {path}")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow (CI sets KEYFRAMEFACE_RUN_SLOW=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("KEYFRAMEFACE_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or KEYFRAMEFACE_RUN_SLOW=1 (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read a developer's or CI machine's keyframeface config file (backends.config)."""
    monkeypatch.setenv("KEYFRAMEFACE_CONFIG", str(tmp_path_factory.getbasetemp() / "no-such-config.toml"))
