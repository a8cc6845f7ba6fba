"""The one loader behind the backend, writer and renderer registries."""

from __future__ import annotations

import pytest

from keyframeface.plugins import MissingModule, load_target


def test_loads_an_attribute() -> None:
    from keyframeface.rig import mirror

    assert load_target("keyframeface.rig:mirror") is mirror
    assert load_target("keyframeface.rig:no_such_name") is None


def test_missing_component_and_missing_dependency(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingModule) as info:
        load_target("keyframeface.no_such_module:thing")
    assert info.value.component_absent and info.value.module == "keyframeface.no_such_module"
    (tmp_path / "kf_plugin_needs_dep.py").write_text("import kf_dependency_that_is_not_installed\nthing = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingModule) as info:
        load_target("kf_plugin_needs_dep:thing")
    assert not info.value.component_absent
    assert info.value.missing == "kf_dependency_that_is_not_installed"
