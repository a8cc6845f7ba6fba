"""From tags to mentions: clause splitting, part/predicate binding, coordination and modifier scope.

The binder works on the tags of :mod:`keyframeface.semantics.tagger` (English) and
:mod:`keyframeface.semantics.chinese`, clause by clause (clauses end at ``.``, ``;``, "but", "while", "then" ...):

1. **Action words** ("smiles", "a wink", "eye contact") become frames directly; a nearby part refines them ("her
   eyes smile" -> smiling eyes; "winks with her left eye" -> a left wink).
2. **Predicates** bind to a part: the nearest one before them (subject: "the brows rise", "the mouth does not
   open") or after them (object or attribute: "raises her brows", "raised brows"), whichever is closer, counting
   only meaningful words; ties go to the subject. A part already used by another predicate costs more. Parts
   joined by "and" / commas share the predicate ("her brows and the corners of her mouth lift"). A predicate
   without a part uses its default part ("looks left" -> the gaze, "turns away" -> the head) or the last part of
   the sentence ("the brows rise, then knit"). Directions after the predicate ("to the left", "up and to the
   left") complete it. Part + predicate + direction -> action through :data:`~.lexicon.FRAMES`.
3. A predicate right before "into" + an action word is absorbed by it ("her lips curl into a smile" is a smile);
   a predicate right after an action word modifies it ("the smile widens", "the smile drops").
4. **Modifiers** attach to the nearest frame of their clause: intensity and side words, directions left over.
   **Cues** scope as documented in :mod:`keyframeface.semantics.negation`.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field

from . import intensity as _int
from .laterality import direction_labels, side_of_words
from .lexicon import ACT_VARIANTS, ACTIONS, FILLERS, PART_REGIONS, Action, find_action, singular_nouns
from .mentions import Mention, Mode, Side
from .negation import CONCEAL_FACTOR, MODE_FACTORS
from .tagger import Tag, Token

__all__ = ["bind"]

_HARD_PUNCT = frozenset({".", ";", "!", "?", ":", "(", ")", '"', "\u2026", "\u3002", "\uff1b", "\uff01", "\uff1f",
                         "\uff1a", "\uff08", "\uff09", "\u300c", "\u300d"})
_SOFT_PUNCT = frozenset({",", "\uff0c", "\u3001", "/"})
_CJK_FILLERS = frozenset("地得着了的他她它们把将也都就又在一个这那是")
_DEFAULT_PART = {
    "look": "gaze", "stare": "gaze", "fix": "gaze", "avert": "gaze", "turn": "head", "tilt": "head",
    "bow": "head", "throw": "head", "shake": "head", "blink": "eyes",
}  # fmt: skip
_SUBJECT_MAX, _OBJECT_MAX = 5, 3


@dataclass
class _Frame:
    kind: str  # action | emotion | relax | hold
    name: str
    start: int
    end: int
    tags: list[Tag] = field(default_factory=list)
    part: Tag | None = None
    side: Side | None = None
    side_words: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    levels: list[tuple[str, float]] = field(default_factory=list)
    fixed_level: float | None = None
    almost: bool = False
    neg: list[str] = field(default_factory=list)
    stop: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    conceal: list[str] = field(default_factory=list)
    mode: Mode | None = None
    mode_words: list[str] = field(default_factory=list)
    factor: float = 1.0
    regions: tuple[str, ...] | None = None
    quality: float = 1.0
    strength: float = 0.6

    def cover(self, tag: Tag) -> None:
        self.tags.append(tag)
        self.start = min(self.start, tag.start)
        self.end = max(self.end, tag.end)


class _Clause:
    """The tags of one clause and distance helpers over the description's tokens."""

    def __init__(self, tags: list[Tag], weights: Sequence[int]) -> None:
        self.tags = tags
        self.ids = {id(t) for t in tags}
        self.index = {id(t): k for k, t in enumerate(tags)}
        self.weights = weights

    def gap(self, a_end: int, b_start: int) -> int:
        if b_start <= a_end:
            return 0
        return sum(self.weights[a_end:b_start])

    def between(self, a_end: int, b_start: int, kinds: frozenset[str], *, ignore: Container[int] = ()) -> bool:
        return any(
            t.kind in kinds and t.start >= a_end and t.end <= b_start and id(t) not in ignore for t in self.tags
        )

    def next_tag(self, tag: Tag, *, skip: frozenset[str] = frozenset()) -> Tag | None:
        for t in self.tags:
            if t.start >= tag.end and t.kind not in skip:
                return t
        return None

    def prev_tag(self, tag: Tag, *, skip: frozenset[str] = frozenset()) -> Tag | None:
        found = None
        for t in self.tags:
            if t.end <= tag.start and t.kind not in skip:
                found = t
        return found


