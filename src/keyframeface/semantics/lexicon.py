"""The vocabulary of facial actions: what each action does to the channels, and the English phrases for it.

Four kinds of lexicon entries feed the tagger (:mod:`keyframeface.semantics.tagger`):

* **parts** ("the left eyebrow", "one corner of her mouth", "the lips") with their side words;
* **predicates** ("raise", "furrow", "press together", "wide open" ... with all inflections), each with an
  implied direction where it has one ("lower" = down);
* **action words** that stand alone ("smiles", "a grin", "winks", "yawns", "eye contact", "a thin line");
* boundaries, coordination and filler words used by the binder.

A part and a predicate are combined into an action by :data:`FRAMES` ("the brows" + "rise" -> ``brow_raise``;
"the jaw" + "drops" -> ``jaw_open``; "the head" + "turns" + "left" -> ``head_yaw``), so "the brows rise",
"raises her brows", "raised brows" and "brows raised high" are all one rule with free word order.

Each :class:`Action` says what it does at full intensity (level 1.0): ``primary`` channels scale linearly with the
level, ``secondary`` ones with its square (composites appear as an action grows: a genuine smile adds cheek and lid
raise), ``zeros`` are channels the action explicitly sets to 0 (closed eyes are not wide). ``Name*`` stands for the
Left and Right channel pair. Magnitudes follow reference/FACS.md "Magnitudes seen in practice"; FACS AU numbers are
given in each action's summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .. import rig
from .tagger import Entry, verb_forms

__all__ = [
    "ACTIONS",
    "AXES",
    "FILLERS",
    "FRAMES",
    "PART_REGIONS",
    "Action",
    "Frame",
    "find_action",
    "lexicon_entries",
]

#: Direction-driven pseudo channels: the action's value becomes a signed pose or a left/right pair.
AXES = frozenset({"gaze", "HeadYaw", "HeadRoll", "jaw_side", "mouth_side"})


def _expand(spec: Mapping[str, float]) -> dict[str, float]:
    return rig.expand_sides(spec, allowed=AXES, table="the action lexicon")


@dataclass(frozen=True)
class Action:
    """One facial action.

    ``primary`` / ``secondary``: channel -> value at level 1.0 (primary scales with level, secondary with level^2).
    ``zeros``: channels explicitly set to 0. ``level``: the level with no intensity word. ``state``: a state
    (closed, open) rather than a degree: strong words keep it full, weak words make it partial, "almost" is 0.8.
    ``side``: default side ("both" or "one"). ``spill``: share kept by the other side when one-sided.
    ``axis``: for direction-driven actions, which pose or pair the direction drives (see :data:`AXES`).
    ``default_dir``: direction used when none is given. ``transient``: not carried to the next keyframe (blinks).
    ``int_overrides``: intensity words that mean something else for this action ("a tight smile" is small).
    ``upgrades``: intensity words that turn this action into another ("shut tight" -> squeezed shut).
    ``partial_of``: a weak intensity makes this state the complement of another ("eyes half open" -> eyes
    closed at 1 - level).
    """

    id: str
    summary: str
    primary: Mapping[str, float]
    secondary: Mapping[str, float] = field(default_factory=dict)
    zeros: tuple[str, ...] = ()
    level: float = 0.6
    state: bool = False
    side: str = "both"
    spill: float = 0.15
    axis: str | None = None
    default_dir: str | None = None
    transient: bool = False
    pull_mouth: bool = False
    int_overrides: Mapping[str, float] = field(default_factory=dict)
    upgrades: Mapping[str, str] = field(default_factory=dict)
    partial_of: str | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """Every real channel this action writes (primary, secondary and zeros)."""
        names = [*self.primary, *self.secondary, *self.zeros]
        return tuple(n for n in dict.fromkeys(names) if n in rig.CHANNEL_INDEX)


def _a(
    id: str,
    summary: str,
    primary: Mapping[str, float],
    secondary: Mapping[str, float] | None = None,
    *,
    zeros: Iterable[str] = (),
    **kw: object,
) -> Action:
    zero_names = tuple(_expand({z: 0.0 for z in zeros}))
    return Action(id, summary, _expand(primary), _expand(secondary or {}), zero_names, **kw)  # type: ignore[arg-type]


_FACE_ZEROS = tuple(
    n for n in rig.BLENDSHAPES if rig.group_of(n) in ("brows", "eyes", "cheeks", "nose", "jaw", "mouth", "tongue")
)
_SMALL_SMILE = {"tight": 0.4, "tightly": 0.4, "thin": 0.35, "polite": 0.4, "politely": 0.4, "wan": 0.25}

_ACTION_LIST: tuple[Action, ...] = (
    # ------------------------------------------------------------------ brows
    _a("brow_raise", "brows raised (AU1+2)", {"BrowInnerUp": 0.8, "BrowOuterUp*": 0.85}, zeros=("BrowDown*",)),
    _a("brow_arch", "brows arched (AU2 > AU1)", {"BrowOuterUp*": 0.85, "BrowInnerUp": 0.45}, zeros=("BrowDown*",)),
    _a("brow_inner_raise", "inner brows raised (AU1)", {"BrowInnerUp": 0.85}),
    _a("brow_outer_raise", "outer brows raised (AU2)", {"BrowOuterUp*": 0.85}),
    _a("brow_quirk", "one brow raised (unilateral AU2)", {"BrowOuterUp*": 0.85, "BrowInnerUp": 0.2}, side="one",
       spill=0.0),
    _a("brow_lower", "brows lowered (AU4)", {"BrowDown*": 0.85}, {"EyeSquint*": 0.2}, zeros=("BrowOuterUp*",)),
    _a("brow_knit", "brows drawn together (AU4)", {"BrowDown*": 0.75, "BrowInnerUp": 0.12}, {"EyeSquint*": 0.15},
       zeros=("BrowOuterUp*",)),
    _a("brow_worried", "worried brows (AU1+4)", {"BrowInnerUp": 0.8, "BrowDown*": 0.3}, zeros=("BrowOuterUp*",)),
    # ------------------------------------------------------------------ lids
    _a("eyes_wide", "eyes widened (AU5)", {"EyeWide*": 0.55}, {"BrowOuterUp*": 0.25, "BrowInnerUp": 0.2},
       zeros=("EyeBlink*", "EyeSquint*")),
    _a("eyes_narrow", "eyes narrowed (AU7)", {"EyeSquint*": 0.8}, {"CheekSquint*": 0.25, "EyeBlink*": 0.15},
       zeros=("EyeWide*",)),
    _a("eyes_close", "eyes closed (AU43)", {"EyeBlink*": 1.0}, zeros=("EyeWide*",), level=1.0, state=True, spill=0.0,
       upgrades={"tight": "eyes_squeeze", "tightly": "eyes_squeeze", "hard": "eyes_squeeze",
                 "firmly": "eyes_squeeze"}),
    _a("eyes_droop", "heavy, drooping lids (partial AU43)", {"EyeBlink*": 0.8}, zeros=("EyeWide*",), level=0.6),
    _a("eyes_squeeze", "eyes squeezed shut (AU43+7, with AU6)", {"EyeBlink*": 1.0, "EyeSquint*": 0.6},
       {"CheekSquint*": 0.4, "BrowDown*": 0.3, "NoseSneer*": 0.15}, zeros=("EyeWide*",), level=1.0, state=True,
       spill=0.0),
    _a("eyes_open", "eyes open", {}, zeros=("EyeBlink*",), level=1.0, state=True, spill=0.0,
       partial_of="eyes_close"),
    _a("blink", "blink (AU45)", {"EyeBlink*": 1.0}, zeros=("EyeWide*",), level=1.0, state=True, spill=0.0,
       transient=True),
    _a("wink", "wink (unilateral AU46)", {"EyeBlink*": 1.0}, {"CheekSquint*": 0.35, "MouthSmile*": 0.2}, level=1.0,
       state=True, side="one", spill=0.0, transient=True),
    _a("eyes_flutter", "fluttering lids", {"EyeBlink*": 0.5}, level=1.0, transient=True),
    _a("eyes_crinkle", "smiling eyes (AU6)", {"CheekSquint*": 0.55, "EyeSquint*": 0.45}),
    _a("eyes_soften", "softened eyes", {"EyeSquint*": 0.3}, zeros=("EyeWide*",)),
    _a("eyes_tear", "tearful eyes", {"BrowInnerUp": 0.5, "EyeSquint*": 0.3}, {"MouthFrown*": 0.2,
       "MouthShrugLower": 0.2}),
    _a("eyes_light", "eyes light up", {"EyeWide*": 0.25, "BrowOuterUp*": 0.3, "BrowInnerUp": 0.2},
       {"CheekSquint*": 0.3}),
    # ------------------------------------------------------------------ gaze
    _a("gaze", "gaze direction (AU61-64)", {"gaze": 0.7}, axis="gaze"),
    _a("gaze_soft", "gaze drifts (small)", {"gaze": 0.7}, axis="gaze", level=0.3),
    _a("eye_roll", "eyes rolled up", {"EyeLookUp*": 0.9}, level=0.9, state=True),
    _a("stare", "fixed stare", {"EyeWide*": 0.25}, zeros=("EyeLookIn*", "EyeLookOut*", "EyeLookUp*", "EyeLookDown*", "EyeBlink*")),
    # ------------------------------------------------------------------ smiles and frowns
    _a("smile", "smile (AU12, with AU6 as it grows)", {"MouthSmile*": 0.95},
       {"CheekSquint*": 0.65, "EyeSquint*": 0.3, "MouthDimple*": 0.15},
       zeros=("MouthFrown*",), int_overrides=_SMALL_SMILE),
    _a("smile_mouth", "mouth-only smile (AU12 without AU6)", {"MouthSmile*": 0.9}, {"MouthDimple*": 0.15},
       zeros=("MouthFrown*", "CheekSquint*", "EyeSquint*"), int_overrides=_SMALL_SMILE),
    _a("grin", "grin (AU12+25, teeth showing)", {"MouthSmile*": 0.95, "MouthUpperUp*": 0.25,
       "MouthLowerDown*": 0.25, "MouthStretch*": 0.1, "JawOpen": 0.1}, {"CheekSquint*": 0.65, "EyeSquint*": 0.3},
       zeros=("MouthFrown*",), level=0.75, int_overrides=_SMALL_SMILE),
    _a("laugh", "laugh (AU6+12+25+26)", {"MouthSmile*": 0.95, "JawOpen": 0.55, "CheekSquint*": 0.75,
       "MouthUpperUp*": 0.25, "MouthLowerDown*": 0.3, "EyeSquint*": 0.5, "HeadPitch": -0.12},
       zeros=("MouthFrown*",), level=0.8),
    _a("smirk", "smirk (one-sided AU12 + AU14)", {"MouthSmile*": 0.8, "MouthDimple*": 0.3}, {"CheekSquint*": 0.25},
       zeros=("MouthFrown*",), side="one", spill=0.12, pull_mouth=True),
    _a("mouth_frown", "mouth corners pulled down (AU15)", {"MouthFrown*": 0.8}, {"MouthShrugLower": 0.25},
       zeros=("MouthSmile*",)),
    _a("frown", "frown (AU4, a little AU15)", {"BrowDown*": 0.8, "MouthFrown*": 0.25}, {"EyeSquint*": 0.2},
       zeros=("BrowOuterUp*",)),
    _a("scowl", "scowl (AU4+7, lips pressed)", {"BrowDown*": 0.9, "EyeSquint*": 0.45, "MouthFrown*": 0.3,
       "MouthPress*": 0.3}, {"NoseSneer*": 0.2}, zeros=("MouthSmile*", "BrowOuterUp*"), level=0.7),
    _a("glare", "glare (AU4+7)", {"BrowDown*": 0.75, "EyeSquint*": 0.35, "MouthPress*": 0.2},
       zeros=("MouthSmile*", "BrowOuterUp*")),
    _a("dimple", "dimpler (AU14)", {"MouthDimple*": 0.7}),
    # ------------------------------------------------------------------ lips
    _a("pout", "pout (AU17 with lips pushed out)", {"MouthPucker": 0.45, "MouthShrugLower": 0.65,
       "MouthFrown*": 0.35, "MouthShrugUpper": 0.2}, zeros=("MouthSmile*",)),
    _a("pucker", "lips puckered (AU18)", {"MouthPucker": 0.9}, {"MouthFunnel": 0.2},
       zeros=("MouthSmile*", "MouthStretch*")),
    _a("kiss", "kiss (AU18+22)", {"MouthPucker": 0.95, "MouthFunnel": 0.3}, zeros=("MouthSmile*", "MouthStretch*"),
       level=0.8),
    _a("lips_purse", "pursed lips (AU18+24)", {"MouthPucker": 0.5, "MouthPress*": 0.35, "MouthRollLower": 0.1},
       zeros=("MouthSmile*",)),
    _a("funnel", "lips rounded (AU22)", {"MouthFunnel": 0.8, "JawOpen": 0.2}),
    _a("lips_press", "lips pressed (AU24)", {"MouthPress*": 0.75, "MouthClose": 0.15}, {"MouthRollLower": 0.15},
       zeros=("JawOpen", "MouthLowerDown*")),
    _a("lips_roll", "lips rolled in (AU28)", {"MouthRollLower": 0.75, "MouthRollUpper": 0.65, "MouthPress*": 0.2},
       zeros=("JawOpen",)),
    _a("lip_bite", "lower lip bitten", {"MouthRollLower": 0.7, "MouthPress*": 0.15, "MouthUpperUp*": 0.1}),
    _a("upper_lip_roll", "upper lip rolled in", {"MouthRollUpper": 0.7}),
    _a("lips_part", "lips parted (AU25)", {"JawOpen": 0.2, "MouthLowerDown*": 0.25, "MouthUpperUp*": 0.08},
       zeros=("MouthClose", "MouthPress*")),
    _a("lips_tremble", "trembling lips (AU17 with AU15)", {"MouthShrugLower": 0.45, "MouthFrown*": 0.3,
       "MouthPress*": 0.2, "MouthStretch*": 0.15}, zeros=("MouthSmile*",)),
    _a("upper_lip_raise", "upper lip raised (AU10)", {"MouthUpperUp*": 0.7}, {"NoseSneer*": 0.25}),
    _a("lower_lip_down", "lower lip pulled down (AU16)", {"MouthLowerDown*": 0.7}, {"JawOpen": 0.1}),
    _a("lower_lip_out", "lower lip pushed out", {"MouthShrugLower": 0.6, "MouthPucker": 0.25, "MouthFrown*": 0.25}),
    _a("mouth_stretch", "lips stretched (AU20)", {"MouthStretch*": 0.8}),
    _a("mouth_side", "mouth pulled sideways", {"mouth_side": 0.7}, axis="mouth_side", default_dir="left"),
    _a("mouth_close", "mouth closed", {}, zeros=("JawOpen", "MouthClose", "MouthLowerDown*", "MouthUpperUp*",
       "TongueOut", "MouthFunnel"), level=1.0, state=True),
    _a("sneer", "sneer (AU9+10)", {"NoseSneer*": 0.75, "MouthUpperUp*": 0.6}, {"BrowDown*": 0.25,
       "CheekSquint*": 0.2}, zeros=("MouthSmile*",)),
    _a("snarl", "snarl (AU4+9+10, teeth bared)", {"NoseSneer*": 0.75, "MouthUpperUp*": 0.7, "BrowDown*": 0.6,
       "MouthLowerDown*": 0.3, "MouthStretch*": 0.25, "JawOpen": 0.15}, zeros=("MouthSmile*",), level=0.7),
    _a("grimace", "grimace (AU4+7+20)", {"MouthStretch*": 0.75, "MouthUpperUp*": 0.3, "MouthLowerDown*": 0.35,
       "BrowDown*": 0.5, "EyeSquint*": 0.5, "NoseSneer*": 0.2, "JawOpen": 0.05}, zeros=("MouthSmile*",), level=0.65),
    _a("wince", "wince (AU4+6+7, lids tighten)", {"EyeSquint*": 0.65, "EyeBlink*": 0.4, "BrowDown*": 0.55,
       "CheekSquint*": 0.45, "MouthStretch*": 0.4, "NoseSneer*": 0.3, "MouthUpperUp*": 0.2}, zeros=("MouthSmile*",),
       level=0.65),
    _a("bare_teeth", "teeth bared (AU10+16+20)", {"MouthUpperUp*": 0.65, "MouthLowerDown*": 0.55,
       "MouthStretch*": 0.35, "JawOpen": 0.05}, level=0.7),
    # ------------------------------------------------------------------ jaw
    _a("jaw_open", "jaw dropped / mouth open (AU26/27)", {"JawOpen": 0.85}, {"MouthLowerDown*": 0.15},
       zeros=("MouthClose", "MouthPress*", "MouthRollLower", "MouthRollUpper")),
    _a("clench", "jaw clenched, teeth together (AU24 with jaw closed)", {"MouthPress*": 0.5, "MouthStretch*": 0.25,
       "MouthShrugLower": 0.1}, {"BrowDown*": 0.2}, zeros=("JawOpen", "MouthLowerDown*", "TongueOut"), level=0.7),
    _a("jaw_forward", "jaw thrust forward (AU29)", {"JawForward": 0.75}, {"MouthShrugLower": 0.2}),
    _a("jaw_side", "jaw shifted sideways (AU30)", {"jaw_side": 0.7}, axis="jaw_side", default_dir="left"),
    _a("yawn", "yawn (AU27 with lids lowered)", {"JawOpen": 0.95, "EyeSquint*": 0.4, "EyeBlink*": 0.5,
       "MouthFunnel": 0.2, "BrowInnerUp": 0.3, "HeadPitch": -0.1}, zeros=("MouthSmile*",), level=0.85),
    _a("gasp", "gasp (AU1+2+5+26)", {"JawOpen": 0.5, "EyeWide*": 0.5, "BrowInnerUp": 0.55, "BrowOuterUp*": 0.5,
       "MouthFunnel": 0.15}, zeros=("MouthSmile*", "EyeBlink*"), level=0.7),
    # a scream is the fear vocalisation (AU1+2+5 with 20+27: eyes and brows go up), a shout the anger one (AU4+7
    # with 27: brows down); Ekman & Friesen's prototypes with the mouth of each sound (FACS.md)
    _a("scream", "scream (AU1+2+5+20+25+27)", {"JawOpen": 0.9, "MouthStretch*": 0.55, "MouthUpperUp*": 0.35,
       "MouthLowerDown*": 0.45}, {"EyeWide*": 0.6, "BrowInnerUp": 0.55, "BrowOuterUp*": 0.4},
       zeros=("MouthSmile*", "BrowDown*"), level=0.8),
    _a("shout", "shout (AU4+7+25+27)", {"JawOpen": 0.8, "MouthStretch*": 0.3, "MouthUpperUp*": 0.35,
       "MouthLowerDown*": 0.45}, {"BrowDown*": 0.55, "EyeSquint*": 0.3, "NoseSneer*": 0.15},
       zeros=("MouthSmile*",), level=0.75),
    _a("startle", "startle (AU1+2+5, a quick 20)", {"EyeWide*": 0.65, "BrowInnerUp": 0.55, "BrowOuterUp*": 0.5},
       {"MouthStretch*": 0.3, "JawOpen": 0.15}, zeros=("MouthSmile*", "BrowDown*", "EyeBlink*"), level=0.75),
    _a("tongue_out", "tongue out (AU19)", {"TongueOut": 0.85, "JawOpen": 0.3}, level=0.8),
    _a("lick_lips", "lips licked", {"TongueOut": 0.35, "JawOpen": 0.12}),
    _a("raspberry", "raspberry", {"TongueOut": 0.45, "CheekPuff": 0.35, "JawOpen": 0.1}),
    _a("whistle", "whistle (AU18+22)", {"MouthPucker": 0.75, "MouthFunnel": 0.45}, zeros=("MouthSmile*",)),
    _a("gulp", "swallow", {"MouthPress*": 0.35, "MouthRollLower": 0.25, "MouthShrugLower": 0.15}, transient=True),
    _a("sigh", "sigh", {"JawOpen": 0.15, "EyeBlink*": 0.35, "BrowInnerUp": 0.3, "MouthFunnel": 0.15,
       "HeadPitch": 0.08}),
    _a("shrug_face", "facial shrug (AU17 with raised brows)", {"MouthShrugLower": 0.55, "BrowInnerUp": 0.35,
       "BrowOuterUp*": 0.35, "MouthFrown*": 0.2}, level=0.5),
    # ------------------------------------------------------------------ cheeks, nose, chin
    _a("cheek_puff", "cheeks puffed (AU34)", {"CheekPuff": 0.85, "MouthClose": 0.1}, zeros=("JawOpen", "MouthSmile*"),
       level=0.7),
    _a("cheek_raise", "cheeks raised (AU6)", {"CheekSquint*": 0.75}, {"EyeSquint*": 0.3}),
    _a("cheeks_suck", "cheeks sucked in", {"MouthPucker": 0.35, "MouthFunnel": 0.2, "MouthRollLower": 0.1}),
    _a("nose_wrinkle", "nose wrinkled (AU9)", {"NoseSneer*": 0.75}, {"MouthUpperUp*": 0.25, "CheekSquint*": 0.25,
       "BrowDown*": 0.15}),
    _a("nostril_flare", "nostrils flared", {"NoseSneer*": 0.4}),
    _a("chin_raise", "chin raised (AU17)", {"MouthShrugLower": 0.75, "MouthShrugUpper": 0.3},
       {"MouthFrown*": 0.15, "HeadPitch": -0.15}),
    # ------------------------------------------------------------------ whole face
    _a("cry", "crying (AU1+4+15+17, lids tight)", {"BrowInnerUp": 0.85, "BrowDown*": 0.35, "MouthFrown*": 0.65,
       "MouthShrugLower": 0.5, "EyeSquint*": 0.45, "CheekSquint*": 0.3, "MouthStretch*": 0.25, "EyeBlink*": 0.2,
       "JawOpen": 0.1}, zeros=("MouthSmile*",), level=0.65),
    _a("face_scrunch", "face scrunched up (AU4+6+7+9)", {"EyeSquint*": 0.7, "NoseSneer*": 0.6, "BrowDown*": 0.6,
       "CheekSquint*": 0.6, "MouthPucker": 0.3, "MouthUpperUp*": 0.25, "EyeBlink*": 0.4}, level=0.7),
    _a("face_light_up", "face lights up (AU1+2+12)", {"MouthSmile*": 0.85, "BrowOuterUp*": 0.4, "BrowInnerUp": 0.3,
       "EyeWide*": 0.2}, {"CheekSquint*": 0.6}),
    _a("face_fall", "face falls (AU1+15)", {"BrowInnerUp": 0.6, "MouthFrown*": 0.5, "EyeBlink*": 0.15,
       "MouthShrugLower": 0.2}, zeros=("MouthSmile*",)),
    _a("face_harden", "face hardens (AU4+7+24)", {"BrowDown*": 0.55, "MouthPress*": 0.45, "EyeSquint*": 0.3},
       zeros=("MouthSmile*",)),
    _a("face_pale", "face blanches (fear onset)", {"BrowInnerUp": 0.45, "EyeWide*": 0.3, "MouthStretch*": 0.2},
       zeros=("MouthSmile*",)),
    _a("neutral", "neutral face", {}, zeros=_FACE_ZEROS, level=1.0, state=True),
    # ------------------------------------------------------------------ head (pitch positive = down)
    _a("head_yaw", "head turned (AU51/52)", {"HeadYaw": 0.4}, axis="HeadYaw", default_dir="left"),
    _a("head_roll", "head tilted (AU55/56)", {"HeadRoll": 0.35}, axis="HeadRoll", default_dir="left"),
    _a("head_down", "head lowered (AU54)", {"HeadPitch": 0.4}),
    _a("head_up", "head raised (AU53)", {"HeadPitch": -0.35}),
    _a("head_center", "head facing forward", {}, zeros=("HeadYaw", "HeadRoll"), level=1.0, state=True),
    _a("nod", "nod (head down at the key pose)", {"HeadPitch": 0.3}),
    _a("head_shake", "head shake (turned at the key pose)", {"HeadYaw": 0.25}, axis="HeadYaw", default_dir="left"),
)

#: Every action by id.
ACTIONS: Mapping[str, Action] = MappingProxyType({a.id: a for a in _ACTION_LIST})
if len(ACTIONS) != len(_ACTION_LIST):
    raise ValueError("duplicate action ids in the lexicon")

# --------------------------------------------------------------------------------------------------- parts
_DET = "[the|her|his|their|its|one's|my|your|our|both|each|either|one|a|an|both of her|both of his|both of their|the two]"
_SIDE = "[left|right|inner|outer|upper|lower|both|other]"


@dataclass(frozen=True)
class _Part:
    id: str
    regions: tuple[str, ...]
    patterns: tuple[str, ...]
    singular: tuple[str, ...] = ()  # singular nouns that mean one side ("an eyebrow", "one eye")


_PARTS: tuple[_Part, ...] = (
    _Part("inner_brows", ("brows",), (
        f"{_DET} [left|right|both] inner (brow|brows|eyebrow|eyebrows|brow ends|ends of the brows|ends of her brows|ends of his brows|ends of the eyebrows|ends of her eyebrows|ends of his eyebrows|corners of the brows|corners of her brows|corners of his brows|corners of the eyebrows|corners of her eyebrows|corners of his eyebrows|parts of the brows|parts of her brows|parts of his brows|parts of her eyebrows|parts of his eyebrows)",
        f"{_DET} (middle|centre|center|centers|centres) of {_DET} (brow|brows|eyebrows|forehead)",
    )),
    _Part("outer_brows", ("brows",), (
        f"{_DET} [left|right|both] outer (brow|brows|eyebrow|eyebrows|brow ends|ends of the brows|ends of her brows|ends of his brows|ends of the eyebrows|ends of her eyebrows|ends of his eyebrows|corners of the brows|corners of her brows|corners of his brows|corners of the eyebrows|corners of her eyebrows|corners of his eyebrows)",
        f"{_DET} (brow tails|tails of the brows|tails of her brows|tails of his brows)",
    )),
    _Part("brows", ("brows",), (
        f"{_DET} [left|right|both|other] (brow|brows|eyebrow|eyebrows|brow line|browline|brow ridge)",
    ), singular=("eyebrow",)),
    _Part("forehead", ("brows",), (f"{_DET} forehead",)),
    _Part("eyelids", ("eyes",), (
        f"{_DET} [left|right|both|upper|lower] (eyelid|eyelids|lids|lid)",
    )),
    _Part("eyes", ("eyes", "cheeks", "gaze"), (
        f"{_DET} [left|right|both|other] (eye|eyes|eyed)",
    ), singular=("eye",)),
    _Part("gaze", ("gaze",), (f"{_DET} (gaze|eyeline|eye line|line of sight|glance|focus|attention)",)),
    _Part("mouth_corners", ("mouth",), (
        f"{_DET} [left|right|both|one|other] (corner|corners|edge|edges|end|ends) of {_DET} (mouth|lips|lip|smile)",
        f"{_DET} [left|right|both|one|other] (mouth|lip) (corner|corners)",
        f"{_DET} [left|right|both|one|other] (corner|corners)",
    ), singular=("corner", "edge", "end")),
    _Part("mouth", ("mouth", "jaw"), (
        f"{_DET} [left|right|one|other] (side|half) of {_DET} (mouth|lips|smile)",
        f"{_DET} mouth",
    )),
    _Part("upper_lip", ("mouth",), (f"{_DET} (upper|top) lip",)),
    _Part("lower_lip", ("mouth",), (f"{_DET} (lower|bottom) lip",)),
    _Part("lips", ("mouth",), (f"{_DET} (lips|lip)",)),
    _Part("jaw", ("jaw",), (f"{_DET} (jaw|jaws|jawline|jaw line)",)),
    _Part("chin", ("mouth",), (f"{_DET} chin",)),
    _Part("teeth", ("mouth",), (f"{_DET} [front] teeth",)),
    _Part("tongue", ("tongue",), (f"{_DET} (tongue|tongue tip|tip of the tongue|tip of her tongue|tip of his tongue)",)),
    _Part("cheeks", ("cheeks",), (f"{_DET} [left|right|both|other] (cheek|cheeks|cheekbones)",), singular=("cheek",)),
    _Part("nose", ("nose",), (f"{_DET} (nose|bridge of the nose|bridge of her nose|bridge of his nose)",)),
    _Part("nostrils", ("nose",), (f"{_DET} [left|right] (nostril|nostrils)",), singular=("nostril",)),
    _Part("head", ("head",), (f"{_DET} (head|neck)",)),
    _Part("face", ("brows", "eyes", "cheeks", "nose", "jaw", "mouth"), (
        f"{_DET} (face|expression|features|whole face|entire face|countenance|visage|look on her face|look on his face)",
    )),
    _Part("dimples", ("mouth",), (f"{_DET} [left|right] (dimple|dimples)",), singular=("dimple",)),
    _Part("ellipsis", (), ("(the left|the right|the other) [one|side]",)),
)

#: Rig groups (regions) that each part id belongs to.
PART_REGIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({p.id: p.regions for p in _PARTS})
_SINGULAR: Mapping[str, tuple[str, ...]] = MappingProxyType({p.id: p.singular for p in _PARTS})


def singular_nouns(part_id: str) -> tuple[str, ...]:
    """Nouns that, singular, mean one side of the part ("an eyebrow")."""
    return _SINGULAR.get(part_id, ())


# ----------------------------------------------------------------------------------------------- predicates
def _v(*bases: str) -> str:
    forms: list[str] = []
    for b in bases:
        forms.extend(verb_forms(b))
    return "(" + "|".join(dict.fromkeys(forms)) + ")"


def _w(*words: str) -> str:
    return "(" + "|".join(words) + ")"


# (id, implied direction or None, pattern, extra data)
_PREDICATES: tuple[tuple[str, str | None, str, dict[str, object]], ...] = (
    ("raise", "up", _v("raise", "lift", "rise", "elevate", "hike up", "perk up", "go up", "shoot up", "fly up",
                       "jump up", "jump", "climb", "pull up", "push up", "tug up", "turn up", "turn upward",
                       "turn upwards", "curl up", "curl upward", "curl upwards", "curve up", "curve upward",
                       "curve upwards", "tilt up", "tilt upward", "tip up", "come up", "draw up", "creep up",
                       "inch up", "edge up", "twitch up", "quirk up", "hitch up", "spring up", "bring up",
                       "move up", "arch up", "tick up", "lift up", "raise up", "head up"), {}),
    ("lower", "down", _v("lower", "drop", "fall", "sink", "dip", "descend", "come down", "go down",
                         "tilt down", "tip down", "tilt downward", "bring down", "move down",
                         "settle down", "sag down", "slip down", "drift down"), {"act_mode": "vanish"}),
    ("turn_down", "down", _v("pull down", "draw down", "turn down", "turn downward", "turn downwards", "curve down",
                             "curve downward",
                             "curve downwards", "pull downward", "tug down", "tug downward", "point down",
                             "point downward", "draw downward", "drag down", "angle down", "curl down",
                             "curl downward") + "", {}),
    ("turn_down", "down", _w("downturned", "down turned"), {}),
    ("droop", "down", _v("droop", "sag", "slump", "wilt", "grow heavy", "go heavy", "get heavy", "hang low"), {}),
    ("droop", "down", _w("heavy", "droopy", "hooded", "drooping", "half lidded", "heavy lidded"),
     {"as_int": 0.8}),
    ("move", None, _v("move", "shift", "drift", "dart", "flick", "slide", "swing", "wander", "travel", "glide",
                      "jerk", "whip", "flit", "go", "head", "veer", "slip", "stray", "sweep", "scan"), {}),
    ("look", None, _v("look", "glance", "gaze", "peer", "peek", "peep", "watch", "cast", "direct", "squint over",
                      "look back", "glance back", "sneak a look", "steal a glance", "shoot a glance", "throw a glance",
                      "cast a glance", "look out"), {}),
    ("stare", None, _v("stare", "gawk", "gape at", "goggle"), {}),
    ("fix", None, _v("fix", "focus", "lock", "rivet", "fasten", "train", "settle on", "rest on", "land on",
                     "meet"), {}),
    ("avert", "away", _v("avert", "look away", "glance away", "shy away"), {}),
    ("turn", "away", _v("turn away", "pull away", "break away", "turn aside"), {}),
    ("turn", None, _v("turn", "rotate", "swivel", "spin", "whip around", "twist around", "swing around",
                      "turn around", "look over"), {}),
    ("tilt", None, _v("tilt", "cock", "tip", "incline", "lean", "angle", "crane", "bend", "cant", "list"), {}),
    ("bow", "down", _v("bow", "hang", "duck", "bend down", "hang down", "bob down"), {}),
    ("throw", "back", _v("throw back", "toss back", "throw", "toss", "fling back", "jerk back", "snap back"), {}),
    ("shake", None, _v("shake"), {}),
    ("furrow", None, _v("furrow", "crease", "wrinkle up"), {}),
    ("knit", None, _v("knit", "draw together", "pull together", "pinch", "pinch together", "knot", "knot together",
                      "bunch", "bunch together", "bunch up", "scrunch together", "come together", "meet in the middle",
                      "converge", "crumple", "draw in", "pull in"), {}),
    ("tighten", None, _v("tighten", "tense", "tense up", "stiffen", "firm up", "clamp", "harden"), {}),
    ("tighten", None, _w("tight", "taut", "rigid", "stiff"), {"as_int": 0.82}),
    ("worry", None, _w("upturned", "up turned", "slanted", "slanting", "tented", "pleading", "beseeching",
                       "knitted upward", "slant upward", "slants upward", "slope upward", "slopes upward",
                       "tilted upward", "tilt upward", "tilts upward", "angled upward", "angle upward",
                       "angles upward", "tilt up in the middle", "tilts up in the middle"), {}),
    ("arch", "up", _v("arch", "quirk"), {}),
    ("widen", None, _v("widen", "bulge", "pop", "enlarge"), {"act_mode": "grow"}),
    ("widen", None, _v("open wide", "go wide", "grow wide", "fly open", "pop open", "snap open", "stretch wide",
                       "open up wide", "spring open", "open as wide as possible"), {"level": 0.8}),
    ("widen", None, _w("wide", "wide open", "wide opened", "saucer like", "saucer wide"),
     {"as_int": 0.82, "level": 0.82}),
    ("narrow", None, _v("narrow", "slit", "thin out"), {}),
    ("narrow", None, _w("narrowed", "slitted", "slitty", "narrow"), {"as_int": 0.35}),
    ("close", None, _v("close", "shut", "fall shut", "flutter closed", "flutter shut", "drift shut", "drift closed",
                       "slide shut", "slide closed", "slam shut", "snap shut", "sink closed", "sink shut",
                       "press shut", "close over"), {}),
    ("close", None, _w("closed", "shut"), {}),
    ("close", None, _w("half shut", "half closed", "half way closed", "halfway closed", "half lidded"), {"level": 0.5}),
    ("open", None, _v("open", "come open", "open up", "reopen", "blink open", "flutter open", "crack open",
                      "drift open", "pull open", "slide open", "ease open"), {}),
    ("open", None, _w("open", "opened"), {}),
    ("squeeze", None, _v("squeeze", "squeeze shut", "screw shut", "screw up", "scrunch shut", "scrunch up",
                         "clamp shut", "crush shut", "squinch", "squeeze tight", "squeeze tightly",
                         "squeeze together"), {}),
    ("blink", None, _v("blink", "bat"), {}),
    ("flutter", None, _v("flutter"), {}),
    ("crinkle", None, _v("crinkle", "sparkle", "twinkle", "crease at the corners", "crinkle at the corners",
                         "gleam", "glint", "shine", "dance", "glitter", "light up with amusement"), {}),
    ("soften", None, _v("soften"), {"act_mode": "soften"}),
    ("tear", None, _v("tear up", "well up", "water", "glisten", "fill with tears", "brim with tears", "moisten",
                      "glaze over", "brim", "mist over", "mist up", "grow wet", "shine with tears"), {}),
    ("tear", None, _w("watery", "teary", "tearful", "glassy", "misty", "moist", "wet", "red rimmed"), {}),
    ("press", None, _v("press", "press together", "compress", "clamp together", "seal", "press tight",
                       "press firmly", "squeeze together", "mash together", "flatten", "pinch shut", "thin",
                       "thin out", "draw thin", "press tightly together", "pressed flat"), {}),
    ("press", None, _w("pressed", "compressed", "thin", "thinned", "flat", "flattened", "sealed", "clamped",
                       "pressed together", "tightly pressed"), {}),
    ("purse", None, _v("purse", "prim"), {}),
    ("pucker", None, _v("pucker", "pucker up", "form a kiss"), {}),
    ("protrude", "forward", _v("push out", "protrude", "jut", "jut out", "stick out", "poke out", "thrust out",
                               "thrust", "jut forward", "push forward", "thrust forward", "stick forward",
                               "slide forward", "push", "loll out", "hang out", "poke"), {}),
    ("part", None, _v("part", "separate", "come apart", "unseal", "part slightly", "fall apart"), {}),
    ("part", None, _w("parted", "apart", "unsealed"), {}),
    ("roll_in", "in", _v("roll in", "roll inward", "roll inwards", "suck in", "tuck in", "fold in", "draw inward",
                         "pull inward", "roll inside", "press inward", "disappear into her mouth",
                         "disappear into his mouth", "vanish into her mouth", "vanish into his mouth",
                         "disappear inside"), {}),
    ("bite", None, _v("bite", "chew", "nibble", "bite down on", "gnaw", "chew on", "nibble on", "bite on"), {}),
    ("curl", None, _v("curl", "curl back", "curl in disgust", "lift in a sneer", "pull back in disgust"), {}),
    ("tremble", None, _v("tremble", "quiver", "shiver", "wobble", "shudder", "quake", "waver", "trembling"), {}),
    ("twitch", None, _v("twitch", "tug", "jerk", "tic", "flicker", "tug at", "pull at"), {}),
    ("stretch", None, _v("stretch", "pull back", "pull wide", "draw back", "pull taut", "pull tight",
                         "stretch wide", "stretch thin", "stretch taut", "pull sideways", "stretch sideways",
                         "draw wide"), {}),
    ("clench", None, _v("clench", "grit", "grind", "gnash", "set", "clamp down", "bite down", "lock together",
                        "snap shut"), {}),
    ("clench", None, _w("clenched", "gritted", "grinding", "set", "locked"), {}),
    ("puff", None, _v("puff", "puff out", "puff up", "balloon", "inflate", "fill with air", "blow out", "bulge out",
                      "swell", "blow up", "balloon out"), {}),
    ("puff", None, _w("puffed", "puffy", "inflated", "full of air", "ballooned"), {}),
    ("wrinkle", None, _v("wrinkle", "scrunch", "scrunch up", "crumple", "screw up", "wrinkle up", "crinkle up",
                         "twist up", "pinch up"), {}),
    ("flare", None, _v("flare", "flare out", "dilate", "flare wide"), {}),
    ("bare", None, _v("bare", "show", "flash", "expose", "reveal", "display", "show off"), {}),
    ("slacken", "down", _v("slacken", "go slack", "hang open", "fall open", "drop open", "gape", "hang slack",
                           "fall slack", "loll open", "sag open", "hang loose", "droop open", "fall agape",
                           "drop agape", "hang agape", "gape open", "come unhinged"), {}),
    ("slacken", "down", _w("slack", "agape", "gaping", "ajar", "hanging open", "gaping open", "loose", "unhinged"),
     {}),
    ("light_up", None, _v("light up", "brighten", "glow", "beam with joy", "brighten up"), {}),
    ("harden", None, _v("harden", "darken", "cloud over", "cloud", "turn cold", "go cold", "grow cold",
                        "turn hard", "set hard", "turn to stone", "go hard"), {}),
    ("contort", None, _v("contort", "distort", "warp", "crumple", "collapse", "crumble", "twist in pain",
                         "twist in anguish", "screw up in pain"), {}),
    ("twist", None, _v("twist", "skew", "quirk to the side", "pull to the side", "pull to one side",
                       "twist to the side", "pull sideways"), {}),
    ("pale", None, _v("pale", "blanch", "go pale", "turn pale", "go white", "turn white", "drain of color",
                      "drain of colour", "go ashen", "turn ashen"), {}),
    ("appear", None, _v("appear", "form", "emerge", "show up", "come out", "dent", "pop out"), {}),
    ("lick", None, _v("lick", "wet"), {}),
    ("roll", "up", _v("roll", "roll up", "roll back", "roll skyward", "roll heavenward"), {}),
    ("round", None, _v("round", "form an o", "make an o", "shape an o", "form an o shape", "make an o shape",
                       "form a small o", "make a small o", "form a circle", "round out"), {}),
    ("round", None, _w("rounded", "round", "o shaped", "in an o", "in an o shape", "in a small o"), {}),
    ("suck", None, _v("suck", "hollow", "suck in", "draw in"), {}),
    ("suck", None, _w("hollow", "hollowed", "sunken", "sucked in"), {}),
)

# ----------------------------------------------------------------------------------------------- action words
_ACTS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("smile", _v("smile") + "", {}),
    ("smile", _w("smiley", "smiling face"), {}),
    ("smile", _w("unsmiling", "smileless", "humourless", "humorless", "mirthless"), {"neg": True}),
    ("smile", _v("beam"), {"level": 0.9}),
    ("smile", _v("simper"), {"level": 0.4, "quality": 0.3}),
    ("smile", _w("forced smile", "fake smile", "false smile", "polite smile", "social smile", "strained smile",
                 "pained smile", "practiced smile", "practised smile", "professional smile", "stiff smile",
                 "plastered smile", "plastered on smile", "customer service smile", "tight smile", "thin smile",
                 "brittle smile", "hollow smile", "empty smile", "frozen smile", "nervous smile", "awkward smile"),
     {"level": 0.45, "quality": 0.2}),
    ("smile", _w("genuine smile", "real smile", "warm smile", "duchenne smile", "heartfelt smile", "true smile",
                 "bright smile", "sunny smile", "radiant smile", "dazzling smile"), {"level": 0.7, "quality": 1.4}),
    ("smile", _w("smile from ear to ear", "smiles from ear to ear", "smiling from ear to ear",
                 "ear to ear smile", "ear to ear grin"), {"level": 0.95}),
    ("smile", _w("fond look", "kind look", "tender look", "warm look"), {"level": 0.35}),
    ("grin", _v("grin"), {}),
    ("grin", _w("toothy grin", "toothy smile", "cheesy grin", "cheesy smile", "shit eating grin", "big toothy grin"),
     {"level": 0.85}),
    ("laugh", _v("laugh", "guffaw", "cackle", "howl with laughter", "roar with laughter", "crack up", "crease up"),
     {}),
    ("laugh", _w("laughter", "laughing"), {}),
    ("laugh", _v("chuckle", "chortle", "snicker", "snigger", "titter"), {"level": 0.5}),
    ("laugh", _v("giggle"), {"level": 0.6}),
    ("laugh", _w("bursts into laughter", "burst into laughter", "bursts out laughing", "burst out laughing",
                 "breaks into laughter", "breaks out laughing", "laughs out loud", "laughing out loud",
                 "laughs uproariously", "in stitches", "belly laugh", "doubles over laughing", "hearty laugh",
                 "laughs heartily", "laughing hard", "laughs hard", "roars with laughter"), {"level": 0.92}),
    ("smirk", _v("smirk"), {}),
    ("smirk", _w("half smile", "half smiles", "half smiling", "half a smile", "lopsided smile", "crooked smile",
                 "wry smile", "one sided smile", "sideways smile", "sly smile", "knowing smile", "smug smile"),
     {"level": 0.5}),
    ("grimace", _v("grimace"), {}),
    ("wince", _v("wince", "flinch", "cringe", "recoil"), {}),
    ("frown", _v("frown"), {}),
    ("scowl", _v("scowl", "glower", "lour", "lower at"), {}),
    ("glare", _v("glare", "glower at", "shoot daggers", "look daggers"), {}),
    ("glare", _w("death stare", "evil eye", "dirty look", "withering look", "icy stare", "cold stare",
                 "hard stare", "steely gaze", "steely look"), {}),
    ("pout", _v("pout", "sulk", "mope"), {}),
    ("pout", _w("pouty", "pouting lips", "trout pout"), {}),
    ("kiss", _w("blows a kiss", "blow a kiss", "blew a kiss", "blowing a kiss", "kissy face", "air kiss",
                "kissing face", "puckers up for a kiss", "pucker up for a kiss", "kiss", "kisses", "kissed"), {}),
    ("whistle", _v("whistle"), {}),
    ("sneer", _v("sneer"), {}),
    ("snarl", _v("snarl", "growl", "bare teeth", "bares teeth"), {}),
    ("yawn", _v("yawn", "stifle a yawn"), {}),
    ("gasp", _v("gasp"), {}),
    ("gasp", _w("sharp intake of breath", "sharp breath", "sucks in a breath", "draws a sharp breath",
                "inhales sharply", "gasp of surprise"), {}),
    ("sigh", _v("sigh", "exhale", "breathe out", "let out a breath"), {}),
    ("cry", _v("cry", "sob", "weep", "bawl", "blubber", "whimper", "snivel", "sniffle", "tear up"), {}),
    ("cry", _w("in tears", "bursts into tears", "burst into tears", "on the verge of tears", "near tears",
               "close to tears", "tear stained", "teary eyed", "tearfully", "crying face", "tears streaming",
               "tears roll", "tears run", "tears stream"), {}),
    ("cry", _w("tears", "tear"), {"level": 0.45}),
    ("scream", _v("scream", "shriek", "howl", "cry out", "screech", "wail"), {}),
    ("shout", _v("shout", "yell", "bellow", "holler", "roar", "call out", "snap at"), {}),
    ("startle", _v("jolt", "give a start", "jump out of her skin", "jump out of his skin", "jump in fright",
                   "jump in alarm"), {}),
    ("blink", _v("blink"), {}),
    ("blink", _w("blinks rapidly", "blinks hard", "blink of an eye"), {}),
    ("wink", _v("wink"), {}),
    ("eyes_narrow", _v("squint", "squinch"), {}),
    ("nod", _v("nod", "nod yes", "bob head", "dip head"), {}),
    ("nod", _w("nods her head", "nods his head", "nods their head", "nod of the head", "nodding along",
               "small nod", "slight nod", "a nod"), {}),
    ("head_shake", _w("shakes her head", "shakes his head", "shakes their head", "shaking her head",
                      "shaking his head", "shook her head", "shook his head", "shake of the head",
                      "head shake"), {}),
    ("shrug_face", _v("shrug"), {}),
    ("gulp", _v("gulp", "swallow", "swallow hard"), {}),
    ("raspberry", _w("raspberry", "blows a raspberry", "blow a raspberry", "blowing a raspberry"), {}),
    ("gaze", _w("eye contact", "makes eye contact", "making eye contact", "holds eye contact", "keeps eye contact",
                "meets her gaze", "meets his gaze", "meets their gaze", "meets the gaze", "meets the camera",
                "meets the viewer's gaze", "meets the lens", "holds her gaze", "holds his gaze",
                "looks him in the eye", "looks her in the eye", "looks them in the eye", "looks you in the eye",
                "looks us in the eye", "looks him in the eyes", "looks her in the eyes", "looks into his eyes",
                "looks into her eyes", "looks into the camera", "looks into the lens", "direct gaze",
                "directly at the camera", "straight into the camera", "straight at the camera", "to camera",
                "at camera"), {"dirs": ("center",)}),
    ("gaze", _w("avoids eye contact", "avoiding eye contact", "avoid eye contact", "avoided eye contact",
                "breaks eye contact", "breaking eye contact", "broke eye contact", "avoids his gaze",
                "avoids her gaze", "avoids their gaze", "avoids the camera", "avoiding his gaze",
                "avoiding her gaze", "avoiding the camera", "will not meet his eyes", "will not meet her eyes",
                "can not meet his eyes", "can not meet her eyes", "does not meet his eyes", "does not meet her eyes",
                "does not meet the camera", "averted eyes", "averted gaze",
                "eyes averted", "gaze averted", "shifty eyes", "shifty eyed", "evasive eyes", "sidelong glance",
                "sideways glance", "side eye", "side eyes", "side eyeing", "furtive glance"),
     {"dirs": ("away",), "side_glance": True}),
    ("gaze", _w("downcast eyes", "eyes downcast", "downcast gaze", "gaze downcast", "lowered eyes", "eyes lowered",
                "lowered gaze", "gaze lowered"), {"dirs": ("down",)}),
    ("gaze", _w("thousand yard stare", "far away look", "faraway look", "distant look", "distant gaze",
                "unfocused gaze", "vacant stare", "blank stare", "stares blankly", "staring blankly",
                "staring into space", "stares into space", "gazes into space", "lost in space"),
     {"dirs": ("center",)}),
    ("neutral", _w("deadpan", "poker face", "poker faced", "straight face", "straight faced", "blank face",
                   "blank expression", "expressionless", "impassive face", "stone faced", "stony faced",
                   "stony face", "neutral face", "neutral expression", "emotionless face", "vacant expression",
                   "no expression", "resting face", "relaxed face", "relaxed expression", "at rest", "neutral pose",
                   "rest pose", "default expression", "blank look", "empty expression", "flat expression",
                   "flat affect", "composed face", "calm face", "unreadable expression", "unreadable face"), {}),
    ("lips_press", _w("thin line", "hard line", "tight line", "straight line", "flat line", "grim line",
                      "firm line", "thin hard line", "thin, hard line", "compressed line", "tight lipped",
                      "thin lipped", "tight lips", "tight lip", "pursed lips"), {"level": 0.7, "modifies_next": 0.4}),
    ("jaw_open", _w("open mouthed", "slack jawed", "jaw dropping", "jaw dropped", "mouth agape", "agape",
                    "gaping mouth", "mouth open", "open mouth", "gobsmacked", "mouth ajar"), {"level": 0.6}),
    ("eyes_wide", _w("wide eyed", "bug eyed", "pop eyed", "saucer eyed", "eyes like saucers", "deer in headlights",
                     "deer in the headlights", "goggle eyed", "owl eyed"), {"level": 0.85}),
    ("eyes_droop", _w("heavy lidded", "droopy eyed", "sleepy eyed", "bleary eyed", "half lidded", "hooded eyes",
                      "bedroom eyes", "glassy eyed", "dozy", "nodding off", "dozing off", "drowsy eyes",
                      "sleepy eyes", "tired eyes", "heavy eyes", "heavy eyelids", "heavy lids"), {}),
    ("eyes_crinkle", _w("crow's feet", "laugh lines", "laughter lines", "smile lines", "smiling eyes",
                        "eyes that smile", "happy eyes", "twinkle in her eye", "twinkle in his eye",
                        "twinkle in her eyes", "twinkle in his eyes", "sparkle in her eyes", "sparkle in his eyes"),
     {}),
    ("brow_knit", _w("crease between the brows", "crease between her brows", "crease between his brows",
                     "line between the brows", "line between her brows", "line between his brows",
                     "lines between the brows", "lines between her brows", "lines between his brows",
                     "furrow between the brows", "furrow between her brows", "furrow between his brows",
                     "wrinkle between the brows", "wrinkle between her brows", "wrinkle between his brows",
                     "crease between her eyes", "crease between his eyes", "furrowed brow", "furrowed brows",
                     "knotted brow", "knotted brows", "brow furrow", "knitted brow", "knitted brows"), {}),
    ("brow_worried", _w("puppy dog eyes", "puppy eyes", "pleading eyes", "doe eyes", "sad eyes", "worried eyes",
                        "worried brows", "worried brow", "anxious brows", "worry lines", "worried look"),
     {"level": 0.7}),
    ("face_scrunch", _w("scrunched up face", "scrunched face", "screwed up face", "scrunches up her face",
                        "scrunches up his face", "scrunches her face", "scrunches his face",
                        "screws up her face", "screws up his face"), {}),
    ("face_light_up", "[her|his|their|the] (face lights up|face lit up|lights up|lit up|face brightens)", {}),
    ("face_fall", "[her|his|their|the] (face falls|face fell|face falling|face drops|face dropped|crestfallen look)",
     {}),
    ("cheek_puff", _w("chipmunk cheeks", "puffed cheeks", "puffy cheeks", "puffed out cheeks", "blowfish face",
                      "blows out her cheeks", "blows out his cheeks"), {}),
    ("tongue_out", _w("sticks out her tongue", "sticks out his tongue", "sticks out their tongue",
                      "stick out her tongue", "stick out his tongue", "sticks her tongue out",
                      "sticks his tongue out", "sticks their tongue out", "sticking her tongue out",
                      "sticking his tongue out", "tongue out", "tongue sticking out", "pokes out her tongue",
                      "pokes out his tongue", "pokes her tongue out", "pokes his tongue out"), {}),
    ("funnel", _w("o shape", "an o", "o mouth", "oh shape", "says oh", "mouths oh", "mouthing oh", "ooh",
                  "oooh", "whoa face"), {}),
    ("bare_teeth", _w("bared teeth", "teeth bared", "shows her teeth", "shows his teeth", "showing teeth",
                      "showing her teeth", "showing his teeth"), {}),
    ("clench", _w("clenched teeth", "gritted teeth", "teeth clenched", "teeth gritted", "through gritted teeth",
                  "through clenched teeth", "clenched jaw", "tight jaw", "set jaw", "jaw set", "jaw clenched",
                  "grits her teeth", "grits his teeth", "clenches her teeth", "clenches his teeth",
                  "clenches her jaw", "clenches his jaw"), {}),
    ("chin_raise", _w("quivering chin", "trembling chin", "wobbly chin", "chin quivers", "chin trembles",
                      "chin wobbles", "chin puckers", "chin dimples"), {}),
    ("head_down", _w("head bowed", "bowed head", "head down", "head hung", "hangs her head", "hangs his head",
                     "hanging her head", "hanging his head", "looks at her feet", "looks at his feet", "chin tucked",
                     "tucks her chin", "tucks his chin", "chin down", "chin to chest"), {"level": 0.6}),
    ("head_up", _w("head high", "head held high", "chin up", "nose in the air", "chin held high",
                   "tips her head back", "tips his head back", "tilts her head back", "tilts his head back",
                   "throws her head back", "throws his head back", "head thrown back"), {"level": 0.6}),
)

# -------------------------------------------------------------------------------------------------- frames
@dataclass(frozen=True)
class Frame:
    """A rule: a part (any of ``parts``) with a predicate (any of ``preds``, ``None`` = any) and, when ``dirs``
    is given, one of those directions, is action ``action`` (at ``level`` when given)."""

    parts: frozenset[str]
    preds: frozenset[str] | None
    action: str
    dirs: frozenset[str] | None = None
    level: float | None = None
    set_dirs: tuple[str, ...] = ()
    side: str | None = None


def _f(parts: str, preds: str | None, action: str, dirs: str | None = None, *, level: float | None = None,
       set_dirs: tuple[str, ...] = (), side: str | None = None) -> Frame:
    return Frame(frozenset(parts.split()), frozenset(preds.split()) if preds else None, action,
                 frozenset(dirs.split()) if dirs else None, level, set_dirs, side)


_LOOK = "look move turn fix avert stare raise lower droop roll throw tilt"
#: Part + predicate (+ direction) -> action, first match wins.
FRAMES: tuple[Frame, ...] = (
    # brows
    _f("brows forehead outer_brows inner_brows", "tilt twitch", "brow_quirk"),
    _f("brows forehead", "raise move", "brow_raise", "up"),
    _f("brows forehead", "raise", "brow_raise"),
    _f("brows", "arch", "brow_arch"),
    _f("forehead", "wrinkle furrow knit tighten", "brow_raise"),
    _f("brows", "furrow", "brow_lower"),
    _f("brows", "lower droop turn_down move", "brow_lower", "down"),
    _f("brows", "knit tighten wrinkle squeeze press harden", "brow_knit"),
    _f("brows inner_brows", "worry", "brow_worried"),
    _f("inner_brows", "raise arch move", "brow_inner_raise"),
    _f("inner_brows", "lower knit furrow tighten press", "brow_knit"),
    _f("outer_brows", "raise arch move", "brow_outer_raise"),
    _f("outer_brows", "lower droop turn_down", "brow_worried", level=0.4),
    # lids
    _f("eyes eyelids", "widen", "eyes_wide"),
    _f("eyelids", "raise open", "eyes_wide", level=0.45),
    _f("eyes eyelids", "narrow tighten", "eyes_narrow"),
    _f("eyes eyelids", "squeeze", "eyes_squeeze"),
    _f("eyes eyelids", "close", "eyes_close"),
    _f("eyes eyelids", "open", "eyes_open"),
    _f("eyelids", "lower droop", "eyes_droop"),
    _f("eyes", "droop", "eyes_droop"),
    _f("eyes eyelids", "blink", "blink"),
    _f("eyes eyelids", "flutter", "eyes_flutter"),
    _f("eyes", "crinkle", "eyes_crinkle"),
    _f("eyes", "soften", "eyes_soften"),
    _f("eyes", "tear", "eyes_tear"),
    _f("eyes", "light_up", "eyes_light"),
    _f("eyes", "roll", "eye_roll"),
    _f("eyes", "worry", "brow_worried", level=0.6),
    # gaze
    _f("eyes gaze", "raise", "gaze_soft", "up", set_dirs=("up",)),
    _f("eyes gaze", _LOOK, "gaze", "left right up down away center back forward"),
    _f("eyes gaze", "lower", "gaze", set_dirs=("down",)),
    _f("gaze", "droop", "gaze", set_dirs=("down",)),
    _f("eyes gaze", "avert", "gaze", set_dirs=("away",)),
    _f("eyes gaze", "fix", "gaze", set_dirs=("center",)),
    _f("eyes gaze", "stare", "stare"),
    # mouth
    _f("mouth", "open widen", "jaw_open"),
    _f("mouth", "slacken", "jaw_open", level=0.5),
    _f("mouth", "lower", "jaw_open"),
    _f("mouth lips", "close", "mouth_close"),
    _f("mouth lips", "press tighten clench", "lips_press"),
    _f("mouth lips", "stretch", "mouth_stretch"),
    _f("mouth lips", "pucker protrude", "pucker"),
    _f("mouth lips", "purse", "lips_purse"),
    _f("mouth lips", "round", "funnel"),
    _f("mouth", "twist move", "mouth_side", "left right away"),
    _f("mouth", "twist", "smirk", level=0.45),
    _f("mouth lips mouth_corners", "raise", "smile"),
    _f("mouth lips mouth_corners", "turn_down droop lower", "mouth_frown"),
    _f("mouth lips", "tremble shake", "lips_tremble"),
    _f("mouth lips", "bare", "bare_teeth"),
    _f("lips", "part open slacken", "lips_part"),
    _f("lips", "roll_in suck", "lips_roll"),
    _f("lips mouth", "roll suck press move", "lips_roll", "in"),
    _f("lips", "curl twitch", "upper_lip_raise", level=0.5),
    _f("lips lower_lip", "bite", "lip_bite"),
    _f("lips", "lick", "lick_lips"),
    _f("upper_lip", "raise curl twitch", "upper_lip_raise"),
    _f("upper_lip", "roll_in bite suck", "upper_lip_roll"),
    _f("lower_lip", "lower turn_down", "lower_lip_down"),
    _f("lower_lip", "protrude pucker", "lower_lip_out"),
    _f("lower_lip", "tremble shake", "lips_tremble"),
    _f("lower_lip", "roll_in suck", "lip_bite"),
    _f("mouth_corners", "tighten stretch press", "dimple"),
    _f("mouth_corners", "twitch", "smirk", level=0.3),
    _f("dimples", "appear bare deepen", "dimple"),
    _f("dimples", None, "dimple"),
    # jaw, chin, teeth, tongue
    _f("jaw", "lower open slacken widen turn_down", "jaw_open"),
    _f("jaw", "clench tighten fix harden press", "clench"),
    _f("jaw", "protrude", "jaw_forward"),
    _f("jaw", "move twist turn", "jaw_side", "left right"),
    _f("jaw", "move", "jaw_forward", "forward"),
    _f("chin", "raise tighten tremble wrinkle shake twitch", "chin_raise"),
    _f("chin", "lower bow droop", "head_down", level=0.45),
    _f("chin", "move tilt", "head_up", "up"),
    _f("chin", "move tilt", "head_down", "down"),
    _f("chin", "protrude", "jaw_forward"),
    _f("teeth", "clench tighten press fix", "clench"),
    _f("teeth", "bare open part", "bare_teeth"),
    _f("tongue", "protrude bare move", "tongue_out"),
    _f("tongue", "lick", "lick_lips"),
    # cheeks, nose
    _f("cheeks", "puff widen", "cheek_puff"),
    _f("cheeks", "raise tighten", "cheek_raise"),
    _f("cheeks", "suck roll_in", "cheeks_suck"),
    _f("nose", "wrinkle crinkle squeeze twitch furrow knit", "nose_wrinkle"),
    _f("nostrils nose", "flare widen", "nostril_flare"),
    # head
    _f("head face", "turn look move tilt", "head_center", "center"),
    _f("head", "tilt move", "head_roll", "left right"),
    _f("head", "tilt throw raise move", "head_up", "up back"),
    _f("head", "tilt lower bow move droop", "head_down", "down forward"),
    _f("head", "tilt", "head_roll"),
    _f("head", "turn avert", "head_yaw", "left right away"),
    _f("head", "turn", "head_up", "up"),
    _f("head", "turn", "head_down", "down"),
    _f("head", "turn avert", "head_yaw"),
    _f("head", "raise throw", "head_up"),
    _f("head", "lower bow droop", "head_down"),
    _f("head", "shake", "head_shake"),
    _f("head", "look", "head_yaw", "left right"),
    # whole face
    _f("face", "turn avert", "head_yaw", "left right away"),
    _f("face", "tilt raise", "head_up", "up"),
    _f("face", "tilt lower", "head_down", "down"),
    _f("face", "tilt", "head_roll"),
    _f("face", "wrinkle squeeze tighten", "face_scrunch"),
    _f("face", "contort twist", "grimace"),
    _f("face", "light_up", "face_light_up"),
    _f("face", "lower droop", "face_fall"),
    _f("face", "harden", "face_harden"),
    _f("face", "pale", "face_pale"),
)

#: Actions an action word becomes when it names a part ("her eyes smile", "a frowning mouth", "winks the left eye").
ACT_VARIANTS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "smile": {"eyes": "eyes_crinkle", "mouth_corners": "smile", "lips": "smile", "mouth": "smile"},
    "frown": {"mouth": "mouth_frown", "lips": "mouth_frown", "mouth_corners": "mouth_frown", "brows": "frown",
              "forehead": "frown"},
    "blink": {"eyes": "blink", "eyelids": "blink"},
    "wink": {"eyes": "wink", "eyelids": "wink"},
    "eyes_narrow": {"eyes": "eyes_narrow", "eyelids": "eyes_narrow"},
    "pout": {"lips": "pout", "lower_lip": "lower_lip_out", "mouth": "pout"},
    "smirk": {"mouth_corners": "smirk", "mouth": "smirk", "lips": "smirk"},
    "grin": {"mouth": "grin", "mouth_corners": "grin", "lips": "grin"},
    "sneer": {"upper_lip": "sneer", "lips": "sneer", "nose": "sneer"},
    "nod": {"head": "nod"},
    "cry": {"eyes": "eyes_tear"},
    "laugh": {"eyes": "eyes_crinkle"},
})  # fmt: skip

#: Words that carry no meaning for binding distances (articles, pronouns, auxiliaries, manner adverbs).
FILLERS = frozenset({
    "the", "her", "his", "their", "its", "a", "an", "my", "your", "our", "this", "that", "these", "those", "she",
    "he", "they", "it", "i", "we", "you", "him", "them", "is", "are", "was", "were", "be", "been", "being", "am",
    "has", "have", "had", "do", "does", "did", "get", "gets", "got", "becomes", "become", "became", "seem", "seems",
    "seemed", "'s", "slowly", "quickly", "suddenly", "gradually", "briefly", "momentarily", "instantly",
    "immediately", "abruptly", "sharply", "at", "of", "up", "out", "in", "on", "to", "too", "also", "just", "only",
    "both", "each", "either", "own", "will", "would", "can", "could", "may", "might", "begins", "starts",
    "begin", "start", "beginning", "starting", "tries", "try", "trying", "again", "almost", "so", "then", "now",
    "once", "more", "somehow", "all", "who", "which", "upon",
})  # fmt: skip


def lexicon_entries() -> list[Entry]:
    """Tagger entries for parts, predicates and action words (in that priority order on ties)."""
    entries: list[Entry] = []
    for part in _PARTS:
        for pattern in part.patterns:
            entries.append(Entry("part", part.id, pattern, {"regions": part.regions}))
    for pred_id, direction, pattern, data in _PREDICATES:
        entries.append(Entry("pred", pred_id, pattern, {"dir": direction, **data}))
    for act_id, pattern, data in _ACTS:
        entries.append(Entry("act", act_id, pattern, data))
    return entries


def structure_entries() -> list[Entry]:
    """Clause boundaries, coordination and "into" (the binder's structural words)."""
    return [
        Entry("bound", "bound", "(but|while|whilst|whereas|although|though|yet|then|before|after|until|as|when|meanwhile|however|instead|so|because|since|once|and then|and yet|even as|only to|as if|as though|at the same time|at first|finally|eventually|afterwards|later|next)"),
        Entry("soft", "and", "(and|,|&|plus|as well as|along with)"),
        Entry("soft", "or", "(or|nor|and/or)"),
        Entry("into", "into", "(into|in to|turning into|becomes a|becoming a|breaks into|break into|breaking into|melts into|melting into|dissolves into|dissolving into|settles into|settling into|twists into|forms a|form a|forming a|into a|into an|in a|in an)"),
    ]


def find_action(part: str, pred: str | None, dirs: Iterable[str]) -> Frame | None:
    """The first :data:`FRAMES` rule for this part, predicate and directions, or ``None``."""
    dir_set = set(dirs)
    for frame in FRAMES:
        if part not in frame.parts:
            continue
        if frame.preds is not None and (pred is None or pred not in frame.preds):
            continue
        if frame.preds is None and pred is not None:
            continue
        if frame.dirs is not None and not (frame.dirs & dir_set):
            continue
        return frame
    return None
