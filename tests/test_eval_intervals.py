"""Bootstrap intervals (keyframeface.evaluate.intervals) on known data, and the per-clip sums behind them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.evaluate.intervals import Interval, format_interval, ratio_interval
from keyframeface.evaluate.runner import SplitRun, clip_units, score_run
from keyframeface.script import Keyframes


def test_plain_mean_bootstrap_contains_the_mean_and_is_about_right() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.1, size=400)
    iv = ratio_interval([(x, np.ones_like(x))])
    assert iv.mean == pytest.approx(x.mean())
    assert iv.low < iv.mean < iv.high
    # the percentile bootstrap of a mean is close to the normal interval mean ± 1.96 sd/sqrt(n)
    half = 1.96 * x.std() / math.sqrt(x.size)
    assert iv.high - iv.low == pytest.approx(2 * half, rel=0.15)
    assert iv.n == 400


def test_deterministic_with_seed_and_seed_matters() -> None:
    x = np.arange(20, dtype=float)
    a = ratio_interval([(x, np.ones(20))], seed=0)
    b = ratio_interval([(x, np.ones(20))], seed=0)
    c = ratio_interval([(x, np.ones(20))], seed=1)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)


def test_degenerate_inputs() -> None:
    one = ratio_interval([([3.0], [4.0])])
    assert one == Interval(0.75, 0.75, 0.75, 1)
    same = ratio_interval([([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])])
    assert same.low == same.high == same.mean == 2.0
    empty = ratio_interval([([], [])])
    assert math.isnan(empty.mean) and math.isnan(empty.low)
    assert math.isnan(ratio_interval([([0.0], [0.0])]).mean)  # nothing counted
    assert math.isnan(ratio_interval([]).mean)


def test_ratio_is_of_sums_not_mean_of_ratios() -> None:
    # clip 1: 1 keyframe, error 1; clip 2: 3 keyframes, error 0 -> pooled error 1/4, not (1 + 0) / 2
    iv = ratio_interval([([1.0, 0.0], [1.0, 3.0])])
    assert iv.mean == pytest.approx(0.25)
    assert 0.0 <= iv.low <= 0.25 <= iv.high <= 1.0


def test_pooling_over_seeds_covers_seed_variation() -> None:
    ones = np.ones(50)
    rng = np.random.default_rng(0)
    a = rng.normal(0.2, 0.01, 50)
    b = rng.normal(0.4, 0.01, 50)
    single = ratio_interval([(a, ones)])
    pooled = ratio_interval([(a, ones), (b, ones)])
    assert pooled.mean == pytest.approx((a.mean() + b.mean()) / 2)
    # each seed's clip interval is narrow; the pooled one spans both seeds' centres
    assert single.high - single.low < 0.02
    assert pooled.low < a.mean() + 0.005 and pooled.high > b.mean() - 0.005


def test_zero_denominator_units_are_kept_but_add_nothing() -> None:
    iv = ratio_interval([([1.0, 0.0, 2.0], [2.0, 0.0, 2.0])])
    assert iv.mean == pytest.approx(0.75)
    assert iv.low <= iv.mean <= iv.high


@pytest.mark.parametrize("groups, kwargs, match", [
    ([([1.0, 2.0], [1.0])], {}, "as many"),
    ([([float("nan")], [1.0])], {}, "finite"),
    ([([1.0], [-1.0])], {}, "non-negative"),
    ([([1.0], [1.0])], {"resamples": 0}, "resamples"),
    ([([1.0], [1.0])], {"resamples": True}, "resamples"),
    ([([1.0], [1.0])], {"level": 1.0}, "level"),
])
def test_bad_inputs_are_refused(groups: list, kwargs: dict, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        ratio_interval(groups, **kwargs)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0.1, 10)), min_size=1, max_size=30),
       st.integers(0, 2**16))
def test_interval_always_contains_its_mean(units: list[tuple[float, float]], seed: int) -> None:
    num, den = zip(*units, strict=True)
    iv = ratio_interval([(num, den)], resamples=200, seed=seed)
    assert iv.low <= iv.mean <= iv.high
    assert min(n / d for n, d in units) - 1e-9 <= iv.low and iv.high <= max(n / d for n, d in units) + 1e-9


def test_format_interval() -> None:
    assert format_interval(0.01874, 0.01721, 0.02034, digits=4) == "0.0187 [0.0172, 0.0203]"
    assert format_interval(1.0, 1.0, 1.0) == "1.000"
    assert format_interval(0.5, None, None) == "0.500"
    assert format_interval(float("nan"), 0.0, 1.0) == "-"
    assert format_interval(0.5, float("nan"), 0.6) == "0.500"


def _run() -> SplitRun:
    rng = np.random.default_rng(3)
    truths, preds = [], []
    for k in (1, 3, 2):
        true = rng.uniform(0, 1, (k, rig.NUM_CHANNELS)).astype(np.float32)
        true[:, rig.NUM_BLENDSHAPES:] = 0.0
        truths.append(Keyframes.from_array(true))
        pred = np.clip(true + rng.normal(0, 0.1, true.shape), rig.LOW, rig.HIGH).astype(np.float32)
        preds.append(pred)
    preds[1][2] = np.nan  # one failed keyframe
    return SplitRun("x", ("a", "b", "c"), tuple(truths), tuple(preds), 1.0, 0, {}, {"c": 1})


def test_clip_units_sum_to_what_score_run_reports() -> None:
    from keyframeface.models.evaluator.inference import load_evaluator

    run = _run()
    units = clip_units(run)
    scores = score_run(run, evaluator=load_evaluator())
    for key in ("mse", "mae", "mae_brows", "mse_mouth", "mae_pose"):
        num, den = units[key]
        assert len(num) == 3
        assert num.sum() / den.sum() == pytest.approx(scores[key], rel=1e-5), key
    num, den = units["validity"]
    assert list(den) == [1, 3, 2] and list(num) == [1, 2, 1]  # the NaN keyframe and the repaired one don't count
    assert scores["validity"] == pytest.approx(4 / 6)


def test_sampled_seeds_pool_into_one_interval(tmp_path_factory: pytest.TempPathFactory) -> None:
    from keyframeface.backends.base import Backend, Capabilities, DirectResult, GenerationOptions
    from keyframeface.data.corpus import build_corpus
    from keyframeface.evaluate.runner import EVAL_CASES_PATH, evaluate_backend, load_split
    from keyframeface.script import Script

    class Noisy(Backend):
        """Neutral face plus seed-dependent noise: a stand-in for a sampling LLM."""

        name = "noisy"
        capabilities = Capabilities(seed=True)

        def generate_values(self, script: Script, index: int, *, previous: np.ndarray | None,
                            options: GenerationOptions) -> DirectResult:
            rng = np.random.default_rng([options.seed or 0, index, len(script.keyframes)])
            values = np.clip(rig.neutral() + rng.uniform(0, 0.2 * (1 + (options.seed or 0)), rig.NUM_CHANNELS),
                             rig.LOW, rig.HIGH)
            return DirectResult(values.astype(np.float32))

    root = tmp_path_factory.mktemp("pool") / "corpus"
    build_corpus(root, seed=5, size=40, use_shared=False)
    clips = load_split(root, limit=4)
    raw = json.loads(EVAL_CASES_PATH.read_text(encoding="utf-8"))
    raw["cases"] = raw["cases"][:3]
    path = tmp_path_factory.mktemp("cases") / "cases.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    one = evaluate_backend(Noisy(), clips, seeds=[0], temperature=0.5, cases_path=path)
    three = evaluate_backend(Noisy(), clips, seeds=[0, 1, 2], temperature=0.5, cases_path=path)
    assert three.info["generations"] == 3 and three.semantic is not None and three.semantic["generations"] == 3
    assert three.semantic["checks_total"] == 3 * one.semantic["checks_total"]  # type: ignore[index]
    iv1, iv3 = one.intervals["mae"], three.intervals["mae"]
    assert iv3.mean == pytest.approx(three.summary["mae"][0])
    assert iv3.low <= iv3.mean <= iv3.high
    # larger noise for later seeds: the pooled interval reaches above the first seed's
    assert iv3.high > iv1.high and iv3.mean > iv1.mean