_MODIFIERS = frozenset({"int", "side", "keep", "neg", "stop", "conceal"})
_BLOCKERS = frozenset({"pred", "act"})


def _weights(tokens: Sequence[Token], tags: Sequence[Tag]) -> list[int]:
    weights = []
    for tok in tokens:
        if tok.text in FILLERS or tok.text in _CJK_FILLERS:
            weights.append(0)
        elif tok.text in _SOFT_PUNCT or tok.text == "and":
            weights.append(2)
        else:
            weights.append(1)
    for t in tags:
        if t.kind in _MODIFIERS:
            for i in range(t.start, t.end):
                weights[i] = 0
        elif t.kind == "soft":
            for i in range(t.start, t.end):
                weights[i] = 2 if t.value == "and" else 1
    return weights


def _with_punctuation(tokens: Sequence[Token], tags: Sequence[Tag]) -> list[Tag]:
    covered = {i for t in tags for i in range(t.start, t.end)}
    out = list(tags)
    for i, tok in enumerate(tokens):
        if i in covered:
            continue
        if tok.text in _HARD_PUNCT:
            out.append(Tag("bound", "bound", i, i + 1, tok.text))
        elif tok.text in _SOFT_PUNCT:
            out.append(Tag("soft", "and", i, i + 1, tok.text))
    out.sort(key=lambda t: (t.start, t.end))
    return out


def _clauses(tags: list[Tag]) -> list[list[Tag]]:
    clauses: list[list[Tag]] = [[]]
    for t in tags:
        if t.kind == "bound":
            if clauses[-1]:
                clauses.append([])
        else:
            clauses[-1].append(t)
    return [c for c in clauses if c]


# ------------------------------------------------------------------------------------------------ binding
def bind(text: str, tokens: Sequence[Token], tags: Sequence[Tag]) -> list[Mention]:
    """Turn the tags of one normalised description into mentions, in reading order."""
    all_tags = _with_punctuation(tokens, tags)
    weights = _weights(tokens, all_tags)
    frames: list[_Frame] = []
    last_part: Tag | None = None
    for clause_tags in _clauses(all_tags):
        clause = _Clause(clause_tags, weights)
        clause_frames, last_part = _bind_clause(clause, last_part)
        clause_frames.extend(_negated_parts(clause, clause_frames, frames))
        _adopt_sides(clause_frames)
        frames.extend(clause_frames)
    frames.sort(key=lambda f: (f.start, f.end))
    mentions = []
    for fr in frames:
        m = _mention(text, tokens, fr)
        if m is not None:
            mentions.append(m)
    return mentions


def _negated_parts(clause: _Clause, clause_frames: list[_Frame], earlier: list[_Frame]) -> list[_Frame]:
    """"smiles with his mouth but not with his eyes", "her smile never reaches her eyes": a negated part with
    no predicate of its own turns off the channels of the action before it that lie in that part's regions."""
    out: list[_Frame] = []
    bound = {id(t) for fr in clause_frames for t in fr.tags}
    tags = clause.tags
    for k, t in enumerate(tags):
        if t.kind != "part" or id(t) in bound:
            continue
        neg = next((c for c in reversed(tags[:k]) if c.kind in ("neg",)), None)
        if neg is None or clause.gap(neg.end, t.start) > 2 or clause.between(neg.end, t.start, _BLOCKERS | {"part"}):
            continue
        regions = PART_REGIONS.get(t.value)
        candidates = [fr for fr in clause_frames if fr.kind == "action" and fr.end <= neg.start] or [
            fr for fr in earlier if fr.kind == "action"]
        if not regions or not candidates:
            continue
        target = candidates[-1]
        fr = _Frame("action", target.name, neg.start, t.end, [neg, t])
        fr.neg.append(neg.text)
        fr.regions = regions
        fr.part = t
        fr.side = target.side
        out.append(fr)
    return out


