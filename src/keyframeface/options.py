"""Settings declared once: the options of ``animate()`` and ``generate()``, and every enum they use.

Each option is a field of a frozen dataclass with its default, and in its metadata (:class:`Spec`) its range or
choices and its help text. Everything else reads these declarations: the command-line flags
(:func:`add_cli_arguments`, :func:`from_namespace`), the web request models (``web/models.py``), ``meta["options"]``
of the files (:func:`meta_options`) and the backend option listings (:func:`describe`). Adding an option is one field
here plus its use in the stage that implements it.

Enums have one source each, read at call time: :func:`policies` and :func:`representations` (the prompt's),
:func:`interpolator_names` (the interpolation registry) and :func:`output_formats` (the writer registry), so a
plugin that registers a method or a format is offered everywhere without re-typing names.

This module is a leaf: it imports nothing of keyframeface at import time (the registries are imported inside the
enum functions), so every stage may import it.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

__all__ = [
    "AnimateOptions",
    "GenerateOptions",
    "OptionInfo",
    "Spec",
    "add_cli_arguments",
    "describe",
    "from_namespace",
    "interpolator_names",
    "meta_options",
    "option",
    "option_names",
    "output_formats",
    "policies",
    "representations",
    "spec_of",
]

_KEY: Final[str] = "keyframeface"
#: The largest seed the web API accepts (a 31-bit int, what every backend's sampler takes).
MAX_SEED: Final[int] = 2**31 - 1
#: 24 hours: the longest ``duration_s`` / ``tail_s`` animate() accepts.
MAX_SECONDS: Final[float] = 24 * 3600.0

T = TypeVar("T")


# --- enums: one source each, read at call time -------------------------------------------------------------------


def policies() -> tuple[str, ...]:
    """What to do with an invalid model answer: ``strict`` (fail, then re-ask) or ``repair`` (fix with warnings)."""
    from .prompt import POLICIES

    return tuple(POLICIES)


def representations() -> tuple[str, ...]:
    """What a chat model writes, in the prompt's registration order (``json`` first: the release's)."""
    from .prompt import REPRESENTATIONS

    return tuple(REPRESENTATIONS)


def interpolator_names() -> tuple[str, ...]:
    """Registered interpolation methods in registration order (``step, linear, cubic, pchip, akima`` built in)."""
    import importlib

    # (``keyframeface.animate.interpolate`` is also the name of a function, hence import_module.)
    interpolate = importlib.import_module(f"{__package__}.animate.interpolate")
    # Registration order reads from simplest to smoothest, which the help text keeps; interpolators() sorts.
    registry = getattr(interpolate, "_REGISTRY", None)
    return tuple(registry) if isinstance(registry, Mapping) else tuple(interpolate.interpolators())


def output_formats() -> tuple[str, ...]:
    """Names of every registered animation writer (``csv``, ``json``, ``npz``, ``gltf``, ``glb`` built in)."""
    from .io.registry import writer_names

    return tuple(writer_names())


# --- the declaration ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a field's metadata says about the option beyond its type and default.

    ``help``: one line for people (the web schema's description, ``keyframeface backends``); ``{choices}`` in it
    is replaced by the choices. ``low`` / ``high``: the accepted range, inclusive unless ``low_open`` /
    ``high_open``. ``choices``: a function giving the valid values (read at call time); ``closed``: only those are
    accepted (CLI ``choices=``, a web ``Literal``) rather than being checked by the stage itself.
    ``flag``: the CLI flag (default ``--name-with-dashes``, or ``--no-name`` for a boolean that defaults to true;
    ``None`` from ``cli=False``: no flag). ``cli_help``: the flag's help when it differs from ``help`` (argparse's
    ``%(default)s`` allowed). ``web``: exposed by the web request models. ``meta``: recorded in
    ``meta["options"]``. ``max_length``: for strings given over the web.
    """

    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: Callable[[], Sequence[str]] | None = None
    closed: bool = True
    cli: bool = True
    flag: str | None = None
    cli_help: str | None = None
    web: bool = True
    meta: bool = True
    max_length: int | None = None

    def text(self) -> str:
        """``help`` with ``{choices}`` filled in."""
        if self.choices is not None and "{choices}" in self.help:
            return self.help.replace("{choices}", ", ".join(self.choices()))
        return self.help

    def flag_help(self) -> str:
        """The CLI help text (``cli_help`` or ``help``) with ``{choices}`` filled in."""
        raw = self.cli_help if self.cli_help is not None else self.help
        if self.choices is not None and "{choices}" in raw:
            return raw.replace("{choices}", ", ".join(self.choices()))
        return raw


