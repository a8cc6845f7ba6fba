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


# ----------------------------------------------------------------------------------------------- Registry
def test_registry_lazy_targets_objects_and_suggestions() -> None:
    import sys

    from keyframeface.registry import Registry, did_you_mean

    reg: Registry[object] = Registry("widget")
    reg.register("mirror", "keyframeface.rig:mirror")
    reg.register("plain", 42, extra="render")
    assert reg.names() == ["mirror", "plain"] and "plain" in reg and "nope" not in reg
    assert reg.target("mirror") == "keyframeface.rig:mirror"  # listing imports nothing
    from keyframeface.rig import mirror

    assert reg.load("mirror") is mirror and reg.load("plain") == 42
    assert reg.extra("plain") == "render"
    with pytest.raises(KeyError):
        reg.load("nope")
    assert reg.unknown_message("miror") == "unknown widget 'miror'; choose one of: mirror, plain; did you mean 'mirror'?"
    assert did_you_mean("zzz", ["csv"]) == ""
    reg.register("absent", "keyframeface.no_such_module:x")
    with pytest.raises(MissingModule):
        reg.load("absent")
    reg.unregister("absent")
    assert "absent" not in reg and "keyframeface.no_such_module" not in sys.modules


def test_every_extension_point_uses_the_one_registry() -> None:
    from keyframeface.animate.interpolate import INTERPOLATORS
    from keyframeface.backends.registry import BACKENDS
    from keyframeface.data.loader import ADAPTERS
    from keyframeface.extract_methods import METHODS
    from keyframeface.io.registry import _READERS, _WRITERS
    from keyframeface.registry import Registry
    from keyframeface.render.base import RENDERERS
    from keyframeface.render.outputs import OUTPUTS

    for reg in (BACKENDS, _WRITERS, _READERS, RENDERERS, INTERPOLATORS, METHODS, ADAPTERS, OUTPUTS):
        assert isinstance(reg, Registry) and len(reg) >= 2


def test_unknown_names_suggest_the_nearest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from keyframeface.backends.registry import resolve_backend_class
    from keyframeface.errors import BackendUnavailableError, FormatError
    from keyframeface.io.registry import find_writer

    with pytest.raises(BackendUnavailableError, match=r"choose one of: .*rules; did you mean 'rules'\?"):
        resolve_backend_class("rulse")
    with pytest.raises(FormatError, match=r"did you mean 'gltf'\?"):
        find_writer(None, format="gltff")