def _adopt_sides(frames: list[_Frame]) -> None:
    """"a one-sided smirk pulls up the right side of her mouth": a one-sided action without its own side takes
    the side named elsewhere in its clause."""
    named: Side | None = None
    for fr in frames:
        side = fr.side if fr.side is not None else (_part_side(fr.part) if fr.part is not None else None)
        if side in (Side.LEFT, Side.RIGHT):
            named = side
            break
    if named is None:
        return
    for fr in frames:
        if fr.kind != "action":
            continue
        side = fr.side if fr.side is not None else (_part_side(fr.part) if fr.part is not None else None)
        if side is Side.ONE or (side is None and ACTIONS[fr.name].side == "one"):
            fr.side = named
            fr.side_words.append("(side named in the same clause)")


def _part_side(part: Tag) -> Side | None:
    words = part.text.split()
    side = side_of_words(words)
    if side is not None:
        return side
    nouns = singular_nouns(part.value)
    if nouns and any(w in nouns for w in words) and not any(w in ("both", "each", "two") for w in words):
        return Side.ONE
    return None


def _bind_clause(clause: _Clause, last_part: Tag | None) -> tuple[list[_Frame], Tag | None]:
    tags = clause.tags
    frames: list[_Frame] = []
    act_frames: dict[int, _Frame] = {}
    emo_frames: dict[int, _Frame] = {}
    part_frames: dict[int, list[_Frame]] = {}
    bound_parts: set[int] = set()
    used: set[int] = set()  # ids of tags consumed by binding

    # ---- 1. action words and emotion words become frames
    for t in tags:
        if t.kind == "act":
            fr = _Frame("action", t.value, t.start, t.end, [t])
            data = t.data
            if isinstance(data.get("level"), float):
                fr.fixed_level = float(data["level"])
            if isinstance(data.get("quality"), float):
                fr.quality = float(data["quality"])
            if data.get("neg"):
                fr.neg.append(t.text)
            dirs = data.get("dirs")
            if isinstance(dirs, tuple):
                fr.dirs.extend(str(d) for d in dirs)
            if isinstance(data.get("side"), str):
                fr.side = Side(str(data["side"]))
                fr.side_words.append(t.text)
            if isinstance(data.get("mode"), str):
                _set_mode(fr, str(data["mode"]), t.text)
            act_frames[id(t)] = fr
            frames.append(fr)
        elif t.kind == "emo":
            fr = _Frame("emotion", t.value, t.start, t.end, [t])
            fr.strength = float(t.data.get("strength", 0.6))
            emo_frames[id(t)] = fr
            frames.append(fr)
        elif t.kind == "hold":
            frames.append(_Frame("hold", "hold", t.start, t.end, [t]))

    # "tight-lipped smile": an action word that also modifies the next one
    for t in tags:
        if t.kind == "act" and isinstance(t.data.get("modifies_next"), float):
            nxt = clause.next_tag(t, skip=_MODIFIERS | {"emo"})
            if nxt is not None and nxt.kind == "act" and clause.gap(t.end, nxt.start) <= 1:
                act_frames[id(nxt)].levels.append((t.text, float(t.data["modifies_next"])))

    parts = [t for t in tags if t.kind == "part"]

    # ---- 2. predicates
    for p in tags:
        if p.kind != "pred":
            continue
        nxt = clause.next_tag(p, skip=_MODIFIERS)
        # 2a. absorbed by "into" + action word: "lips curl into a smile"
        if nxt is not None and nxt.kind == "into":
            target = clause.next_tag(nxt, skip=_MODIFIERS | {"emo"})
            if target is not None and target.kind == "act":
                subject = _subject(clause, p, parts, bound_parts)
                if subject is not None:
                    _refine_act(act_frames[id(target)], subject, force=True)
                    bound_parts.add(id(subject))
                used.add(id(p))
                continue
        # 2b. adjective on an action word: "a wide grin", "a tight smile"
        as_int = p.data.get("as_int")
        if isinstance(as_int, float) and nxt is not None and nxt.kind == "act" and clause.gap(p.end, nxt.start) <= 1:
            act_frames[id(nxt)].levels.append((p.text, as_int))
            used.add(id(p))
            continue
        # 2c. a predicate right after an action/emotion word changes it: "the smile widens", "the smile drops"
        act_mode = p.data.get("act_mode")
        prev = clause.prev_tag(p, skip=_MODIFIERS)
        if (
            isinstance(act_mode, str)
            and prev is not None
            and prev.kind in ("act", "emo")
            and clause.gap(prev.end, p.start) <= 1
        ):
            target_fr = act_frames.get(id(prev)) or emo_frames.get(id(prev))
            if target_fr is not None:
                _set_mode(target_fr, act_mode, p.text)
                target_fr.cover(p)
                used.add(id(p))
                continue
        # 2d. bind to parts
        chosen = _choose_part(clause, p, parts, bound_parts)
        group: list[Tag] = []
        if chosen is not None:
            group = _coordinated(clause, p, chosen, parts, bound_parts)
        dirs, dir_tags = _directions(clause, p, group)
        if not group:
            default = _DEFAULT_PART.get(p.value)
            if default is not None:
                group = [Tag("part", default, p.start, p.start, "")]
            elif last_part is not None and last_part.value != "ellipsis":
                group = [last_part]
        made = _make_frames(p, group, dirs, dir_tags, frames, bound_parts, part_frames, last_part)
        if not made and group and group[0].text and p.value in _DEFAULT_PART:
            # the nearest part has no rule with this predicate ("bites her lip and looks away"): its default part
            fallback = [Tag("part", _DEFAULT_PART[p.value], p.start, p.start, "")]
            made = _make_frames(p, fallback, dirs, dir_tags, frames, bound_parts, part_frames, last_part)
        if made:
            last_part = next((g for g in reversed(group) if g.text and id(g) in bound_parts), last_part)
            used.add(id(p))
            used.update(id(d) for d in dir_tags)

    # ---- 3. fragments: "eyes down", "head to the left", "chin up"
    for part in parts:
        if id(part) in bound_parts:
            continue
        nxt = clause.next_tag(part, skip=_MODIFIERS)
        if nxt is not None and nxt.kind == "dir" and id(nxt) not in used and clause.gap(part.end, nxt.start) <= 1:
            labels = list(direction_labels(nxt.value, nxt.text.split(), mirror=bool(nxt.data.get("mirror"))))
            frame = find_action(part.value, "move", labels)
            if frame is not None:
                fr = _Frame("action", frame.action, part.start, nxt.end, [part, nxt])
                fr.part = part
                fr.dirs = labels
                frames.append(fr)
                bound_parts.add(id(part))
                part_frames.setdefault(id(part), []).append(fr)
                used.add(id(nxt))
                last_part = part

    # ---- 4. action words pick up a nearby part (side, variant); emotion words next to a part are limited to it
    for t in tags:
        if t.kind == "act":
            fr = act_frames[id(t)]
            if fr.part is None:
                near = _nearby_part(clause, t, parts, bound_parts, ACT_VARIANTS.get(t.value, {}))
                if near is not None:
                    _refine_act(fr, near, force=False)
                    bound_parts.add(id(near))
        elif t.kind == "emo":
            # "her brows look worried": a linking verb that built nothing does not separate them
            linking = {id(x) for x in tags if x.kind == "pred" and id(x) not in used and x.value in ("look", "stare")}
            near = _nearby_part(clause, t, parts, bound_parts, PART_REGIONS, max_gap=2, transparent=linking)
            if near is not None and PART_REGIONS.get(near.value) and near.value != "face":
                fr = emo_frames[id(t)]
                fr.regions = PART_REGIONS[near.value]
                fr.part = near
                fr.cover(near)
                bound_parts.add(id(near))
    for part in parts:
        if id(part) in bound_parts or part.value == "ellipsis":
            continue
        if last_part is None or part.end > last_part.end:
            last_part = part

    # ---- 5. mode words ("fades", "relaxes", "grows") bind to what they follow (or precede)
    for t in tags:
        if t.kind != "mode":
            continue
        mode_target = _mode_target(clause, t, act_frames, emo_frames, part_frames, parts)
        if mode_target is None:
            continue
        if isinstance(mode_target, _Frame):
            _set_mode(mode_target, t.value, t.text)
            mode_target.cover(t)
        else:  # a part: change the frames built on it, or relax the part's regions ("the brows relax")
            part_tag = mode_target
            existing = part_frames.get(id(part_tag))
            if existing:
                for fr in existing:
                    _set_mode(fr, t.value, t.text)
                    fr.cover(t)
            elif t.value != "grow":
                fr = _Frame("relax", part_tag.value, min(t.start, part_tag.start), max(t.end, part_tag.end),
                            [part_tag, t])
                fr.regions = PART_REGIONS.get(part_tag.value, ())
                fr.part = part_tag
                _set_mode(fr, t.value, t.text)
                frames.append(fr)
                bound_parts.add(id(part_tag))

    # ---- 6. cues and modifiers
    _scope_cues(clause, frames)
    _attach_modifiers(clause, frames, used)
    return frames, last_part


