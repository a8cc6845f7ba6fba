"""Chinese descriptions: common facial actions, intensities, negation, carry-over and emotions.

Chinese has no spaces and puts most of an action in one compact phrase (皱眉 "knit the brows", 眨左眼 "wink the
left eye", 向左看 "look left"), so each entry here is a whole action with its side or direction captured by a named
group. The entries produce the same tags as the English tagger, over tokens that are single characters, so the
same binder (:mod:`keyframeface.semantics.binding`) scopes intensity (轻微, 稍微, 非常 ...), negation (不, 没有,
不再 ...), carry-over (仍然, 保持 ...) and mode words (消失, 放松, 加深 ...).

Sides: 左/右 are the subject's own left/right, as in English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .emotions import CHINESE_EMOTION_WORDS
from .intensity import FAINT, MAXIMUM, SLIGHT, STRONG, TRACE
from .tagger import Tag, Token

__all__ = ["has_cjk", "tag_chinese"]

#: Traditional characters of the facial vocabulary -> simplified, one for one (offsets stay the same), so
#: 皺起眉頭 reads as 皱起眉头 (conversion pairs as in the Unicode Unihan kSimplifiedVariant data).
_TRADITIONAL = str.maketrans("皺頭瞇轉點張開閉睜揚淚邊側這著緊鬆驚訝難過傷憤悅樂氣顫嘆齒臉額視線對從後兩隻雙輕極們個麼沒無還繼續變漸於為發現頰淺帶齜聳搖擺頸鬱憂慮懼厭惡歡興奮嚇淚嗎將讓許說聽見覺愛鎖蹙瞪盯顯彎鬍", "皱头眯转点张开闭睁扬泪边侧这着紧松惊讶难过伤愤悦乐气颤叹齿脸额视线对从后两只双轻极们个么没无还继续变渐于为发现颊浅带龇耸摇摆颈郁忧虑惧厌恶欢兴奋吓泪吗将让许说听见觉爱锁蹙瞪盯显弯胡")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EYE = "(?:双)?眼(?:睛)?"
_MOUTH = "嘴(?:巴|唇)?"
_DIRS = {"左": "left", "右": "right", "上": "up", "下": "down"}
_SIDES = {"左": "left", "右": "right"}

# (kind, value, regex, data). Order matters: earlier entries win at the same position (longest-first by hand).
# "{S}" captures a side (左/右), "{D}" a direction (左/右/上/下).
_ENTRIES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    # ---- laughing and smiling
    ("act", "laugh", "开怀大笑|放声大笑|哈哈大笑|捧腹大笑|仰天大笑|笑得前仰后合|笑出了?眼泪", {"level": 0.92}),
    ("act", "laugh", "大笑|狂笑|笑出声来?|哈哈笑|笑哈哈|爽朗地笑|咯咯笑|呵呵笑", {"level": 0.85}),
    ("act", "grin", "咧开?嘴而?笑|咧着嘴笑|露齿而?笑|露出牙齿笑|龇牙笑|咧嘴", {}),
    ("act", "smirk", "冷笑|坏笑|邪笑|奸笑|嗤笑|讥笑|嘲笑|歪嘴一?笑|似笑非笑|嘴角一[边侧]上扬|一[边侧]嘴角上扬|单边嘴角上扬|{S}(?:边|侧)?嘴角上扬|嘴角{S}(?:边|侧)上扬", {}),
    ("act", "smile", "苦笑", {"level": 0.35, "quality": 0.2}),
    ("act", "smile", "假笑|强颜欢笑|勉强地?(?:微笑|笑)|皮笑肉不笑|干笑|礼貌地?(?:微笑|笑)|客套地?笑", {"level": 0.45, "quality": 0.2}),
    ("act", "smile", "浅笑|淡淡一笑|抿嘴一?笑|嫣然一笑|莞尔一?笑?|会心一笑", {"level": 0.35}),
    ("act", "smile", "微笑|含笑|笑意|笑盈盈|笑眯眯", {"level": 0.45}),
    ("act", "smile", "嘴角(?:微微)?上扬|嘴角(?:向上)?翘起|嘴角上翘|扬起嘴角|嘴角上挑|嘴角弯起", {"level": 0.45}),
    ("act", "smile", "笑容|笑脸|一笑|笑了?|笑着|笑", {}),
    # ---- brows
    ("act", "brow_quirk", "{S}(?:边|侧)?眉毛?(?:挑起|扬起|上扬|抬起|一挑)|挑起{S}(?:边|侧)?眉毛?|单边挑眉|挑起一边眉毛?|一边眉毛(?:挑起|扬起|上扬)", {}),
    ("act", "brow_lower", "眉头紧锁|紧锁(?:着)?眉头|眉心紧蹙|紧皱眉头|眉头紧皱|横眉怒目|横眉", {"level": 0.85}),
    ("act", "brow_lower", "皱了?皱眉头?|皱[起着]?眉头?|眉头[一微]?皱|锁眉|蹙眉|蹙起眉头|颦眉|皱眉", {}),
    ("act", "brow_raise", "眉毛高高(?:扬起|挑起|抬起)|高高(?:扬起|挑起|抬起)眉毛", {"level": 0.85}),
    ("act", "brow_raise", "挑了?挑眉毛?|挑起眉毛|挑起眉头|挑眉|扬起?眉毛?|眉毛(?:扬起|上扬|挑起|抬起|竖起)|抬起眉毛|眉毛?一挑|眉飞色舞", {}),
    ("act", "brow_worried", "眉头上扬|八字眉|眉心上抬|眉梢下垂|愁眉", {}),
    ("act", "brow_lower", "(?:眉头|眉毛)(?:舒展|松开|放松)|舒展(?:开)?眉头|松开眉头", {"mode": "relax"}),
    # ---- eyes
    ("act", "wink", "{S}眼(?:睛)?眨了?(?:一下|一眨)?|眨了?(?:一下)?{S}眼(?:睛)?|{S}眼(?:睛)?(?:闭|合)了?(?:一下)", {}),
    ("act", "wink", "单眼眨|眨了?(?:一下)?一只眼(?:睛)?|挤眉弄眼|使了?个?眼色|抛了?个?媚眼|眨眼示意", {}),
    ("act", "blink", "眨了?眨眼(?:睛)?|眨了?(?:一下)?眼(?:睛)?|眨眼", {}),
    ("act", "eyes_squeeze", f"紧紧闭上{_EYE}|使劲闭上?{_EYE}|紧闭{_EYE}|{_EYE}紧闭", {}),
    ("act", "eyes_close", "闭[上起着]?了?{S}眼(?:睛)?|{S}眼(?:睛)?闭[上着]?", {}),
    ("act", "eyes_close", f"闭[上起着]?了?{_EYE}|{_EYE}闭[上着]?|合上{_EYE}|闭目|闭眼", {}),
    ("act", "eyes_wide", f"睁大了?{_EYE}|瞪大了?{_EYE}|瞪圆了?{_EYE}|双眼圆睁|圆睁双眼|{_EYE}(?:睁|瞪)得(?:大大|老大|很大|圆圆)的?|瞪[着]?眼(?:睛)?|睁大", {}),
    ("act", "eyes_droop", "(?:眼皮|眼睑)(?:下垂|沉重|耷拉)|睡眼惺忪|眼神迷离", {}),
    ("act", "eyes_close", f"半闭着?{_EYE}|{_EYE}半[闭睁]", {"level": 0.5}),
    ("act", "eyes_narrow", f"眯[起着了]?{_EYE}|眯眼|眯缝着眼|眼睛眯(?:起来|成一条缝)", {}),
    ("act", "eyes_open", f"睁开了?{_EYE}|睁眼", {}),
    ("act", "eye_roll", "翻了?个?白眼", {}),
    ("act", "eyes_tear", "眼眶(?:湿润|泛红)|热泪盈眶|眼含泪水|含泪", {}),
    # ---- gaze
    ("act", "gaze", "(?:向|往|朝){D}(?:边|方|面)?(?:看|望|瞟|瞄|瞥|张望|看去)|看向{D}(?:边|方|面)?|(?:眼睛|目光|视线|眼神)(?:移|转|飘|瞟)?向{D}(?:边|方)?|{D}顾", {}),
    ("act", "gaze", "低头看|俯视|往下瞧|垂下(?:眼睛|眼帘|目光|视线|眼睑|眼)|目光低垂|视线(?:下垂|低垂)|垂眸|低眉", {"dirs": ("down",)}),
    ("act", "gaze", "仰望|抬眼|抬起眼睛|抬头看|望向天空", {"dirs": ("up",)}),
    ("act", "gaze", "眼神(?:躲闪|飘忽|游离)|移开了?(?:目光|视线)|避开了?(?:目光|视线)|不敢直视|斜眼|斜视|瞟了一眼", {"dirs": ("away",)}),
    ("act", "gaze", "看着镜头|直视(?:镜头|前方|对方)?|目视前方|盯着(?:镜头|前方)|望向远方|凝视(?:远方|前方)?|注视(?:镜头|前方)", {"dirs": ("center",)}),
    # ---- mouth and jaw
    ("act", "jaw_open", f"张大了?{_MOUTH}|{_MOUTH}张(?:得)?(?:很|非常)?(?:大大|很大|老大|大)(?:的)?|{_MOUTH}大张", {"level": 0.85}),
    ("act", "lips_part", "(?:嘴巴|嘴唇|双唇)微张|微张着?(?:嘴|双唇)|微微张开?嘴|嘴唇(?:微微)?分开", {}),
    ("act", "jaw_open", f"张[开着]?了?{_MOUTH}|{_MOUTH}张[开着]?|张口|张嘴", {}),
    ("act", "clench", "咬紧牙关|咬牙切齿|紧咬着?牙(?:关|齿)?|咬[紧着]?牙(?:齿)?|咬牙", {}),
    ("act", "lip_bite", "咬[着住]?下?嘴唇|咬了咬(?:下)?嘴唇|咬唇", {}),
    ("act", "mouth_close", f"闭[上紧]?{_MOUTH}|合上{_MOUTH}|{_MOUTH}紧闭|闭口|闭嘴", {}),
    ("act", "lips_press", "抿[着起紧了]?(?:一下)?嘴(?:唇|巴)?|抿唇|紧抿着?(?:双唇|嘴唇)?|双唇紧闭|(?:嘴唇|双唇)抿(?:成一条线|紧)|嘴唇紧绷|抿嘴", {}),
    ("act", "pout", f"[撅噘][起着]?了?{_MOUTH}|努了?努?嘴|嘟[起着]?嘴|撅嘴|噘嘴|嘟嘴", {}),
    ("act", "kiss", "[送飞]了?个?飞?吻|亲吻|嘟起嘴唇|做出?亲吻的?(?:动作|状)", {}),
    ("act", "mouth_frown", "嘴角(?:微微|稍稍|略微?|轻轻)?(?:向?下(?:垂|撇|拉|沉)|耷拉)|嘴角向下|撇了?撇?嘴|耷拉着?嘴角|嘴角耷拉|嘴角往下", {}),
    ("act", "lips_tremble", "嘴唇(?:微微)?(?:颤抖|发抖|哆嗦)", {}),
    ("act", "chin_raise", "下巴(?:微微)?(?:颤抖|发抖)", {}),
    ("act", "jaw_forward", "下巴(?:前伸|向前伸?|前突)", {}),
    ("act", "yawn", "打了?个?哈欠|打呵欠|哈欠", {}),
    ("act", "sigh", "叹了?一?口?气|叹息", {}),
    ("act", "gasp", "倒吸了?一口凉?气", {}),
    ("act", "cry", "嚎啕大哭|泪流满面|哭泣|哭了|哭着|流泪|落泪|哽咽|啜泣|抽泣|哭", {}),
    ("act", "grimace", "龇牙咧嘴|做了?个?鬼脸|面部扭曲|五官扭曲", {}),
    ("act", "scream", "尖叫|大喊|大叫|怒吼|呐喊", {}),
    ("act", "sneer", "嗤之以鼻", {}),
    ("act", "nose_wrinkle", "皱[起了]?皱?鼻子?|皱鼻", {}),
    ("act", "nostril_flare", "鼻孔(?:张大|扩张|翕动)", {}),
    ("act", "cheek_puff", "鼓[起着]?了?腮帮?子?|鼓腮|腮帮子?鼓[起着]?来?", {}),
    ("act", "tongue_out", "吐[出了]?个?舌头|伸出?舌头|吐舌", {}),
    ("act", "neutral", "面无表情|毫无表情|扑克脸|表情(?:平静|淡漠|呆滞)", {}),
    # ---- head
    ("act", "head_down", "低下?了?头|垂下?了?头|埋下?头|低着头|垂头", {}),
    ("act", "head_up", "抬起?了?头|仰起?了?头|昂起?了?头|扬起了?头|抬起下巴|扬起下巴|下巴(?:抬起|扬起|上抬)", {}),
    ("act", "nod", "点了?点头|点头", {}),
    ("act", "head_shake", "摇了?摇头|摇头", {}),
    ("act", "head_roll", "(?:把)?头(?:向|往|朝){D}(?:边|侧)?(?:歪|偏|倾斜)|(?:向|往|朝){D}歪头|头歪向{D}", {}),
    ("act", "head_roll", "歪着?头|侧着?头|偏着?头|歪头", {}),
    ("act", "head_yaw", "(?:向|往|朝){D}(?:边)?(?:转|扭|回)过?头|把头转向{D}|(?:转|扭|回)过?头(?:向|看)?{D}", {}),
    ("act", "head_yaw", "转过?头|扭过?头|回过?头|转头|扭头", {}),
)

# cue and modifier words (after the actions so that 微笑 is a smile, not 微 + 笑)
_CUES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("hold", "hold", "保持着?(?:这个|同样的|刚才的)?表情|表情不变|一动不动|僵住了|愣住了?|愣了一下", {}),
    ("stop", "stop", "不再|停止了?|停下|收起了?|收敛了?|止住了?", {}),
    ("conceal", "conceal", "忍住|强忍着?|掩饰着?|隐藏着?|压抑着?|克制着?|故作|憋着", {}),
    ("neg", "not", "并没有|并不|没有|毫无|不曾|从不|没|不|未|别|无", {}),
    ("keep", "keep", "仍然|依然|仍旧|依旧|还是|还在|继续|保持着?|一直|始终|持续|仍", {}),
    ("mode", "fade", "渐渐消失|慢慢消失|渐渐褪去|淡去|变淡", {}),
    ("mode", "vanish", "消失了?|不见了|褪去|散去|凝固|僵住|没了", {}),
    ("mode", "soften", "减弱|缓和|柔和下来", {}),
    ("mode", "relax", "放松下来|放松|舒展|松弛|松开|恢复(?:平静|正常|自然)", {}),
    ("mode", "grow", "加深|更大|更浓|扩大|越来越", {}),
    ("int", "int", "几乎看不出|若有若无|一丝", {"level": TRACE}),
    ("int", "int", "淡淡地?|浅浅地?|隐约|些许|一点点", {"level": FAINT}),
    ("int", "int", "轻轻地?|轻微地?|微微地?|稍微|稍稍|略微|有点儿?|有些|一点|略|微(?=[张皱扬抬闭眯撅噘抿低垂])", {"level": SLIGHT}),
    ("int", "int", "非常|很|十分|特别|极其|极度|格外|大大地?|用力地?|紧紧地?|狠狠地?|猛地|使劲地?|拼命地?|深深地?|高高地?|大幅度地?|开怀|好", {"level": STRONG}),
    ("int", "int", "完全|彻底|无比|极|最大限度地?", {"level": MAXIMUM}),
    ("bound", "bound", "但是|但|可是|却|然后|接着|随后|之后|同时|一边|不过", {}),
    ("soft", "and", "并且|而且|和|与|并|又", {}),
)


@dataclass(frozen=True)
class _Group:
    kind: str
    value: str
    data: dict[str, Any]
    name: str
    side_groups: tuple[str, ...]
    dir_groups: tuple[str, ...]


def _compile() -> tuple[re.Pattern[str], list[_Group]]:
    groups: list[_Group] = []
    pieces: list[str] = []
    emo = [("emo", emotion, words, {"strength": strength}) for words, emotion, strength in CHINESE_EMOTION_WORDS]
    # Order: actions, then emotions (不满 is an emotion, not 不 + 满), then cues and intensities.
    for i, (kind, value, regex, data) in enumerate([*_ENTRIES, *emo, *_CUES]):
        name = f"c{i}"
        body = regex
        sides = tuple(f"{name}s{k}" for k in range(body.count("{S}")))
        dirs = tuple(f"{name}d{k}" for k in range(body.count("{D}")))
        for g in sides:
            body = body.replace("{S}", f"(?P<{g}>[左右])", 1)
        for g in dirs:
            body = body.replace("{D}", f"(?P<{g}>[左右上下])", 1)
        pieces.append(f"(?P<{name}>{body})")
        groups.append(_Group(kind, value, dict(data), name, sides, dirs))
    return re.compile("|".join(pieces)), groups


_REGEX, _GROUPS = _compile()


def has_cjk(text: str) -> bool:
    """True when ``text`` contains CJK characters."""
    return _CJK_RE.search(text) is not None


def tag_chinese(text: str, tokens: Sequence[Token], *, skip: Sequence[int] = ()) -> list[Tag]:
    """Tags for the Chinese phrases of normalised ``text`` (tokens are single CJK characters)."""
    start_to_token = {tok.start: i for i, tok in enumerate(tokens)}
    end_to_token = {tok.end: i + 1 for i, tok in enumerate(tokens)}
    skipped = set(skip)
    tags: list[Tag] = []
    for m in _REGEX.finditer(text.translate(_TRADITIONAL)):
        first, stop = start_to_token.get(m.start()), end_to_token.get(m.end())
        if first is None or stop is None or any(k in skipped for k in range(first, stop)):
            continue
        for g in _GROUPS:
            if m.group(g.name) is None:
                continue
            payload = dict(g.data)
            dirs = [_DIRS[d] for d in (m.group(n) for n in g.dir_groups) if d]
            sides = [_SIDES[d] for d in (m.group(n) for n in g.side_groups) if d]
            if dirs:
                payload["dirs"] = tuple(dirs)
            if sides:
                payload["side"] = sides[0]
            tags.append(Tag(g.kind, g.value, first, stop, m.group(), payload))
            break
    return tags
