"""Emotion knowledge: FACS action units, emotion prototypes and the words that name emotions.

AU -> ARKit mapping: reference/FACS.md, "Action Units and the ARKit blendshapes that express them" (Melinda Ozel's
ARKit-to-FACS cheat sheet). The value of each channel at full AU intensity is this project's calibration, anchored
on reference/FACS.md "Magnitudes seen in practice" (joy ~ mouthSmile 0.8 / cheekSquint 0.6; eyeWide capped near
0.45; jaw closed in sadness).

Prototypes (AU -> weight at the most intense form; ``"14R"`` = right side only):

* Basic emotions: Ekman & Friesen, FACS manual Table 11-1, and the EMFACS-style set, both as quoted in
  reference/FACS.md. Where they differ the two are merged and the weight says how central an AU is.
* Compound emotions: Du, Tao & Martinez 2014 (PNAS), as quoted in reference/FACS.md (marked [unverified] there,
  except happily surprised = 1+2+12+25).
* Everything else (anxiety, confusion, tiredness, pain, shame, pride ...) is **this project's** composition from
  the AUs above, named as such in :data:`PROTOTYPE_SOURCES`; pain follows Prkachin (1992: AUs 4, 6/7, 9/10, 43) and
  embarrassment Keltner (1995: gaze down, controlled smile), neither of which is quoted in reference/FACS.md.

A prototype at level ``s`` gives ``channel = AU value x weight x s`` (the maximum over AUs that share a channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from .. import rig
from .tagger import Entry

__all__ = [
    "AU_CHANNELS",
    "CHINESE_EMOTION_WORDS",
    "EMOTION_WORDS",
    "PROTOTYPES",
    "PROTOTYPE_SOURCES",
    "RESET_ALL",
    "emotion_entries",
    "prototype_regions",
    "prototype_vector",
]


def _expand(spec: Mapping[str, float]) -> dict[str, float]:
    return rig.expand_sides(spec, table="emotion tables")


#: ARKit channel values of each AU at full intensity (FACS.md mapping; values are this project's calibration).
AU_CHANNELS: Mapping[int, Mapping[str, float]] = MappingProxyType({
    1: _expand({"BrowInnerUp": 0.8}),
    2: _expand({"BrowOuterUp*": 0.75}),
    4: _expand({"BrowDown*": 0.8}),
    5: _expand({"EyeWide*": 0.45}),  # FACS.md: presets cap eyeWide near 0.45
    6: _expand({"CheekSquint*": 0.6, "EyeSquint*": 0.3}),
    7: _expand({"EyeSquint*": 0.6}),
    9: _expand({"NoseSneer*": 0.7, "MouthUpperUp*": 0.15}),
    10: _expand({"MouthUpperUp*": 0.6}),
    12: _expand({"MouthSmile*": 0.85}),
    14: _expand({"MouthDimple*": 0.6}),
    15: _expand({"MouthFrown*": 0.7}),
    16: _expand({"MouthLowerDown*": 0.5}),
    17: _expand({"MouthShrugLower": 0.6, "MouthShrugUpper": 0.2}),
    18: _expand({"MouthPucker": 0.7}),
    20: _expand({"MouthStretch*": 0.6}),
    22: _expand({"MouthFunnel": 0.6}),
    23: _expand({"MouthPress*": 0.4}),  # lip tightener: ARKit has no own shape; mouthPress is the closest
    24: _expand({"MouthPress*": 0.6}),
    25: _expand({"JawOpen": 0.1, "MouthLowerDown*": 0.15}),  # FACS.md: AU25 = small jawOpen and/or lowerDown
    26: _expand({"JawOpen": 0.4}),
    27: _expand({"JawOpen": 0.8}),
    28: _expand({"MouthRollLower": 0.6, "MouthRollUpper": 0.5}),
    43: _expand({"EyeBlink*": 0.9}),
    # The rest of the FACS 2002 codes that an ARKit channel can show (Ekman, Friesen & Hager 2002, ch. 2-9): the
    # channel each names, at this project's calibration of the nearest shape. Codes with no ARKit shape (AU8,
    # AU11, AU21, AU31, AU35, AU37-AU39) are left out.
    13: _expand({"MouthSmile*": 0.35, "CheekPuff": 0.25}),  # sharp lip puller (cheek puffer)
    19: _expand({"TongueOut": 0.7}),  # tongue show
    29: _expand({"JawForward": 0.6}),  # jaw thrust
    32: _expand({"MouthRollLower": 0.5}),  # lip bite: the lower lip drawn in
    33: _expand({"CheekPuff": 0.8}),  # cheek blow
    34: _expand({"CheekPuff": 0.6}),  # cheek puff
    41: _expand({"EyeBlink*": 0.3}),  # lid droop
    42: _expand({"EyeBlink*": 0.6}),  # slit: eyes almost closed
    44: _expand({"EyeSquint*": 0.6}),  # squint (lower lids)
    45: _expand({"EyeBlink*": 1.0}),  # blink: both lids closed for an instant (the apex is shown)
    46: _expand({"EyeBlink*": 1.0}),  # wink: one eye (see technical.UNILATERAL_AUS for the side)
    51: _expand({"HeadYaw": -0.3}),  # head turn to the subject's left
    52: _expand({"HeadYaw": 0.3}),  # head turn to the subject's right
    61: _expand({"EyeLookOutLeft": 0.6, "EyeLookInRight": 0.6}),  # eyes turn to the subject's left
    62: _expand({"EyeLookInLeft": 0.6, "EyeLookOutRight": 0.6}),  # eyes turn to the subject's right
    # FACS.md marks these [unverified]; head values stay small as in real captures (|x| < 0.2).
    53: _expand({"HeadPitch": -0.3}),  # head up (pitch positive = down)
    54: _expand({"HeadPitch": 0.3}),  # head down
    55: _expand({"HeadRoll": -0.3}),  # tilt toward the subject's left
    56: _expand({"HeadRoll": 0.3}),  # tilt toward the subject's right
    63: _expand({"EyeLookUp*": 0.6}),
    64: _expand({"EyeLookDown*": 0.6}),
})  # fmt: skip

_P = dict[str, float]

#: Emotion prototypes: AU (``"12"``, ``"14R"``) -> weight at the emotion's most intense form.
PROTOTYPES: Mapping[str, Mapping[str, float]] = MappingProxyType({
    # --- basic emotions (Ekman & Friesen Table 11-1 / EMFACS, via reference/FACS.md)
    "joy": {"6": 0.8, "12": 1.0, "25": 0.4},  # E&F 6+12+25; EMFACS 6+12
    "sadness": {"1": 0.8, "4": 0.5, "15": 0.8, "17": 0.3},  # 1+4+15 in both; chin raise as in held captures
    "anger": {"4": 1.0, "5": 0.4, "7": 0.8, "23": 0.7, "24": 0.5},  # E&F 4+5+7+24; EMFACS 4+5+7+23
    "surprise": {"1": 1.0, "2": 1.0, "5": 0.8, "26": 0.8},  # 1+2+5+26 in both
    "fear": {"1": 1.0, "2": 0.6, "4": 0.6, "5": 1.0, "7": 0.2, "20": 0.8, "25": 0.6},  # E&F 1+2+4+5+20+25, EMFACS +7
    "disgust": {"9": 0.9, "10": 0.6, "15": 0.4, "16": 0.3, "17": 0.4, "4": 0.3},  # EMFACS 9+15+16; E&F 10+17(+4)
    "contempt": {"12R": 0.5, "14R": 0.8},  # EMFACS 12+R14 (one-sided: the right side, as EMFACS writes it)
    "neutral": {},
    # --- compound emotions (Du, Tao & Martinez 2014, via reference/FACS.md)
    "happily_surprised": {"1": 0.8, "2": 0.8, "12": 0.9, "25": 0.6},
    "happily_disgusted": {"10": 0.6, "12": 0.7, "25": 0.4},
    "sadly_angry": {"4": 0.9, "15": 0.8},
    "sadly_fearful": {"1": 0.9, "4": 0.6, "20": 0.6, "25": 0.5},
    "sadly_surprised": {"1": 0.9, "4": 0.5, "25": 0.5, "26": 0.5},
    "fearfully_surprised": {"1": 1.0, "2": 0.9, "5": 1.0, "20": 0.6, "25": 0.6},
    "fearfully_angry": {"4": 0.9, "20": 0.7, "25": 0.5},
    "angrily_surprised": {"4": 0.8, "25": 0.5, "26": 0.7},
    "angrily_disgusted": {"4": 0.8, "10": 0.7, "17": 0.5},
    "disgustedly_surprised": {"1": 0.8, "2": 0.8, "5": 0.6, "10": 0.6},
    "appalled": {"4": 0.8, "10": 0.8},  # also "hatred" in Du et al.
    "awed": {"1": 0.8, "2": 0.8, "5": 0.6, "25": 0.6},
    # --- this project's compositions (see PROTOTYPE_SOURCES)
    "anxiety": {"1": 0.7, "4": 0.3, "7": 0.15, "20": 0.35, "24": 0.4},
    "confusion": {"4": 0.55, "1": 0.3, "7": 0.25, "55": 0.3},
    "tiredness": {"43": 0.45, "1": 0.15, "25": 0.2, "54": 0.2},
    "boredom": {"43": 0.3, "15": 0.2, "17": 0.3, "54": 0.15},
    "determination": {"4": 0.45, "7": 0.35, "24": 0.55, "17": 0.2},
    "pain": {"4": 0.8, "6": 0.6, "7": 0.7, "9": 0.5, "10": 0.4, "43": 0.3},  # Prkachin 1992
    "shame": {"64": 0.7, "54": 0.5, "1": 0.35, "15": 0.25, "24": 0.2},
    "embarrassment": {"12": 0.35, "24": 0.2, "64": 0.6, "54": 0.3},  # Keltner 1995: controlled smile, gaze down
    "pride": {"53": 0.5, "12": 0.35, "6": 0.1},
    "skepticism": {"2L": 0.6, "4R": 0.3, "7": 0.3, "24": 0.3, "14R": 0.3},
    "interest": {"1": 0.3, "2": 0.3, "5": 0.2, "56": 0.3},
    "thoughtfulness": {"4": 0.25, "63": 0.45, "24": 0.3},
    "tenderness": {"12": 0.55, "6": 0.35, "1": 0.15},
    "relief": {"12": 0.4, "1": 0.25, "25": 0.4, "43": 0.2},
    "excitement": {"6": 0.8, "12": 1.0, "1": 0.5, "2": 0.5, "5": 0.4, "25": 0.6},
    "mischief": {"12L": 0.7, "6": 0.35, "7": 0.3},
    "longing": {"1": 0.5, "12": 0.25, "43": 0.15},
    "sulkiness": {"4": 0.4, "15": 0.45, "17": 0.6, "18": 0.2},
    "defiance": {"4": 0.35, "53": 0.5, "24": 0.4, "17": 0.3},
    "desperation": {"1": 0.9, "4": 0.5, "20": 0.5, "25": 0.4},
    "calm": {"12": 0.12},
    "alertness": {"5": 0.35, "1": 0.2, "2": 0.2},
    "bittersweet": {"1": 0.5, "12": 0.5, "15": 0.2, "6": 0.2},
    "annoyance": {"4": 0.6, "7": 0.4, "24": 0.4, "14R": 0.2},
})  # fmt: skip

#: Where each prototype comes from (shown in explanations).
PROTOTYPE_SOURCES: Mapping[str, str] = MappingProxyType({
    **{k: "Ekman & Friesen Table 11-1 / EMFACS (reference/FACS.md)" for k in
       ("joy", "sadness", "anger", "surprise", "fear", "disgust", "contempt", "neutral")},
    **{k: "Du, Tao & Martinez 2014 compound emotions (reference/FACS.md)" for k in
       ("happily_surprised", "happily_disgusted", "sadly_angry", "sadly_fearful", "sadly_surprised",
        "fearfully_surprised", "fearfully_angry", "angrily_surprised", "angrily_disgusted",
        "disgustedly_surprised", "appalled", "awed")},
    "pain": "Prkachin 1992 pain AUs (not in reference/FACS.md)",
    "embarrassment": "Keltner 1995 (not in reference/FACS.md) composed from FACS.md AUs",
})  # fmt: skip

#: Emotions that reset the whole face before applying (a "blank, neutral" face).
RESET_ALL = frozenset({"neutral"})

# ------------------------------------------------------------------------------------------------- vocabulary
# word pattern -> (emotion, strength at the word's own intensity). Strengths follow the words' ordinary
# gradation ("content" < "happy" < "delighted" < "ecstatic").
EMOTION_WORDS: tuple[tuple[str, str, float], ...] = (
    ("(content|contented|contentment|satisfied|pleased|amused|amusement|cheerful|cheerfully|cheery)", "joy", 0.45),
    ("(happy|happily|happiness|glad|gladly|joy|joyful|joyfully|joyous|merry|jolly|grateful|gratefully|good mood)", "joy", 0.6),
    ("(delight|delighted|delightedly|gleeful|gleefully|glee|elated|elation|thrilled|overjoyed|jubilant|radiant with joy)", "joy", 0.8),
    ("(ecstatic|ecstasy|euphoric|euphoria|blissful|bliss|rapturous|over the moon)", "joy", 0.95),
    ("(excited|excitedly|excitement|eager|eagerly|enthusiastic|enthusiastically)", "excitement", 0.6),
    ("(sad|sadly|sadness|unhappy|unhappily|sorrow|sorrowful|sorrowfully|melancholy|melancholic|gloomy|glum)", "sadness", 0.6),
    ("(downcast|dejected|dejectedly|despondent|forlorn|crestfallen|disappointed|disappointment|hurt|mournful|mournfully)", "sadness", 0.6),
    ("(grief|grieving|grief stricken|heartbroken|heartbreak|devastated|devastation|miserable|misery|anguish|anguished|despair|despairing|inconsolable|bereft)", "sadness", 0.9),
    ("(wistful|wistfully|nostalgic|nostalgia|longing|yearning|hope|hopeful|hopefully)", "longing", 0.5),
    ("(bittersweet|mixed feelings)", "bittersweet", 0.6),
    ("(annoyed|annoyance|irritated|irritation|irritably|exasperated|exasperation|impatient|impatiently|peeved|vexed|grumpy|cranky|unimpressed)", "annoyance", 0.5),
    ("(angry|angrily|anger|mad|indignant|indignation|resentful|resentment|bitter|bitterly|hostile|hostility|frustrated|frustration|stern|sternly)", "anger", 0.6),
    ("(furious|furiously|fury|rage|raging|enraged|livid|irate|seething|incensed|wrathful|apoplectic|murderous)", "anger", 0.95),
    ("(hatred|hateful|hate|loathing)", "appalled", 0.8),
    ("(uneasy|unease|uneasily|apprehensive|apprehension|wary|warily|tense|tension|on edge|jittery|edgy)", "anxiety", 0.35),
    ("(nervous|nervously|nervousness|nerves|anxious|anxiously|anxiety|worried|worriedly|worry|worrying|concerned|concern|troubled|distressed|distress|stressed|stress)", "anxiety", 0.5),
    ("(afraid|fear|fearful|fearfully|scared|frightened|fright|dread|dreading|timid|spooked)", "fear", 0.6),
    ("(terrified|terror|petrified|panic|panicked|panicking|panic stricken|horror|horrified|horror stricken|mortified|terror stricken|frantic|frantically)", "fear", 0.95),
    ("(surprised|surprise|surprising|surprisedly|startled|taken aback|curious surprise)", "surprise", 0.6),
    ("(astonished|astonishment|amazed|amazement|astounded|shocked|shock|stunned|flabbergasted|dumbfounded|staggered|thunderstruck|disbelief|incredulous|incredulously)", "surprise", 0.85),
    ("(pleasantly surprised|happily surprised|happy surprise|joyful surprise|delighted surprise|pleasant surprise)", "happily_surprised", 0.65),
    ("(fearfully surprised|fearful surprise|alarmed|alarm)", "fearfully_surprised", 0.65),
    ("(sadly surprised|sad surprise)", "sadly_surprised", 0.6),
    ("(angrily surprised|outraged|outrage)", "angrily_surprised", 0.7),
    ("(disgusted|disgust|disgusting|revolted|revulsion|repulsed|repulsion|repelled|grossed out|nauseated|nausea|sickened|queasy)", "disgust", 0.6),
    ("(appalled|aghast)", "appalled", 0.75),
    ("(contempt|contemptuous|contemptuously|scorn|scornful|scornfully|disdain|disdainful|disdainfully|smug|smugly|condescending|condescendingly|sneering|derision|derisive|mocking|mockingly|superior|haughty|haughtily|disapproval|disapproving|disapprovingly)", "contempt", 0.6),
    ("(awe|awed|in awe|awestruck|awe struck|wonder|wonderment|marvel|marvelling|marveling|spellbound)", "awed", 0.65),
    ("(confused|confusion|puzzled|puzzlement|perplexed|bewildered|bewilderment|baffled|quizzical|quizzically|uncertain|unsure|doubt|doubtful|doubtfully)", "confusion", 0.55),
    ("(skeptical|sceptical|skeptically|sceptically|skepticism|scepticism|suspicious|suspiciously|suspicion|distrustful|unconvinced|dubious|dubiously)", "skepticism", 0.55),
    ("(tired|tiredly|tiredness|exhausted|exhaustion|weary|wearily|weariness|fatigue|fatigued|sleepy|sleepily|drowsy|drowsily|drowsiness|groggy|worn out)", "tiredness", 0.55),
    ("(bored|boredom|boring|uninterested|disinterested|indifferent|indifference|apathetic|listless|jaded)", "boredom", 0.5),
    ("(determined|determination|resolute|resolutely|focused|concentration|concentrating|intent|intently|serious|seriously|steely|grim|grimly)", "determination", 0.5),
    ("(pain|painful|pained|in pain|agony|agonized|agonised|hurting|aching|ache|suffering)", "pain", 0.65),
    ("(ashamed|shame|shamefully|guilty|guilt|guiltily|remorse|remorseful|regret|regretful|contrite|humiliated|humiliation)", "shame", 0.6),
    ("(embarrassed|embarrassment|sheepish|sheepishly|shy|shyly|shyness|bashful|bashfully|awkward|awkwardly|flustered|coy|coyly)", "embarrassment", 0.55),
    ("(proud|proudly|pride|triumphant|triumphantly|confident|confidently|confidence|self assured|victorious)", "pride", 0.55),
    ("(curious|curiously|curiosity|interested|intrigued|inquisitive|attentive|attentively)", "interest", 0.55),
    ("(thoughtful|thoughtfully|pensive|pensively|contemplative|reflective|lost in thought|musing|pondering|thinking)", "thoughtfulness", 0.5),
    ("(loving|lovingly|love|tender|tenderly|tenderness|affectionate|affectionately|fond|fondly|adoring|adoringly|warmth|kind|kindly|compassion|compassionate)", "tenderness", 0.6),
    ("(relieved|relief)", "relief", 0.6),
    ("(mischievous|mischievously|mischief|playful|playfully|cheeky|cheekily|sly|slyly|impish|impishly|teasing|teasingly|flirtatious|flirty|flirtatiously|coquettish)", "mischief", 0.6),
    ("(sulky|sulkily|sullen|sullenly|petulant|petulantly|moody|huffy)", "sulkiness", 0.55),
    ("(defiant|defiantly|defiance|stubborn|stubbornly)", "defiance", 0.6),
    ("(desperate|desperately|desperation|pleading|beseeching|imploring|begging|helpless|helplessly|hopeless)", "desperation", 0.6),
    ("(calm|calmly|serene|serenely|serenity|peaceful|peacefully|tranquil|composed|at ease|placid|patient|patience|gentle contentment)", "calm", 0.6),
    ("(alert|alertly|vigilant|watchful|on guard)", "alertness", 0.55),
    ("(neutral|stoic|stoically|impassive|impassively|unmoved|emotionless|deadpan|blank)", "neutral", 0.6),
)

#: Chinese emotion words (matched as substrings in :mod:`keyframeface.semantics.chinese`).
CHINESE_EMOTION_WORDS: tuple[tuple[str, str, float], ...] = (
    ("满足|欣慰|愉快|愉悦", "joy", 0.45),
    ("开心|高兴|快乐|喜悦|欢喜|幸福|快活", "joy", 0.6),
    ("兴高采烈|欣喜若狂|狂喜|乐开了花|心花怒放|非常开心", "joy", 0.9),
    ("兴奋|激动", "excitement", 0.6),
    ("难过|悲伤|伤心|忧伤|哀伤|沮丧|失落|失望|委屈|郁闷", "sadness", 0.6),
    ("悲痛|痛苦万分|心碎|绝望|悲痛欲绝|伤心欲绝", "sadness", 0.9),
    ("生气|愤怒|恼火|气愤|不满|发火", "anger", 0.6),
    ("暴怒|怒不可遏|勃然大怒|大怒|狂怒", "anger", 0.95),
    ("烦躁|不耐烦|烦闷|恼怒", "annoyance", 0.5),
    ("紧张|焦虑|担心|担忧|忧虑|不安|忐忑", "anxiety", 0.5),
    ("害怕|恐惧|惊恐|畏惧|胆怯|惧怕", "fear", 0.6),
    ("惊恐万分|吓坏了|魂飞魄散|毛骨悚然", "fear", 0.95),
    ("惊讶|吃惊|诧异|意外", "surprise", 0.6),
    ("震惊|惊呆|目瞪口呆|大吃一惊|难以置信", "surprise", 0.85),
    ("惊喜", "happily_surprised", 0.65),
    ("厌恶|恶心|嫌弃|反感|作呕", "disgust", 0.6),
    ("轻蔑|不屑|鄙视|蔑视|傲慢|得意|嘲讽|讥讽", "contempt", 0.6),
    ("疑惑|困惑|迷惑|不解|茫然|纳闷", "confusion", 0.55),
    ("怀疑|狐疑|将信将疑", "skepticism", 0.55),
    ("疲惫|疲倦|困倦|犯困|累|困了|昏昏欲睡", "tiredness", 0.55),
    ("无聊|厌倦|百无聊赖", "boredom", 0.5),
    ("坚定|专注|认真|严肃|决然", "determination", 0.5),
    ("疼痛|痛苦|疼", "pain", 0.65),
    ("羞愧|内疚|惭愧|愧疚", "shame", 0.6),
    ("尴尬|害羞|羞涩|腼腆|难为情", "embarrassment", 0.55),
    ("骄傲|自豪|得意洋洋|自信", "pride", 0.55),
    ("好奇|感兴趣", "interest", 0.55),
    ("沉思|若有所思|思考", "thoughtfulness", 0.5),
    ("温柔|慈爱|深情|宠溺", "tenderness", 0.6),
    ("如释重负|松了一口气|释然", "relief", 0.6),
    ("调皮|顽皮|俏皮|狡黠", "mischief", 0.6),
    ("平静|淡定|安详|放松|从容", "calm", 0.6),
    ("面无表情|冷漠|木然|毫无表情", "neutral", 0.6),
    ("敬畏|惊叹", "awed", 0.65),
)


def emotion_entries() -> list[Entry]:
    """Tagger entries (kind ``emo``) for the English emotion words."""
    return [Entry("emo", emotion, pattern, {"strength": strength}) for pattern, emotion, strength in EMOTION_WORDS]


def _proto_values(name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for au_key, weight in PROTOTYPES[name].items():
        side = au_key[-1] if au_key[-1] in "LR" else ""
        au = int(au_key.rstrip("LR"))
        for channel, value in AU_CHANNELS[au].items():
            if side == "L" and channel.endswith("Right"):
                continue
            if side == "R" and channel.endswith("Left"):
                continue
            v = value * weight
            if abs(v) > abs(out.get(channel, 0.0)):
                out[channel] = v
    return out


_PROTO_ARRAYS: dict[str, np.ndarray] = {}
for _name in PROTOTYPES:
    _arr = np.zeros(rig.NUM_CHANNELS, dtype=np.float32)
    for _ch, _v in _proto_values(_name).items():
        _arr[rig.CHANNEL_INDEX[_ch]] = _v
    _arr.setflags(write=False)
    _PROTO_ARRAYS[_name] = _arr


def prototype_vector(name: str, level: float) -> np.ndarray:
    """(61,) float32 values of emotion ``name`` at ``level`` in [0, 1]."""
    return (_PROTO_ARRAYS[name] * np.float32(level)).astype(np.float32)


def prototype_regions(name: str) -> tuple[str, ...]:
    """The rig groups an emotion's prototype touches (all face groups for :data:`RESET_ALL` emotions)."""
    if name in RESET_ALL:
        return ("brows", "eyes", "cheeks", "nose", "jaw", "mouth", "tongue")
    arr = _PROTO_ARRAYS[name]
    groups: list[str] = []
    for i in np.nonzero(arr)[0]:
        g = rig.group_of(rig.CHANNELS[int(i)])
        if g not in groups:
            groups.append(g)
    return tuple(groups)