def _make_frames(
    p: Tag,
    group: list[Tag],
    dirs: list[str],
    dir_tags: list[Tag],
    frames: list[_Frame],
    bound_parts: set[int],
    part_frames: dict[int, list[_Frame]],
    last_part: Tag | None,
) -> bool:
    """Frames for predicate ``p`` with each part of ``group`` (appended to ``frames``); True if any was made."""
    made = False
    act_mode = p.data.get("act_mode")
    implied = p.data.get("dir")
    all_dirs = list(dirs) + ([str(implied)] if isinstance(implied, str) and not dirs else [])
    for part in group:
        if part.value == "ellipsis":  # "the left one", "the other": the last part named
            if last_part is None:
                continue
            part = Tag("part", last_part.value, part.start, part.end, part.text, last_part.data)
        frame = find_action(part.value, p.value, all_dirs)
        if frame is None:
            if isinstance(act_mode, str) and act_mode in ("soften", "vanish") and part.text:
                fr = _Frame("relax", part.value, min(p.start, part.start), max(p.end, part.end), [p, part])
                fr.regions = PART_REGIONS.get(part.value, ())
                _set_mode(fr, "soften" if act_mode == "soften" else "relax", p.text)
                fr.part = part
                frames.append(fr)
                bound_parts.add(id(part))
                made = True
            continue
        fr = _Frame("action", frame.action, min(p.start, part.start) if part.text else p.start,
                    max([p.end, part.end, *[d.end for d in dir_tags]]),
                    [p, *([part] if part.text else []), *dir_tags])
        fr.part = part if part.text else None
        fr.dirs = list(frame.set_dirs) if frame.set_dirs else all_dirs
        fr.fixed_level = frame.level if frame.level is not None else _pred_level(p)
        frames.append(fr)
        if part.text:
            bound_parts.add(id(part))
            part_frames.setdefault(id(part), []).append(fr)
        made = True
    return made


