"""The shape of a representation's answer, stated once, for every constrained decoder.

Each representation (:mod:`.representations`) declares a :class:`GrammarSpec`. The decoders derive what they need
from it instead of re-encoding the answer format:

* :func:`object_segments`: the release's JSON answer as literal texts and value slots, which the token-level decoder
  of the ``llama`` backend (:func:`keyframeface.backends.constrained.decode_json`) and the character automaton of the
  ``hf`` backend (:class:`keyframeface.backends.hf_constrained.AnswerGrammar`) walk;
* :func:`json_schema`: the JSON Schema sent as ``response_format`` by the ``openai`` backend (object answers only);
* :func:`gbnf`: a GBNF grammar (llama.cpp's grammar format) for the ``openai`` backend's ``grammar`` field;
* :attr:`GrammarSpec.values_marker_pattern` and :attr:`GrammarSpec.values_marker`: where free text before the
  values ends, for decoders that sample a preamble (the ``semantic`` description) freely.

Two value layouts exist: ``"object"`` (``{"Keyframe_x":{"EyeBlinkLeft":v,...}}``, all 61 channels in
``rig.CHANNELS`` order, compact separators) and ``"pairs"`` (``Name=value`` pairs of the active channels, each at
most once, or a neutral word). A new representation whose answer uses one of them needs no decoder change.
Pure Python, no heavy imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from .. import rig

__all__ = [
    "MAX_DECIMALS", "GrammarSpec", "ValueSlot", "gbnf", "json_schema", "object_segments", "signed",
]

#: Decimals a constrained value may have in the grammars (format_answer's default is 3; the release's answers use 1).
MAX_DECIMALS: Final[int] = 3

# A value with at most three decimals: "0", "0.25", "1", "1.0". Pose channels may be negative.
_GBNF_NUMBERS: Final[str] = (
    'unit ::= "0" ("." [0-9] [0-9]? [0-9]?)? | "1" (".0" "0"? "0"?)?\n'
    'signed ::= "-"? unit\n'
)


@dataclass(frozen=True)
class GrammarSpec:
    """How one representation's answer is shaped (see the module docstring).

    ``values``: ``"object"`` or ``"pairs"``. ``pair_separator``: between pairs (``"; "``; token-level decoders
    let the model write its first character and accept the rest as part of the next name). ``neutral``: the
    pairs answer of a neutral face. ``preamble``: a GBNF expression for text written before the values (``None``:
    the answer starts with them), with ``preamble_rules`` the GBNF rules it uses; ``values_marker``: the literal
    text between the preamble and the values; ``values_marker_pattern``: how a free-sampling decoder recognises
    that the model wrote the marker.
    """

    values: Literal["object", "pairs"]
    pair_separator: str = "; "
    neutral: str = "neutral"
    preamble: str | None = None
    preamble_rules: str = ""
    values_marker: str = ""
    values_marker_pattern: re.Pattern[str] | None = None

    @property
    def is_object(self) -> bool:
        """Whether the whole answer is the release's JSON object (no preamble): what a JSON Schema can state."""
        return self.values == "object" and self.preamble is None


@dataclass(frozen=True)
class ValueSlot:
    """A value the model writes in an object answer: ``channel``'s number, with a sign allowed when ``signed``."""

    channel: str
    signed: bool


def signed(channel: str) -> bool:
    """Whether ``channel``'s values may be negative (the 9 pose channels, range [-1, 1])."""
    return channel not in rig.BLENDSHAPES


def object_segments(key: str | None) -> tuple[str | ValueSlot, ...]:
    """The object answer ``{"<key>":{"EyeBlinkLeft":v,...,"RightEyeRoll":v}}`` (bare ``{...}`` when ``key`` is
    ``None`` or ``""``) as alternating literal texts and :class:`ValueSlot` s, first a literal, last a literal."""
    prefix = f'{{"{key}":{{"' if key else '{"'
    segments: list[str | ValueSlot] = []
    for i, name in enumerate(rig.CHANNELS):
        segments.append((prefix if i == 0 else ',"') + name + '":')
        segments.append(ValueSlot(name, signed(name)))
    segments.append("}}" if key else "}")
    return tuple(segments)


