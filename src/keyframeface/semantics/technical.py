"""Technical direction in a description: FACS action units, channel names with values, visemes and limits.

:func:`read_technical` finds, in one description,

* **Action units**: ``AU12``, ``AU12C``, ``AU 4 + AU 7``, ``action unit 9 at C``, ``R14`` / ``AU14R`` (one side),
  with FACS 2002 intensity letters A (trace) .. E (maximum) read as 0.2 .. 1.0, or an intensity word of the clause
  ("strong", "slight"); no intensity = C. Channel values: the AU's ARKit channels
  (:data:`keyframeface.semantics.emotions.AU_CHANNELS`) times the intensity.
* **Channel names with values** in any spelling :func:`keyframeface.rig.try_canonical_name` accepts
  (``jawOpen 0.6``, ``mouth_smile_L = 0.5``, ``set browInnerUp to about 0.7``, ``EyeBlinkLeft 20%``).
* **Visemes**, when named as such ("viseme OU", "the MBP viseme", "mouth shape for 'aa'"): the 15 visemes of the
  Oculus/Meta OVRLipSync reference set (sil PP FF TH DD kk CH SS nn RR aa E ih oh ou) plus common aliases, each a
  small channel pose (this project's calibration of the ARKit shapes each viseme uses).
* **Limits**: "no more than 0.3", "at most half(way)", "not above 40%", "max 0.5" cap the values that the
  description's actions set.

The matched spans are removed from the text, so the rule parser does not read "jawOpen" as an open jaw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .. import rig
from .emotions import AU_CHANNELS

__all__ = ["AU_LETTERS", "VISEMES", "Technical", "read_technical"]

#: FACS 2002 intensity letters (trace, slight, marked, severe, maximum) as a share of the AU's full value.
AU_LETTERS: Mapping[str, float] = MappingProxyType({"a": 0.2, "b": 0.4, "c": 0.6, "d": 0.8, "e": 1.0})
_AU_WORDS = {"trace": 0.2, "slight": 0.35, "slightly": 0.35, "weak": 0.35, "light": 0.35, "mild": 0.4,
             "medium": 0.6, "moderate": 0.6, "marked": 0.6, "strong": 0.8, "strongly": 0.8, "severe": 0.8,
             "heavy": 0.8, "intense": 0.85, "full": 1.0, "max": 1.0, "maximum": 1.0, "extreme": 1.0}

#: Visemes (OVRLipSync names and aliases) -> channel pose.
VISEMES: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "sil": {"JawOpen": 0.0},
    "pp": {"MouthClose": 0.3, "MouthPressLeft": 0.4, "MouthPressRight": 0.4, "JawOpen": 0.0},
    "ff": {"MouthRollLower": 0.5, "MouthUpperUpLeft": 0.2, "MouthUpperUpRight": 0.2, "JawOpen": 0.08},
    "th": {"TongueOut": 0.3, "JawOpen": 0.15},
    "dd": {"JawOpen": 0.2, "MouthStretchLeft": 0.15, "MouthStretchRight": 0.15},
    "kk": {"JawOpen": 0.25, "MouthStretchLeft": 0.1, "MouthStretchRight": 0.1},
    "ch": {"MouthFunnel": 0.45, "JawOpen": 0.15, "MouthShrugUpper": 0.2},
    "ss": {"JawOpen": 0.08, "MouthStretchLeft": 0.3, "MouthStretchRight": 0.3},
    "nn": {"JawOpen": 0.15, "MouthClose": 0.05},
    "rr": {"MouthFunnel": 0.3, "MouthPucker": 0.25, "JawOpen": 0.15},
    "aa": {"JawOpen": 0.55, "MouthLowerDownLeft": 0.2, "MouthLowerDownRight": 0.2},
    "e": {"JawOpen": 0.3, "MouthStretchLeft": 0.3, "MouthStretchRight": 0.3},
    "ih": {"JawOpen": 0.2, "MouthSmileLeft": 0.2, "MouthSmileRight": 0.2, "MouthStretchLeft": 0.2,
           "MouthStretchRight": 0.2},
    "oh": {"JawOpen": 0.4, "MouthFunnel": 0.5, "MouthPucker": 0.2},
    "ou": {"JawOpen": 0.15, "MouthPucker": 0.7, "MouthFunnel": 0.4},
})  # fmt: skip
_VISEME_ALIASES = {"mbp": "pp", "m": "pp", "b": "pp", "p": "pp", "fv": "ff", "f": "ff", "v": "ff", "ah": "aa",
                   "a": "aa", "ee": "ih", "i": "ih", "eh": "e", "o": "oh", "oo": "ou", "u": "ou", "w": "ou",
                   "uw": "ou", "s": "ss", "z": "ss", "sh": "ch", "r": "rr", "n": "nn", "l": "nn", "k": "kk",
                   "g": "kk", "d": "dd", "t": "dd", "rest": "sil", **{k: k for k in VISEMES}}

_NUM = r"(?P<num>-?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<pct>%|percent)?"
_APPROX = r"\s*(?:(?:=|:|to|at|of|about|around|approximately|approx\.?|roughly|~|≈|is|near)\s*)*"
_CHANNEL_RE = re.compile(r"(?P<name>\b[A-Za-z][A-Za-z_.\-]*[A-Za-z](?:_[LR])?)" + _APPROX + _NUM, re.IGNORECASE)
_AU_RE = re.compile(
    r"(?P<side1>\b[LR]\s?)?\b(?:AU|action\s+units?)\s*(?P<n>\d{1,2})\s*(?P<letter>[A-Ea-e](?![A-Za-z]))?"
    r"(?P<side2>[LR](?![A-Za-z]))?(?:\s*(?:at|,)?\s*(?:intensity\s+)?(?P<letter2>[A-E])(?![A-Za-z]))?",
    re.IGNORECASE)
_AU_LETTER_AFTER = re.compile(r"^[\s,]*(?:at\s+|intensity\s+)?(?P<l>[A-E])(?:\s+intensity)?\b")
_VISEME_RE = re.compile(
    r"(?:\bvisemes?\s*[\"'(]?(?P<a>[A-Za-z]{1,3})\b[\"')]?|[\"'(]?\b(?P<b>[A-Za-z]{1,3})[\"')]?\s+visemes?\b|"
    r"\bmouth\s+shape\s+(?:for|of)\s+(?:an?\s+)?[\"'(]?(?P<c>[A-Za-z]{1,3})\b[\"')]?)", re.IGNORECASE)
_LIMIT_RE = re.compile(
    r"\b(?:no\s+more\s+than|not\s+more\s+than|at\s+most|not\s+(?:above|over|beyond|past)|max(?:imum)?|"
    r"up\s+to|capped\s+at|never\s+(?:above|over|more\s+than))\s+(?:about\s+)?"
    r"(?:(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<pct>%|percent)?|(?P<word>half(?:way)?|a\s+quarter|a\s+third))",
    re.IGNORECASE)
_GATE = re.compile(r"\d|visem|shape|\bmost\b|more\s+than|\bmax|capped|not\s+(?:above|over|beyond|past)",
                   re.IGNORECASE)
_LIMIT_WORDS = {"half": 0.5, "halfway": 0.5, "a quarter": 0.25, "a third": 0.33}


@dataclass
class Technical:
    """What :func:`read_technical` found: ``channels`` (explicit values by channel name), ``limit`` (a cap on the
    values actions set, or ``None``), ``records`` (explanation records) and ``text`` (the rest of the
    description, the matched spans removed)."""

    text: str
    channels: dict[str, float] = field(default_factory=dict)
    limit: float | None = None
    records: list[dict[str, object]] = field(default_factory=list)


def _value(num: str, pct: str | None) -> float:
    v = float(num)
    return v / 100.0 if pct or abs(v) > 1.0 else v


def read_technical(text: str) -> Technical:
    """Find action units, channel values, visemes and limits in ``text`` (see the module docstring)."""
    out = Technical(text=text)
    if not _GATE.search(text):
        return out
    spans: list[tuple[int, int]] = []

    for m in _LIMIT_RE.finditer(text):
        out.limit = (_value(m.group("num"), m.group("pct")) if m.group("num")
                     else _LIMIT_WORDS[" ".join(m.group("word").lower().split())])
        out.records.append({"phrase": m.group(0), "rule": f"limit: actions capped at {out.limit:.2f}", "channels": {}})
        spans.append(m.span())

    au_found = list(_AU_RE.finditer(text))
    if au_found:
        clause_word = next((v for w, v in _AU_WORDS.items() if re.search(rf"\b{w}\b", text, re.IGNORECASE)), None)
        shared = None  # "AU1 + AU2, D intensity": a letter after the last AU applies to all without one
        tail = _AU_LETTER_AFTER.match(text[au_found[-1].end():])
        if tail and not au_found[-1].group("letter"):
            shared = AU_LETTERS[tail.group("l").lower()]
        last2 = au_found[-1].group("letter2")
        if len(au_found) > 1 and last2 and not any(m.group("letter") or m.group("letter2") for m in au_found[:-1]):
            shared = AU_LETTERS[last2.lower()]
        for m in au_found:
            n = int(m.group("n"))
            if n not in AU_CHANNELS:
                continue
            letter = m.group("letter") or m.group("letter2")
            level = AU_LETTERS[letter.lower()] if letter else shared or clause_word or AU_LETTERS["c"]
            side = (m.group("side1") or m.group("side2") or "").strip().upper()
            vals: dict[str, float] = {}
            for ch, v in AU_CHANNELS[n].items():
                if side and ch.endswith("Right" if side == "L" else "Left"):
                    continue
                vals[ch] = round(v * level, 3)
            for ch, v in vals.items():
                out.channels[ch] = max(out.channels.get(ch, 0.0), v)
            out.records.append({"phrase": m.group(0).strip(), "rule": f"FACS AU{n} at {level:.2f}"
                                + (f" ({side} side)" if side else "") + " (emotions.AU_CHANNELS)", "channels": vals})
            spans.append(m.span())
        if tail and shared is not None:
            start = au_found[-1].end()
            spans.append((start, start + tail.end()))

    for m in _CHANNEL_RE.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        name = rig.try_canonical_name(m.group("name"))
        if name is None:
            continue
        value = min(max(_value(m.group("num"), m.group("pct")), -1.0), 1.0)  # the composer clamps to the rig
        out.channels[name] = value
        out.records.append({"phrase": m.group(0), "rule": f"channel {name} set to {value:.3f} as written",
                            "channels": {name: value}})
        spans.append(m.span())

    for m in _VISEME_RE.finditer(text):
        key = (m.group("a") or m.group("b") or m.group("c") or "").lower()
        vis = _VISEME_ALIASES.get(key)
        if vis is None:
            continue
        pose = dict(VISEMES[vis])
        for ch, v in pose.items():
            out.channels.setdefault(ch, v)
        out.records.append({"phrase": m.group(0), "rule": f"viseme {vis} (OVRLipSync set)", "channels": pose})
        spans.append(m.span())

    if spans:
        pieces, last = [], 0
        for a, b in sorted(spans):
            if a >= last:
                pieces.append(text[last:a])
                last = b
        pieces.append(text[last:])
        out.text = " , ".join(p for p in pieces if p.strip())
    return out