def _pred_level(p: Tag) -> float | None:
    level = p.data.get("level")
    return float(level) if isinstance(level, float) else None


def _set_mode(fr: _Frame, mode_word: str, text: str) -> None:
    if mode_word == "grow":
        fr.mode = Mode.INCREASE
    elif mode_word in MODE_FACTORS:
        fr.mode = Mode.REDUCE
        fr.factor = MODE_FACTORS[mode_word]
    else:
        return
    fr.mode_words.append(text)


def _subject(clause: _Clause, p: Tag, parts: list[Tag], bound: set[int]) -> Tag | None:
    """The nearest part before ``p`` with no predicate or action word between (a part already used costs 3)."""
    best: tuple[int, Tag] | None = None
    for k in range(clause.index[id(p)] - 1, -1, -1):
        t = clause.tags[k]
        if t.kind in _BLOCKERS:
            break
        if t.kind != "part":
            continue
        raw = clause.gap(t.end, p.start)
        if raw > _SUBJECT_MAX:
            break
        d = raw + (3 if id(t) in bound else 0)
        if d <= _SUBJECT_MAX and (best is None or d < best[0]):
            best = (d, t)
    return best[1] if best else None


def _object(clause: _Clause, p: Tag, parts: list[Tag], bound: set[int]) -> tuple[int, Tag] | None:
    for part in parts:
        if part.start < p.end:
            continue
        if clause.between(p.end, part.start, _BLOCKERS | {"part"}):
            return None
        d = clause.gap(p.end, part.start) + (3 if id(part) in bound else 0)
        return (d, part) if d <= _OBJECT_MAX else None
    return None


