"""Negation, contrast and carry-over: the words that decide a mention's :class:`~.mentions.Mode`.

Cue kinds (tagger entries) and their scope, as applied by :mod:`keyframeface.semantics.binding`:

* ``neg`` ("not", "no", "never", "without", "nor", "instead of" ...) and ``stop`` ("no longer", "stops",
  "ceases to", "drops the" ...) turn the actions that follow them **off**, up to the end of the clause or the next
  "and" / comma ("without smiling or frowning" negates both; "doesn't smile and looks away" only the smile).
  Both cues together cancel ("can't stop smiling").
* ``keep`` ("still", "remains", "keeps", "stays", "continues to", "as before" ...) **carries** the state of the
  previous keyframe, before ("still smiling"), inside ("the brows remain worried") or right after ("the smile
  stays") the words it applies to.
* ``mode`` words after an action or a face part change it relative to the previous keyframe: ``fade`` ("fades",
  "disappears", "is gone"), ``soften`` ("softens", "eases", "falters"), ``relax`` ("relaxes", "smooths out",
  "returns to neutral") and ``grow`` ("grows", "deepens", "widens", "wider").
* ``conceal`` ("hides", "masks", "suppresses", "fights back", "holding back") weakens what follows it
  (:data:`CONCEAL_FACTOR`): "trying to hide a smile" is a faint smile, "fights back tears" a trembling chin.
* ``reveal`` ("fails to hide", "can't conceal") cancels both: the action that follows shows in full.
* ``hold`` ("same expression", "freezes", "holds the pose") keeps the whole previous face.

Between keyframes (the composer's carry-over rule, documented in :mod:`keyframeface.semantics.composer`):
an explicit keep carries fully; everything not mentioned relaxes toward the emotion baseline, keeping
:data:`RESIDUAL` of its difference from it; blinks and winks are not carried at all.
"""

from __future__ import annotations

from .tagger import Entry

__all__ = [
    "CONCEAL_FACTOR",
    "KEEP_MIN_SHARE",
    "MODE_FACTORS",
    "RESIDUAL",
    "cue_entries",
]

#: Share of an unmentioned channel's difference from the emotion baseline that survives into the next keyframe.
#: The release example relaxes unmentioned lip pressure from 0.4 to 0.1 (a quarter) and keeps an unmentioned
#: eye squint; 0.3 sits between.
RESIDUAL = 0.3
#: "still raised" keeps the previous value only when it shows the action at least this share of its default
#: strength; otherwise the action is shown at its default ("eyebrows still raised" after barely raised brows).
KEEP_MIN_SHARE = 0.5
#: How much of a concealed action or emotion shows.
CONCEAL_FACTOR = 0.4
#: Share of the previous value left by each reducing mode word (``grow`` increases instead).
MODE_FACTORS = {"vanish": 0.0, "fade": 0.12, "soften": 0.5, "relax": 0.25}

_BE = "(is|are|was|were|has|have|had|be|been|being)"


