"""The dataset card: a Markdown README with statistics and exactly how each part of a corpus was made."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .loader import Dataset, dataset_stats

__all__ = ["dataset_card"]


def _table(rows: Mapping[str, Any], header: tuple[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return lines


def dataset_card(dataset: Dataset, *, stats: Mapping[str, Any] | None = None, real_part: bool = True,
                 takes: int = 0) -> str:
    """The card of a corpus built by :func:`keyframeface.data.corpus.build_corpus` (Markdown text).

    ``stats``: :func:`keyframeface.data.loader.dataset_stats` of ``dataset`` (computed when ``None``);
    ``real_part``: whether real captures were used; ``takes``: how many.
    """
    s = dict(stats or dataset_stats(dataset))
    gen = dict(dataset.info.get("generator") or {})
    lines = [
        f"# {dataset.info.get('name', 'keyframeface corpus')}",
        "",
        "Keyframe descriptions paired with the 61 ARKit / Live Link Face channel values of each keyframe, for "
        "training and evaluating language-to-facial-animation models (the KeyframeFace task, arXiv 2512.11321). "
        "Built by keyframeface; not the KeyframeFace authors' dataset.",
        "",
        "## How to rebuild",
        "",
        f"    {gen.get('command', 'keyframeface dataset build -o corpus')}",
        "",
        f"keyframeface {gen.get('package_version', '?')}, annotator version {gen.get('annotator_version', '?')}, "
        f"seed {gen.get('seed', '?')}. The same command, seed and package version give the same clips.",
        "",
        "## Statistics",
        "",
        *_table({
            "clips": s["clips"],
            "keyframes": s["keyframes"],
            "keyframes per clip": s["keyframes_per_clip"],
            "description words (mean / min / max)": "{mean} / {min} / {max}".format(**s["description_words"]),
            **{f"clips in {k}": v for k, v in s["clips_per_split"].items()},
            **{f"keyframes in {k}": v for k, v in s["keyframes_per_split"].items()},
            **{f"groups in {k}": v for k, v in s["groups_per_split"].items()},
            **{f"{k} clips": v for k, v in s["clips_per_kind"].items()},
        }, ("statistic", "value")),
        "",
        "Expression categories of the keyframes (nearest FACS prototype, annotator):",
        "",
        *_table(s["categories"], ("category", "keyframes")),
        "",
        "Most active channels (mean value over all keyframes):",
        "",
        *_table(s["most_active_channels"], ("channel", "mean")),
        "",
        "## How each part was made",
        "",
    ]
    if real_part:
        lines += [
            f"**Real** ({s['clips_per_kind'].get('real', 0)} clips from {takes} takes). Every Live Link Face take "
            "in keyframeface's shared folder (`realdata/`: real iPhone ARKit captures, see each folder's "
            "SOURCE.md for origin and licence) was read with `keyframeface.io.livelink_csv.read_livelink_csv` "
            "(tracking-loss rows skipped, values clamped into range) and reduced to keyframes with "
            "`keyframeface.extract.extract(count=...)` at two densities (one keyframe per "
            f"{' s and per '.join(str(x) for x in gen.get('real_spacings_s', []))} s of capture). Consecutive "
            "keyframes were cut into clips of 3-5; every clip also appears mirrored left/right "
            "(`rig.mirror`, meta `mirrored: true`). The captures are referenced (`shared:realdata/...`, "
            "`capture_frames`), never copied; their licences apply to derived values.",
            "",
        ]
    else:
        lines += [
            "**Real**: not built: keyframeface's shared folder (real Live Link Face captures) was not found "
            "(or `--no-shared` was given), so this corpus holds the synthetic part only.",
            "",
        ]
    lines += [
        f"**Synthetic** ({s['clips_per_kind'].get('synthetic', 0)} clips). Emotion arcs of 2-5 keyframes over the "
        "FACS emotion prototypes of `keyframeface.semantics.emotions`: the basic emotions of Ekman & Friesen "
        "(FACS manual Table 11-1) and the EMFACS set, the compound emotions of Du, Tao & Martinez (2014), and "
        "this project's compositions (anxiety, confusion, pain after Prkachin 1992, ...), all mapped to ARKit "
        "channels through the AU table of reference/FACS.md. Each keyframe: a prototype at a random intensity "
        "(0.3-1.0), each active channel varied by +/-20%, one side weakened (30% of keyframes), a gaze "
        "direction (50%), a small head rotation within +/-0.2 (40%), closed eyes (8%); eye rotations follow the "
        "eyeLook channels (rig convention: eye pitch positive = looking down). Times: gaps of 0.5-2.5 s. "
        "Backgrounds are emotion-neutral situations; the emotion field names the arc's emotions.",
        "",
        "**Descriptions** (both parts) were written from the values by the deterministic annotator "
        "(`keyframeface.semantics.annotate`): intensity words calibrated on the `rules` composer, sides, gaze, "
        "head, and what changed since the previous keyframe; each keyframe also carries the four-part "
        "structured description (category, movements by region, implication, symmetry) under `structured`.",
        "",
        "## Splits",
        "",
        "Split by group so that nothing leaks (`keyframeface.data.splits`): real clips by source take (every "
        "window, density and mirrored copy of a take is in one split); synthetic clips by emotion family (the set "
        "of emotions an arc visits: all arcs of one family are in one split, so a test arc's combination of "
        f"emotions never appears in training). Target fractions {gen.get('fractions', [])} (train, validation, "
        "test) by clip count, groups shuffled with the seed; real and synthetic parts are split separately.",
        "",
        "## Format",
        "",
        "`manifest.jsonl` (one clip per line, the script inline), `dataset.json` (how it was made); see "
        "docs/dataset.md in keyframeface. Values follow the rig's conventions (Live Link names and order; "
        "left/right = the subject's side; eye pitch positive = down, unlike the published KeyframeFace model).",
        "",
        "## Generator settings",
        "",
        "```json",
        json.dumps(gen, indent=1, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(lines)