def _choose_part(clause: _Clause, p: Tag, parts: list[Tag], bound: set[int]) -> Tag | None:
    subject = _subject(clause, p, parts, bound)
    ds = clause.gap(subject.end, p.start) + (3 if id(subject) in bound else 0) if subject else 99
    obj = _object(clause, p, parts, bound)
    if obj is not None and obj[0] < ds:
        return obj[1]
    return subject


def _coordinated(clause: _Clause, p: Tag, chosen: Tag, parts: list[Tag], bound: set[int]) -> list[Tag]:
    """The chosen part plus parts joined to it by "and" / commas that have no predicate of their own."""
    group = [chosen]
    tags = clause.tags
    idx = next(k for k, t in enumerate(tags) if t is chosen)
    if chosen.end <= p.start:  # subject: look backward
        k = idx - 1
        while k >= 1 and tags[k].kind == "soft" and tags[k - 1].kind == "part" and id(tags[k - 1]) not in bound:
            group.insert(0, tags[k - 1])
            k -= 2
    else:  # object: look forward
        k = idx + 1
        while k + 1 < len(tags) and tags[k].kind == "soft" and tags[k + 1].kind == "part":
            cand = tags[k + 1]
            after = clause.next_tag(cand, skip=_MODIFIERS)
            if after is not None and after.kind in ("pred", "mode", "act") and clause.gap(cand.end, after.start) <= 1:
                break
            group.append(cand)
            k += 2
    return group


def _directions(clause: _Clause, p: Tag, group: list[Tag]) -> tuple[list[str], list[Tag]]:
    start = max([p.end, *[g.end for g in group if g.start >= p.end]])
    labels: list[str] = []
    used: list[Tag] = []
    pos = start
    for t in clause.tags:
        if t.start < start:
            continue
        if t.kind in _MODIFIERS or (t.kind == "soft" and labels):
            continue
        if t.kind == "dir" and clause.gap(pos, t.start) <= 3:
            labels.extend(direction_labels(t.value, t.text.split(), mirror=bool(t.data.get("mirror"))))
            used.append(t)
            pos = t.end
            continue
        break
    return labels, used


def _refine_act(fr: _Frame, part: Tag, *, force: bool) -> None:
    variants = ACT_VARIANTS.get(fr.name, {})
    if part.value in variants:
        fr.name = variants[part.value]
    elif not force:
        return
    fr.part = part
    fr.cover(part)


def _nearby_part(
    clause: _Clause,
    t: Tag,
    parts: list[Tag],
    bound: set[int],
    allowed: Container[str],
    *,
    max_gap: int = 3,
    transparent: Container[int] = (),
) -> Tag | None:
    best: tuple[int, Tag] | None = None
    blockers = _BLOCKERS | {"emo", "neg", "stop"}
    for part in parts:
        if id(part) in bound or part.value == "ellipsis" or part.value not in allowed:
            continue
        if part.end <= t.start:
            if clause.between(part.end, t.start, blockers, ignore=transparent):
                continue
            d = clause.gap(part.end, t.start)
        else:
            if clause.between(t.end, part.start, blockers, ignore=transparent):
                continue
            d = clause.gap(t.end, part.start)
        if d <= max_gap and (best is None or d < best[0]):
            best = (d, part)
    return best[1] if best else None