def option(default: Any, *, help: str, **spec: Any) -> Any:
    """A dataclass field with ``default`` and a :class:`Spec` (``help`` and the keywords of :class:`Spec`)."""
    return field(default=default, metadata={_KEY: Spec(help=help, **spec)})


def spec_of(f: dataclasses.Field[Any]) -> Spec:
    """The :class:`Spec` of a declared field (a plain field gets one with an empty help)."""
    found = f.metadata.get(_KEY)
    return found if isinstance(found, Spec) else Spec(help="")


@dataclass(frozen=True)
class AnimateOptions:
    """The options of :func:`keyframeface.animate` (its keyword arguments, in order; see its docstring)."""

    fps: float = option(60.0, low=1.0, high=1000.0, help="frames per second in [1, 1000], non-integer allowed",
                        cli_help="frame rate (default: %(default)s)")
    duration_s: float | None = option(None, low=0.0, high=MAX_SECONDS, low_open=True,
                                      help="total duration when keyframes carry no times")
    method: str | None = option(None, choices=interpolator_names, closed=False, max_length=32,
                                help="interpolation method ({choices}; default: pchip, or for keyframes from "
                                "extract the curve the extractor fitted)")
    life: bool = option(True, help="life layers on (blinks, saccades, head motion)",
                        cli_help="no blinks, saccades or head motion")
    blinks: bool = option(True, help="automatic blinks", cli_help="no automatic blinks")
    saccades: bool = option(True, help="eye saccades", cli_help="no eye saccades")
    head_motion: bool = option(True, help="head drift and breathing", cli_help="no head drift / breathing")
    offsets: bool = option(True, help="per-group timing offsets: the eyes lead, the head lags",
                           cli_help="no per-group timing offsets (the eyes lead, the head lags)")
    consistency: bool = option(True, help="repair channel-rule breaks that interpolation makes between keyframes",
                               cli_help="do not repair channel-rule breaks between keyframes")
    # The CLI's --seed is generate's (default None); the animate command passes it on.
    seed: int | None = option(None, low=0, high=MAX_SEED, cli=False, meta=False,
                              help="seed of the life layers (default: derived from the keyframes' content, so the "
                              "same script gives the same take and different scripts differ)")
    vary_timing: bool = option(False, help="small seeded human variation of the chosen times")
    tail_s: float | None = option(None, low=0.0, high=MAX_SECONDS,
                                  help="how long the last pose is held after its keyframe (default: natural); "
                                  "not with duration_s",
                                  cli_help="how long the last pose is held after its keyframe (default: natural); "
                                  "not with --duration-s")
    transitions: bool = option(True, help="per-group transitions fitted from real captures: a gaze change is a "
                               "saccade, brows, mouth and jaw each with their own speed, staggered starts, overshoot",
                               cli_help="one shared transition for every channel (the older engine)")
    overshoot: bool = option(True, help="fitted overshoot on held onsets", cli_help="no overshoot on onsets")
    micro_motion: bool = option(True, help="fitted micro-motion: a held expression keeps living",
                                cli_help="no micro-motion (held expressions are exactly frozen)")
    eyes_down: bool = option(True, help="the eyes turn down during blinks, as in real captures",
                             cli_help="eyes keep their direction during blinks")
    lids_follow_gaze: bool = option(True, help="the lids follow vertical saccades", cli_help="lids ignore gaze pitch")
    emotion_blink_rate: bool = option(True, help="the blink rate follows the emotion (e.g. anxiety blinks more)",
                                      cli_help="one blink rate for every emotion")
    resynthesis: bool | None = option(None, help="replay keyframes from extract as the take (no holds, no added "
                                      "blinks); default: on for keyframes whose meta says they came from extract",
                                      cli=False)
    motion_model: str | None = option(None, max_length=4096, help="motion model JSON (default: the shipped "
                                      "models/motion/motion.json)", cli=False)

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`keyframeface.animate`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class GenerateOptions:
    """The settings of :func:`keyframeface.generate` (besides the script, the backend and the callbacks)."""

    seed: int | None = option(None, low=0, high=MAX_SEED, help="seed for backends that sample")
    temperature: float = option(0.0, low=0.0, high=10.0, help="sampling temperature for LLM backends")
    timeout_s: float = option(120.0, low=0.0, high=1e6, low_open=True, high_open=True,
                              help="per-request timeout for LLM backends")
    concurrency: int = option(4, low=1, help="parallel requests for chat backends")
    retries: int = option(2, low=0, cli=False, help="extra attempts on transient backend errors")
    repair_attempts: int = option(1, low=0, cli=False, help="re-asks with the error after an invalid answer")
    policy: str = option("strict", choices=policies,
                         help="invalid model answers: fail and re-ask (strict) or repair with warnings")
    representation: str | None = option(
        None, choices=representations,
        help="what the LLM writes: the release's full 61-key JSON, compact active channels, or a short "
        "description then values (default: the LoRA adapter's training representation, else json)")
    sync_eyes: bool = option(True, cli=False, help="recompute eye rotations from the eyeLook channels")
    # LLM-assisted reading (keyframeface.assist); not on the web: it names a server the web page should not choose.
    assist: str | None = option(None, web=False, max_length=64,
                                help="a chat backend (openai, llama) that rewrites the descriptions the composer "
                                "cannot read into its vocabulary (default: off; see docs/assist.md)")
    assist_options: Mapping[str, Any] | None = option(None, cli=False, web=False,
                                                      help="the assist backend's options (base_url, model ...)")

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`keyframeface.generate`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# --- derived forms ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionInfo:
    """One option as listed for people: name, type, default and help."""

    name: str
    type: str
    default: Any
    help: str


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "").replace("NoneType", "None")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def describe(cls: type) -> list[OptionInfo]:
    """Every declared field of the dataclass ``cls`` as :class:`OptionInfo`, in declaration order."""
    hints = _hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = None if f.default is dataclasses.MISSING else f.default
        out.append(OptionInfo(f.name, _type_name(hints.get(f.name, f.type)), default, spec_of(f).text()))
    return out


