"""Training phrases for the grounding head, each labelled by the rule parser itself.

Three sources (all deterministic for a seed):

* **corpus**: every clause of the corpus's training-split keyframe descriptions;
* **lexicon**: phrases sampled from the rule lexicon's own patterns: action words alone and in a short frame
  ("she smirks", "a smirk"), every body part with every predicate ("her brows knit", "knits her brows"), and
  emotion words ("she looks sheepish");
* **none**: clauses that ask nothing of the face: the corpus's backgrounds, bare direction fragments and a fixed
  list of narrative clauses.

A phrase is kept with label ``action:NAME:DIRS`` (DIRS only for direction-driven actions) or ``emotion:NAME`` when
the parser reads exactly one action or emotion from it, set (not negated, not kept, not reduced); with
``none`` when the parser reads nothing at all; phrases it reads several things from are dropped.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence

from ...semantics.emotions import emotion_entries
from ...semantics.lexicon import ACTIONS, lexicon_entries
from ...semantics.mentions import Mode
from ...semantics.parse import parse, tag_text
from .clauses import split_clauses
from .head import NONE_LABEL

__all__ = ["NARRATIVE_CLAUSES", "corpus_phrases", "label_of", "lexicon_phrases", "none_phrases", "sample_pattern"]

#: Clauses with no facial action, for the ``none`` label (the head must learn to leave these alone).
NARRATIVE_CLAUSES: tuple[str, ...] = (
    "a moment passes", "after a pause", "she waits", "he waits for an answer", "she listens", "he listens closely",
    "the phone rings", "someone knocks at the door", "he stands by the window", "she sits down", "time stands still",
    "the music stops", "he takes a breath", "she reads the letter", "the room goes quiet", "a car passes outside",
    "he checks his watch", "the crowd cheers", "nothing happens", "he thinks it over",
    "she remembers the summer", "the lights dim", "it starts to rain", "he puts the cup down", "she nods to the "
    "music in her head", "the door closes", "they wait together", "the clock ticks", "he hears footsteps",
    "on the screen a message appears", "the kettle boils", "she counts to three", "he walks in", "a bird sings",
    "to the left", "to the right", "upward", "downward", "for a second", "again", "at last", "slowly",
    "in the end", "once more", "for a while", "at the same time", "then", "meanwhile", "suddenly",
    # scenery, sounds, objects and body (not face) actions: a clause about them asks nothing of the face
    "rain falls outside", "the wind picks up", "snow drifts past the window", "the sun sets over the city",
    "thunder rolls in the distance", "the music swells", "a dog barks next door",
    "the lights flicker", "the screen goes dark", "the audience applauds", "the bell rings", "the fire crackles",
    "a glass shatters in the kitchen", "the elevator doors slide open", "the car engine starts",
    "the clock strikes midnight", "leaves rustle in the garden", "the waves crash on the shore",
    "the crowd falls silent", "the curtain rises", "the baby sleeps in the next room",
    "she walks to the door", "he sits on the bench", "she picks up the phone", "he hands over the envelope",
    "she puts on her coat", "she crosses her arms",
    "she taps her fingers on the table", "he paces the room", "she stands up slowly", "he opens the box",
    "she writes a note", "he pours a cup of tea", "she hugs her friend", "he waves goodbye",
    "the letter arrives", "the results are posted", "the game is over", "the interview begins",
    "the news spreads quickly", "nobody answers", "the room smells of coffee",
    "it is very late", "the day is almost over", "the answer comes back", "the message is short",
)

_TOKEN = re.compile(r"\(|\)|\[|\]|\||[^\s()\[\]|]+")


def _parse_alternatives(tokens: list[str], i: int, close: str | None) -> tuple[list[list[object]], int]:
    alts: list[list[object]] = [[]]
    while i < len(tokens):
        t = tokens[i]
        if t == close:
            return alts, i + 1
        if t == "|":
            alts.append([])
            i += 1
        elif t in ("(", "["):
            sub, i = _parse_alternatives(tokens, i + 1, ")" if t == "(" else "]")
            alts[-1].append((t, sub))
        else:
            alts[-1].append(t)
            i += 1
    return alts, i


def sample_pattern(pattern: str, rng: random.Random) -> str:
    """One random surface form of a lexicon pattern: ``(a|b)`` picks one, ``[a|b]`` picks one or nothing."""
    alts, _ = _parse_alternatives(_TOKEN.findall(pattern), 0, None)

    def render(seq: list[object]) -> list[str]:
        out: list[str] = []
        for item in seq:
            if isinstance(item, str):
                out.append(item)
                continue
            kind: str = item[0]  # type: ignore[index]
            sub: list[list[object]] = item[1]  # type: ignore[index]
            if kind == "[" and rng.random() < 0.5:
                continue
            out.extend(render(rng.choice(sub)))
        return out

    return " ".join(render(rng.choice(alts)))


def label_of(text: str) -> str | None:
    """The label the rule parser gives ``text`` (see the module docstring), or ``None`` to drop it."""
    mentions = parse(text)
    if not mentions:
        return NONE_LABEL
    if len(mentions) != 1:
        return None
    m = mentions[0]
    if m.mode is not Mode.SET or any(t.kind == "neg" for t in tag_text(text)[2]):
        return None
    if m.kind == "emotion":
        return f"emotion:{m.name}"
    if m.kind == "action":
        dirs = "+".join(m.directions) if ACTIONS[m.name].axis is not None else ""
        return f"action:{m.name}:{dirs}"
    return None


def corpus_phrases(descriptions: Iterable[str]) -> Iterator[str]:
    """Every clause of ``descriptions``, once each, in first-seen order."""
    seen: set[str] = set()
    for d in descriptions:
        for c in split_clauses(d):
            if c.text not in seen:
                seen.add(c.text)
                yield c.text


def lexicon_phrases(rng: random.Random, *, samples: int = 3) -> Iterator[str]:
    """Phrases sampled from the lexicon's patterns (``samples`` per pattern or pattern pair)."""
    entries = lexicon_entries()
    acts = [e for e in entries if e.kind == "act"]
    parts = [e for e in entries if e.kind == "part"]
    preds = [e for e in entries if e.kind == "pred"]
    subjects = ("she", "he", "they")
    for e in acts:
        for _ in range(samples):
            word = sample_pattern(e.pattern, rng)
            yield word
            yield f"{rng.choice(subjects)} {word}"
            yield f"a {word}"
    for part in parts:
        for pred in preds:
            for _ in range(samples):
                p, v = sample_pattern(part.pattern, rng), sample_pattern(pred.pattern, rng)
                yield f"{p} {v}" if rng.random() < 0.7 else f"{rng.choice(subjects)} {v} {p}"
    for e in emotion_entries():
        for _ in range(samples):
            word = sample_pattern(e.pattern, rng)
            yield rng.choice((f"she looks {word}", f"he seems {word}", word, f"{word} face"))


def none_phrases(backgrounds: Sequence[str]) -> Iterator[str]:
    """Clauses with no facial action: the backgrounds' clauses and :data:`NARRATIVE_CLAUSES`."""
    yield from corpus_phrases(backgrounds)
    yield from NARRATIVE_CLAUSES