def _mode_target(
    clause: _Clause,
    t: Tag,
    act_frames: dict[int, _Frame],
    emo_frames: dict[int, _Frame],
    part_frames: dict[int, list[_Frame]],
    parts: list[Tag],
) -> _Frame | Tag | None:
    prev = clause.prev_tag(t, skip=_MODIFIERS)
    if prev is not None and clause.gap(prev.end, t.start) <= 3:
        if prev.kind == "act":
            return act_frames[id(prev)]
        if prev.kind == "emo":
            return emo_frames[id(prev)]
        if prev.kind == "part":
            return prev
        if prev.kind == "pred":
            for frs in part_frames.values():
                for fr in frs:
                    if any(x is prev for x in fr.tags):
                        return fr
    nxt = clause.next_tag(t, skip=_MODIFIERS)
    if nxt is not None and clause.gap(t.end, nxt.start) <= 1:
        if nxt.kind == "act":
            return act_frames[id(nxt)]
        if nxt.kind == "part":
            return nxt
    return None


def _in_span(fr: _Frame, t: Tag) -> bool:
    return fr.start <= t.start and t.end <= fr.end


def _scope_end(clause: _Clause, cue: Tag, *, through_and: bool) -> int:
    for t in clause.tags:
        if t.start < cue.end:
            continue
        if t.kind == "soft" and t.value == "and" and not through_and:
            return t.start
    return 10**9


def _scope_cues(clause: _Clause, frames: list[_Frame]) -> None:
    mine = [fr for fr in frames if any(id(t) in clause.ids for t in fr.tags)]
    for cue in clause.tags:
        if cue.kind not in ("neg", "stop", "keep", "conceal"):
            continue
        if cue.kind == "conceal":
            # "anxiety concealed by a smile": the thing before is hidden; "hides a smile": the thing after.
            prev = [fr for fr in mine if fr.end <= cue.start and clause.gap(fr.end, cue.start) <= 1]
            if prev and (cue.text.endswith(" by") or prev[-1].kind == "emotion"):
                prev[-1].conceal.append(cue.text)
                continue
            for fr in mine:
                if fr.start >= cue.end:
                    fr.conceal.append(cue.text)
            continue
        end = _scope_end(clause, cue, through_and=False)
        targets = [fr for fr in mine if (cue.end <= fr.start < end) or _in_span(fr, cue)]
        if cue.kind == "keep":
            # "the smile stays": a keep word right after a frame applies to it
            prev = [fr for fr in mine if fr.end <= cue.start and clause.gap(fr.end, cue.start) <= 1]
            if prev and not targets:
                targets = [prev[-1]]
            elif prev and prev[-1] not in targets and clause.next_tag(cue, skip=_MODIFIERS) is None:
                targets.append(prev[-1])
        for fr in targets:
            getattr(fr, cue.kind).append(cue.text)


def _attach_modifiers(clause: _Clause, frames: list[_Frame], used: set[int]) -> None:
    mine = [fr for fr in frames if any(id(t) in clause.ids for t in fr.tags)]
    if not mine:
        return
    for t in clause.tags:
        if t.kind not in ("int", "side", "dir") or id(t) in used:
            continue
        target = _head_noun(clause, t, mine) if t.kind == "int" else None
        target = target or _nearest_frame(clause, t, mine)
        if target is None:
            continue
        if t.kind == "int":
            if t.data.get("almost"):
                target.almost = True
            elif t.data.get("level") is None:
                continue
            else:
                target.levels.append((t.text, float(t.data["level"])))
        elif t.kind == "side":
            side = Side(t.data["side"]) if "side" in t.data else side_of_words(
                t.text.split(), mirror=bool(t.data.get("mirror")))
            if side is not None:
                target.side = side
                target.side_words.append(t.text)
        else:
            labels = direction_labels(t.value, t.text.split(), mirror=bool(t.data.get("mirror")))
            if labels in (("left",), ("right",)) and target.kind == "action" and not target.dirs:
                target.side = Side.LEFT if labels == ("left",) else Side.RIGHT
                target.side_words.append(t.text)


def _head_noun(clause: _Clause, t: Tag, frames: list[_Frame]) -> _Frame | None:
    """"a small, sad smile": an intensity word before stacked adjectives modifies the action word they lead to."""
    pos = t.end
    for nxt in clause.tags:
        if nxt.start < t.end:
            continue
        if nxt.kind in ("int", "emo", "side") or (nxt.kind == "soft" and nxt.text == ","):
            if clause.gap(pos, nxt.start) > 1:
                return None
            pos = nxt.end
            continue
        if nxt.kind == "act" and clause.gap(pos, nxt.start) <= 1:
            return next((fr for fr in frames if any(x is nxt for x in fr.tags)), None)
        return None
    return None


