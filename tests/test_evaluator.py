"""The numpy evaluator: features, the shipped checkpoint (sha256 checked), and the torch twin used in training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.evaluate.metrics import r_precision
from keyframeface.models.evaluator.inference import (
    DEFAULT_RECIPE_PATH,
    DEFAULT_WEIGHTS_PATH,
    Evaluator,
    load_evaluator,
    motion_inputs,
    param_shapes,
    position_features,
    text_features,
)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from keyframeface.data.corpus import build_corpus

    root = tmp_path_factory.mktemp("corpus") / "corpus"
    build_corpus(root, seed=1, size=120, use_shared=False)
    return root


def test_text_features_deterministic_and_bounded() -> None:
    a = text_features("She smiles, then frowns.", buckets=64)
    assert a.dtype == np.int64 and a.min() >= 0 and a.max() < 64
    assert np.array_equal(a, text_features("she SMILES then frowns", buckets=64))
    # 4 words + 3 bigrams + character trigrams ("<she>" has 3, "<smiles>" 6, "<then>" 4, "<frowns>" 6)
    assert len(a) == 4 + 3 + 3 + 6 + 4 + 6
    assert len(text_features("他笑了", buckets=64)) > 0  # CJK characters count as words
    assert len(text_features("", buckets=64)) == 0


def test_position_and_motion_inputs() -> None:
    assert position_features(1).tolist() == [[0.0, 1.0, 1.0]]
    assert position_features(3)[:, 0].tolist() == [0.0, 0.5, 1.0]
    v = np.zeros((2, rig.NUM_CHANNELS), dtype=np.float32)
    v[1, 0] = 0.4
    x = motion_inputs(v)
    assert x.shape == (2, 125)
    assert x[1, rig.NUM_CHANNELS] == pytest.approx(0.4) and x[0, rig.NUM_CHANNELS] == 0.0
    with pytest.raises(FormatError):
        motion_inputs(np.zeros((0, rig.NUM_CHANNELS)))


def test_packaged_evaluator_loads_and_embeds() -> None:
    ev = load_evaluator()
    recipe = json.loads(DEFAULT_RECIPE_PATH.read_text())
    assert ev.recipe["sha256"] == recipe["sha256"]
    assert DEFAULT_WEIGHTS_PATH.stat().st_size < 5_000_000  # "a few MB at most"
    for key in ("config", "corpus", "seed", "metrics_real_pairs", "package_version"):
        assert key in recipe
    t = ev.encode_text(["She smiles warmly.", "The smile fades."], "Bittersweet.")
    m = ev.encode_motion(np.zeros((2, rig.NUM_CHANNELS)))
    assert t.shape == m.shape == (ev.dim,)
    assert np.linalg.norm(t) == pytest.approx(1.0, abs=1e-5) and np.linalg.norm(m) == pytest.approx(1.0, abs=1e-5)
    assert ev.encode_motions([]).shape == (0, ev.dim)


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "ev.npz"
    shutil.copy(DEFAULT_WEIGHTS_PATH, weights)
    shutil.copy(DEFAULT_RECIPE_PATH, tmp_path / "ev.json")
    assert load_evaluator(weights).dim > 0
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    shutil.copy(DEFAULT_RECIPE_PATH, tmp_path / "bad.json")
    with pytest.raises(FormatError, match="sha256"):
        load_evaluator(bad)
    with pytest.raises(FormatError, match="not found"):
        load_evaluator(tmp_path / "missing.npz")


def test_deeply_nested_recipe_is_a_format_error(tmp_path: Path) -> None:
    weights = tmp_path / "deep.npz"
    shutil.copy(DEFAULT_WEIGHTS_PATH, weights)
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError):
        load_evaluator(weights)
    (tmp_path / "deep.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(FormatError):
        load_evaluator(weights)


def test_evaluator_config_is_validated() -> None:
    from keyframeface.models.evaluator.train import EvaluatorConfig

    for bad in ({"batch_size": 0}, {"batch_size": 1}, {"epochs": 0}, {"buckets": 0}, {"hidden": 0}, {"embed": 0},
                {"temperature": 0.0}, {"temperature": -1.0}, {"temperature": float("nan")}, {"lr": 0.0},
                {"word_dropout": 1.0}, {"word_dropout": -0.1}, {"batch_size": 2.5}):
        with pytest.raises(FormatError, match=next(iter(bad))):
            EvaluatorConfig(**bad)  # type: ignore[arg-type]
    assert EvaluatorConfig(batch_size=2, epochs=1, word_dropout=0.0).batch_size == 2


def test_train_evaluator_writes_pair_weights_then_recipe(small_corpus: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    import keyframeface.models.evaluator.train as train_mod

    out = tmp_path / "ev.npz"
    cfg = train_mod.EvaluatorConfig(epochs=1, buckets=64, hidden=8, embed=8)
    train_mod.train_evaluator(small_corpus, out, config=cfg)
    old_weights, old_recipe = out.read_bytes(), out.with_suffix(".json").read_text()
    real_open = train_mod.atomic_open

    def failing_open(path, mode="w", **kw):  # type: ignore[no-untyped-def]
        if str(path).endswith(".npz"):
            raise OSError("disk full")
        return real_open(path, mode, **kw)

    monkeypatch.setattr(train_mod, "atomic_open", failing_open)
    with pytest.raises(OSError):
        train_mod.train_evaluator(small_corpus, out, config=train_mod.EvaluatorConfig(
            epochs=1, buckets=64, hidden=8, embed=8, seed=1))
    assert out.read_bytes() == old_weights and out.with_suffix(".json").read_text() == old_recipe


def test_packaged_evaluator_matches_real_pairs(small_corpus: Path) -> None:
    """On a fresh corpus (another seed than training), real pairs rank far above chance (1/32)."""
    from keyframeface.data import load_dataset

    clips = load_dataset(small_corpus).split("train")
    truths = [c.resolved() for c in clips]
    ev = load_evaluator()
    text = ev.encode_texts(truths)
    motion = ev.encode_motions([t.array() for t in truths])
    top1, _, top3 = r_precision(text, motion)
    assert top1 > 0.3 and top3 > 0.6


def test_torch_twin_equals_numpy_inference() -> None:
    torch = pytest.importorskip("torch")
    from keyframeface.models.evaluator.train import EvaluatorConfig, _build_model

    cfg = EvaluatorConfig(buckets=128, hidden=16, embed=8)
    torch.manual_seed(0)
    model = _build_model(torch, cfg)
    params = model.export()
    shapes = param_shapes(cfg.buckets, cfg.hidden, cfg.embed)
    assert {k: v.shape for k, v in params.items()} == shapes
    ev = Evaluator(params)
    rng = np.random.default_rng(0)
    descs = [["He smiles.", "He frowns hard."], ["Eyes closed."]]
    emotions = ["Joy.", ""]
    motions = [rng.random((2, rig.NUM_CHANNELS)).astype(np.float32), rng.random((1, rig.NUM_CHANNELS)).astype(np.float32)]
    with torch.no_grad():
        tt = model.encode_text([([text_features(d, buckets=128) for d in ds], text_features(e, buckets=128))
                                for ds, e in zip(descs, emotions, strict=True)]).numpy()
        mm = model.encode_motion([motion_inputs(m) for m in motions]).numpy()
    assert np.allclose(tt, np.stack([ev.encode_text(d, e) for d, e in zip(descs, emotions, strict=True)]), atol=1e-5)
    assert np.allclose(mm, ev.encode_motions(motions), atol=1e-5)


def test_train_evaluator_writes_checkpoint_and_recipe(small_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from keyframeface.models.evaluator.train import EvaluatorConfig, train_evaluator

    out = tmp_path / "ev.npz"
    result = train_evaluator(small_corpus, out, config=EvaluatorConfig(epochs=2, buckets=256, hidden=16, embed=16))
    recipe = json.loads(result.recipe_path.read_text())
    assert recipe["config"]["epochs"] == 2 and recipe["seed"] == 0
    assert recipe["corpus"]["manifest_sha256"] and recipe["corpus"]["clips"]["train"] > 0
    assert set(recipe["metrics_real_pairs"]) <= {"validation", "test"}
    ev = load_evaluator(out)
    assert ev.dim == 16 and ev.buckets == 256
    with pytest.raises(FormatError, match=r"\.npz"):
        train_evaluator(small_corpus, tmp_path / "ev.bin", config=EvaluatorConfig(epochs=1))