def cue_entries() -> list[Entry]:
    """Tagger entries for negation, stop, keep, mode, conceal and hold cues."""
    return [
        # negation
        Entry("neg", "not", "(not|no|never|without|nor|neither|none|nothing|non|lacks|lacking|lack of|free of|devoid of|absent|instead of|rather than|fails to|failing to|refuses to|refusing to|anything but|no sign of|no trace of|with no|not even|not any|no more than a)"),
        Entry("neg", "not", "(avoid|avoids|avoided|avoiding|resists|resisting|resisted|resist|holds off)"),
        # stop
        Entry("stop", "stop", "(no longer|not anymore|any longer|stop|stops|stopped|stopping|cease|ceases|ceased|ceasing|quit|quits|quitting|gives up|give up|gave up|drops the|drop the|loses the|lost the|loses her|loses his|wipes off|wiped off|wipes away|lets go of|let go of|lets go|breaks off|abandons)"),
        # keep
        Entry("keep", "keep", "(still|remain|remains|remained|remaining|keep|keeps|kept|keeping|stay|stays|stayed|staying|continue|continues|continued|continuing|maintain|maintains|maintained|maintaining|persist|persists|persisting|linger|lingers|lingering|hold|holds|held|holding|sustain|sustains|sustained|as before|yet again|again|carries on|carry on|goes on|go on|steady|steadily|unwavering|unwaveringly)"),
        Entry("keep", "keep", f"{_BE} still"),
        # modes relative to the previous keyframe
        Entry("mode", "vanish", "(disappear|disappears|disappeared|disappearing|vanish|vanishes|vanished|vanishing|is gone|are gone|was gone|goes away|gone|wiped away|evaporates|evaporated|dies|died|dissolves|dissolved|falls away|fell away|drops away|drains away|drained away|wiped|erased|is wiped)"),
        Entry("mode", "fade", "(fade|fades|faded|fading|fades away|fade away|faded away|fading away|dies away|dies down|melts away|melted away|wanes|waned|slips away|slipped away|ebbs|ebbs away|recedes|receded|retreats|retreated|washes away|flickers out|peters out|slips|slip)"),
        Entry("mode", "soften", "(soften|softens|softened|softening|ease|eases|eased|easing|lessen|lessens|lessened|diminish|diminishes|diminished|weaken|weakens|weakened|subside|subsides|subsided|shrink|shrinks|shrank|dims|dimmed|dwindles|falters|faltered|faltering|wavers|wavered|wobbles|loosen|loosens|loosened|tones down|calms|calmed|mellows)"),
        Entry("mode", "relax", "(relax|relaxes|relaxed|relaxing|unclench|unclenches|unclenched|unfurrow|unfurrows|unfurrowed|smooth out|smooths out|smoothed out|smooths|smoothed|smoothes|settle|settles|settled|settling|calm down|calms down|calmed down|untense|untenses|unknit|unknits|go back to normal|goes back to normal|back to normal|return to normal|returns to normal|returned to normal|return to rest|returns to rest|return to neutral|returns to neutral|returned to neutral|goes back to neutral|back to neutral|slacken off|releases|released|release|straighten|straightens|straightened|straightening)"),
        Entry("mode", "grow", "(grow|grows|grew|growing|broaden|broadens|broadened|broadening|deepen|deepens|deepened|deepening|intensify|intensifies|intensified|intensifying|strengthen|strengthens|strengthened|widens further|grows wider|gets bigger|get bigger|gets wider|builds|builds up|swells|swelled|increases|increased|wider|broader|bigger|even more|more broadly|more widely|more and more|further)"),
        # conceal
        Entry("conceal", "conceal", "(hide|hides|hid|hiding|hidden|conceal|conceals|concealed|concealing|mask|masks|masked|masking|suppress|suppresses|suppressed|suppressing|hold back|holds back|holding back|held back|fight back|fights back|fighting back|fought back|bite back|bites back|biting back|stifle|stifles|stifled|stifling|repress|represses|repressed|repressing|tries to hide|trying to hide|try to hide|tried to hide|struggles to hide|struggling to hide|forces down|contain|contains|contained|containing|keep in check|keeps in check|behind|barely contained|veiled|disguised|disguises|covers up|covering up|masked by|concealed by)"),
        # a failed or absent concealment shows the action in full ("fails to hide a smile", "can't hide his smile"):
        # one tag of a kind binding ignores, longer than the "neg" and "conceal" cues it covers, so neither applies
        Entry("reveal", "reveal", "(fails to|failing to|failed to|fail to|unable to|can not|cannot|could not|does not|do not|did not|is not able to) [fully|quite|entirely|even] (hide|conceal|mask|suppress|hold back|contain|stifle|disguise|hide away)"),
        # hold the whole face
        Entry("hold", "hold", "(same expression|the same face|same as before|nothing changes|no change|unchanged|motionless|holds still|stays still|stay still|stays the same|remains the same|remain the same|stays frozen|freezes|froze|frozen|freeze|holds the pose|holds the expression|holds her expression|holds his expression|holds their expression|keeps the expression|keeps the same expression|keeps her expression|keeps his expression|maintains the expression|maintains her expression|maintains his expression|holds that expression|holds this expression)"),
    ]