def _nearest_frame(clause: _Clause, t: Tag, frames: list[_Frame]) -> _Frame | None:
    best: tuple[int, int, _Frame] | None = None
    for order, fr in enumerate(frames):
        if _in_span(fr, t):
            d = 0
        elif fr.end <= t.start:
            d = clause.gap(fr.end, t.start)
        else:
            d = clause.gap(t.end, fr.start)
        if d > 4:
            continue
        if best is None or d < best[0]:
            best = (d, order, fr)
    return best[2] if best else None


# ----------------------------------------------------------------------------------------------- mentions
def _resolve_level(action: Action, fr: _Frame) -> tuple[float, Action]:
    words = [w for w, _ in fr.levels]
    for w in words:
        upgrade = action.upgrades.get(w)
        if upgrade:
            action = ACTIONS[upgrade]
            break
    base = fr.fixed_level if fr.fixed_level is not None else action.level
    if fr.almost:
        return (_int.ALMOST_STATE if action.state else _int.ALMOST_DEGREE), action
    vals = [action.int_overrides.get(w, lvl) for w, lvl in fr.levels]
    combined = _int.combine_levels(vals)
    if combined is None:
        return base, action
    if action.partial_of is not None and combined < 0.7:
        return 1.0 - combined, ACTIONS[action.partial_of]
    if action.state:
        return (action.level if combined >= 0.7 else combined), action
    if fr.fixed_level is not None:
        return (fr.fixed_level + combined) / 2.0, action
    return combined, action


def _mention(text: str, tokens: Sequence[Token], fr: _Frame) -> Mention | None:
    phrase = text[tokens[fr.start].start : tokens[fr.end - 1].end] if fr.end > fr.start else ""
    position = tokens[fr.start].start if fr.start < len(tokens) else 0
    neg = bool(fr.neg) != bool(fr.stop)
    if neg:
        mode, mode_words, factor = Mode.OFF, fr.neg + fr.stop, 1.0
    elif fr.mode is not None:
        mode, mode_words, factor = fr.mode, fr.mode_words, fr.factor
    elif fr.keep:
        mode, mode_words, factor = Mode.KEEP, fr.keep, 1.0
    else:
        mode, mode_words, factor = Mode.SET, [], 1.0
    notes: list[str] = []
    if fr.conceal:
        notes.append(f"concealed ({', '.join(fr.conceal)}): x{CONCEAL_FACTOR}")
    if fr.kind == "action":
        action = ACTIONS[fr.name]
        level, action = _resolve_level(action, fr)
        if fr.conceal:
            level *= CONCEAL_FACTOR
        side = fr.side if fr.side is not None else (_part_side(fr.part) if fr.part is not None else None)
        side_words = tuple(fr.side_words) or ((fr.part.text,) if side is not None and fr.part is not None else ())
        return Mention(
            "action", action.id, phrase, position, level=min(1.0, level), level_words=tuple(w for w, _ in fr.levels),
            side=side, side_words=side_words, directions=tuple(dict.fromkeys(fr.dirs)), mode=mode,
            mode_words=tuple(mode_words), factor=factor, regions=fr.regions, quality=fr.quality, notes=tuple(notes),
        )
    if fr.kind == "emotion":
        strength = _int.scale_emotion_level(fr.strength, [lvl for _, lvl in fr.levels])
        if fr.conceal:
            strength *= CONCEAL_FACTOR
        return Mention(
            "emotion", fr.name, phrase, position, level=strength, level_words=tuple(w for w, _ in fr.levels),
            mode=mode, mode_words=tuple(mode_words), factor=factor, regions=fr.regions, notes=tuple(notes),
        )
    if fr.kind == "relax":
        if mode is Mode.SET:
            return None
        return Mention(
            "relax", fr.name, phrase, position, mode=mode, mode_words=tuple(mode_words), factor=factor,
            regions=fr.regions or (),
        )
    if fr.kind == "hold":
        if neg:
            return None
        return Mention("hold", "hold", phrase, position, mode=Mode.KEEP, mode_words=(phrase,))
    return None
