"""Settings are declared once (keyframeface.options): the CLI, the web models, meta["options"] and the backend
listings are derived from the declarations and agree with the library's signatures."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import subprocess
import sys

import numpy as np
import pytest

import keyframeface
from keyframeface.backends.registry import get_backend, list_backends, resolve_backend_class
from keyframeface.errors import BackendUnavailableError
from keyframeface.options import (
    AnimateOptions,
    GenerateOptions,
    add_cli_arguments,
    describe,
    from_namespace,
    interpolator_names,
    meta_options,
    output_formats,
    policies,
    representations,
    spec_of,
)
from keyframeface.script import Keyframe, Keyframes


def _keyframes() -> Keyframes:
    values = np.zeros(61, dtype=np.float32)
    return Keyframes(keyframes=(Keyframe("a", values=values), Keyframe("b", values=values)))


def _signature_defaults(fn: object) -> dict[str, object]:
    return {n: p.default for n, p in inspect.signature(fn).parameters.items()  # type: ignore[arg-type]
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_animate_signature_is_the_declaration() -> None:
    sig = _signature_defaults(keyframeface.animate)
    declared = {f.name: f.default for f in dataclasses.fields(AnimateOptions)}
    assert sig == declared


def test_generate_signature_has_every_declared_option() -> None:
    sig = _signature_defaults(keyframeface.generate)
    for f in dataclasses.fields(GenerateOptions):
        assert sig[f.name] == f.default, f.name


def test_meta_options_are_the_declared_ones_in_order() -> None:
    anim = keyframeface.animate(_keyframes(), fps=30, tail_s=0.5, vary_timing=True, seed=3)
    declared = [f.name for f in dataclasses.fields(AnimateOptions) if spec_of(f).meta]
    assert list(anim.meta["options"]) == declared and "seed" not in anim.meta["options"]
    # Options the engine resolves are recorded as resolved: the curve it used, and whether it replayed a take.
    resolved = AnimateOptions(fps=30.0, tail_s=0.5, vary_timing=True, seed=3, method="pchip", resynthesis=False)
    assert anim.meta["options"] == meta_options(resolved)


def test_cli_flags_round_trip_to_the_declaration() -> None:
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser, AnimateOptions)
    assert from_namespace(AnimateOptions, parser.parse_args([])) == AnimateOptions()
    args = parser.parse_args(["--fps", "24", "--no-life", "--vary-timing", "--tail-s", "1", "--method", "linear"])
    opts = from_namespace(AnimateOptions, args, seed=5)
    assert (opts.fps, opts.life, opts.vary_timing, opts.tail_s, opts.method, opts.seed) == (24.0, False, True, 1.0,
                                                                                          "linear", 5)


def test_animate_command_has_a_flag_for_every_cli_option() -> None:
    from keyframeface.cli.main import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["animate"].format_help()  # type: ignore[union-attr]
    for f in dataclasses.fields(AnimateOptions):
        if spec_of(f).cli:
            flag = ("--no-" if f.default is True else "--") + f.name.replace("_", "-")
            assert flag in text, flag
    for name in ("representation", "temperature", "timeout-s", "seed", "policy", "concurrency"):
        assert f"--{name}" in text


def test_web_models_expose_the_declared_options_with_the_same_defaults() -> None:
    pytest.importorskip("pydantic")
    from keyframeface.web.models import AnimateRequest, GenerateRequest

    fields = AnimateRequest.model_fields
    for f in dataclasses.fields(AnimateOptions):
        assert fields[f.name].default == f.default, f.name
    assert fields["fps"].default == 60.0  # the web used 30 before the declaration was shared
    gen = GenerateRequest.model_fields
    for name in ("seed", "temperature", "policy"):
        assert gen[name].default == getattr(GenerateOptions(), name)
    schema = GenerateRequest.model_json_schema()["properties"]
    assert schema["temperature"]["maximum"] == 10.0 and schema["policy"]["enum"] == list(policies())
    req = AnimateRequest(keyframes={"keyframes": []}, blinks=False, tail_s=0.25)
    assert req.animate_options() == AnimateOptions(blinks=False, tail_s=0.25)


def test_enums_come_from_their_registries() -> None:
    from keyframeface.animate.interpolate import interpolators
    from keyframeface.io.registry import writer_names
    from keyframeface.prompt import POLICIES, REPRESENTATIONS

    assert sorted(interpolator_names()) == sorted(interpolators())
    assert interpolator_names()[0] == "step"
    assert output_formats() == tuple(writer_names())
    assert policies() == tuple(POLICIES) and representations() == tuple(REPRESENTATIONS)
    assert AnimateOptions().method is None  # the engine picks pchip, or the extractor's curve for extracted keys


def test_describe_lists_name_type_default_help() -> None:
    rows = {r.name: r for r in describe(GenerateOptions)}
    assert rows["temperature"].type == "float" and rows["temperature"].default == 0.0 and rows["temperature"].help


@pytest.mark.parametrize("name", [row.name for row in list_backends()])
def test_backend_options_match_the_constructor(name: str) -> None:
    cls = resolve_backend_class(name)
    if cls.Options is None:
        pytest.skip(f"{name} declares no options")
    declared = {f.name: f.default for f in dataclasses.fields(cls.Options)}
    if cls.__init__ is object.__init__:
        assert declared == {}
        return
    params = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}
    assert params == declared
    assert all(info.help for info in cls.options_info() or [])


def test_unknown_backend_option_is_one_line_listing_the_valid_ones() -> None:
    with pytest.raises(BackendUnavailableError, match="does not take these options: colour; it takes no options"):
        get_backend("rules", colour="red")
    with pytest.raises(BackendUnavailableError, match=r"'bogus'|bogus; it takes base_url, model, adapter"):
        get_backend("openai", base_url="http://127.0.0.1:9/v1", bogus=1)


def test_backends_command_lists_options() -> None:
    r = subprocess.run([sys.executable, "-m", "keyframeface", "backends", "--json"], capture_output=True, text=True,
                       check=True)
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["rules"]["options"] == []
    assert {o["name"] for o in rows["openai"]["options"]} >= {"base_url", "model", "timeout_s"}
