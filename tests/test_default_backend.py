"""The offline default backend and its fallback."""

from __future__ import annotations

import logging

import pytest

from keyframeface.backends import registry
from keyframeface.backends.bundled import BundledBackend
from keyframeface.backends.rules import RulesBackend


def test_default_is_bundled() -> None:
    assert registry.DEFAULT_BACKEND == "bundled"
    assert isinstance(registry.get_backend(), BundledBackend)


def test_default_falls_back_to_rules_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(BundledBackend, "availability", classmethod(lambda cls: (False, "encoder missing")))
    with caplog.at_level(logging.WARNING, logger="keyframeface.backends.registry"):
        backend = registry.get_backend()
    assert isinstance(backend, RulesBackend)
    assert "encoder missing" in caplog.text and "'rules'" in caplog.text


def test_named_backend_never_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.errors import BackendUnavailableError

    monkeypatch.setattr(BundledBackend, "availability", classmethod(lambda cls: (False, "encoder missing")))
    with pytest.raises(BackendUnavailableError, match="encoder missing"):
        registry.get_backend("bundled")


def test_default_backend_name_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry.default_backend_name() == "bundled"
    monkeypatch.setattr(BundledBackend, "availability", classmethod(lambda cls: (False, "encoder missing")))
    assert registry.default_backend_name() == "rules"


def test_web_app_and_eval_use_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastapi")
    from keyframeface.web.app import create_app

    monkeypatch.setattr(BundledBackend, "availability", classmethod(lambda cls: (False, "encoder missing")))
    create_app()  # starts with rules instead of failing on the unusable default