def option_names(cls: type) -> tuple[str, ...]:
    """The field names of the dataclass ``cls``, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def meta_options(opts: Any) -> dict[str, Any]:
    """What ``meta["options"]`` records of ``opts``: every field with ``meta=True``, in declaration order."""
    return {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts) if spec_of(f).meta}


def _flag(f: dataclasses.Field[Any], spec: Spec) -> str:
    if spec.flag is not None:
        return spec.flag
    stem = f.name.replace("_", "-")
    return f"--no-{stem}" if f.default is True else f"--{stem}"


def add_cli_arguments(parser: argparse.ArgumentParser, cls: type, names: Sequence[str] | None = None) -> None:
    """Add the flags of the dataclass ``cls``'s options to ``parser`` (``names``: these, in this order; default:
    every field with ``cli=True``).

    Booleans that default to true become ``--no-NAME`` (``store_false``), the others ``--NAME`` (``store_true``);
    numbers get ``type=int``/``float``; closed choices become argparse ``choices``. The destination is the field
    name, so :func:`from_namespace` reads them back.
    """
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    chosen = list(names) if names is not None else [f.name for f in by_name.values() if spec_of(f).cli]
    for name in chosen:
        f = by_name[name]
        spec = spec_of(f)
        kwargs: dict[str, Any] = {"dest": name, "help": spec.flag_help()}
        if f.default is True or f.default is False:
            kwargs["action"] = "store_false" if f.default else "store_true"
        else:
            kwargs["default"] = f.default
            base = _scalar(hints.get(name))
            if base in (int, float):
                kwargs["type"] = base
            if spec.choices is not None and spec.closed:
                kwargs["choices"] = tuple(spec.choices())
        parser.add_argument(_flag(f, spec), **kwargs)


def _scalar(tp: Any) -> Any:
    """``int`` for ``int`` and ``int | None`` (likewise float, str); else ``tp``."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if len(args) == 1 else tp


def from_namespace(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    """An options object of type ``cls`` from parsed flags: each field from ``args`` when present (else its
    default), then ``overrides``."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}  # type: ignore[arg-type]
    values.update(overrides)
    return cls(**values)