def json_schema(spec: GrammarSpec, key: str | None) -> dict[str, Any] | None:
    """JSON Schema of one object answer: 61 required numbers with their ranges, under ``key`` (``"Keyframe_one"``)
    or bare when ``key`` is ``None``. Blendshapes are in [0, 1], pose channels in [-1, 1] (``rig.LOW``/``rig.HIGH``).
    ``None`` for a spec whose answer is not a JSON object (see :attr:`GrammarSpec.is_object`).
    """
    if not spec.is_object:
        return None
    inner: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"type": "number", "minimum": float(lo), "maximum": float(hi)}
            for name, lo, hi in zip(rig.CHANNELS, rig.LOW, rig.HIGH, strict=True)
        },
        "required": list(rig.CHANNELS),
        "additionalProperties": False,
    }
    if key is None:
        return inner
    return {"type": "object", "properties": {key: inner}, "required": [key], "additionalProperties": False}


def _value_rule(name: str) -> str:
    return "signed" if signed(name) else "unit"


def _gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _gbnf_object(key: str | None) -> str:
    fields = []
    for i, name in enumerate(rig.CHANNELS):
        fields.append(f'"{"" if i == 0 else ","}\\"{name}\\":" {_value_rule(name)}')
    inner = '"{" ' + " ".join(fields) + ' "}"'
    root = f'"{{\\"{key}\\":" values "}}"' if key else "values"
    return f"root ::= {root}\nvalues ::= {inner}\n" + _GBNF_NUMBERS


def _gbnf_pairs(spec: GrammarSpec) -> str:
    names = rig.CHANNELS
    n = len(names)
    sep = spec.pair_separator
    # s<i>: a list whose first pair is channel i; t<i>: optional further pairs among channels i.. in order.
    rules = [f"pairs ::= {_gbnf_literal(spec.neutral)} | " + " | ".join(f"s{i}" for i in range(n))]
    rules += [f's{i} ::= "{name}=" {_value_rule(name)} t{i + 1}' for i, name in enumerate(names)]
    rules += [f"t{i} ::= ({_gbnf_literal(sep + name + '=')} {_value_rule(name)})? t{i + 1}"
              for i, name in enumerate(names)]
    rules.append(f't{n} ::= ""')
    return "\n".join(rules) + "\n" + _GBNF_NUMBERS


def gbnf(spec: GrammarSpec, key: str | None = None) -> str:
    """A GBNF grammar (llama.cpp's grammar format) for answers of ``spec``, every value inside its channel's range
    with at most :data:`MAX_DECIMALS` decimals.

    ``"object"``: ``{"<key>":{...}}`` (bare when ``key`` is ``None``) with all 61 channels in ``rig.CHANNELS``
    order; stricter than a JSON Schema on llama.cpp, whose schema converter ignores ``minimum``/``maximum``.
    ``"pairs"``: ``Name=value`` pairs separated by ``spec.pair_separator``, each channel at most once and in
    ``rig.CHANNELS`` order (so an answer can never give one channel two values), or ``spec.neutral``; after
    ``spec.preamble`` and ``spec.values_marker`` when the spec has a preamble.
    """
    body = _gbnf_object(key) if spec.values == "object" else _gbnf_pairs(spec)
    start = "values" if spec.values == "object" else "pairs"
    if spec.preamble is None:
        return body if spec.values == "object" else f"root ::= {start}\n" + body
    if spec.values == "object":  # the object grammar names its own root; rename it under the preamble
        body = body.replace("root ::= ", "answer ::= ", 1)
        start = "answer"
    marker = f" {_gbnf_literal(spec.values_marker)}" if spec.values_marker else ""
    return f"root ::= {spec.preamble}{marker} {start}\n{spec.preamble_rules}{body}"
