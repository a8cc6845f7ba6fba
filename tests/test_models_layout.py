"""One folder per shipped model (``keyframeface/models/<name>/``): code, training, weights and recipe together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import keyframeface
from keyframeface.io.files import sha256_file

PACKAGE = Path(keyframeface.__file__).resolve().parent
MODELS = PACKAGE / "models"

#: name -> (shipped weights, their recipe, the training entry point in models/<name>/train.py)
SHIPPED = {
    "bundled": ("bundled-head.npz", "bundled-head.json", "train_bundled"),
    "evaluator": ("evaluator.npz", "evaluator.json", "train_evaluator"),
    "lora": ("gemma3-270m-keyframes-lora.gguf", "gemma3-270m-keyframes-lora.json", "train_lora"),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_model_folder_holds_its_weights_recipe_and_training(name: str) -> None:
    weights, recipe, _entry = SHIPPED[name]
    folder = MODELS / name
    for part in ("__init__.py", "train.py", weights, recipe):
        assert (folder / part).is_file(), f"models/{name}/{part} is missing"
    assert json.loads((folder / recipe).read_text())["sha256"] == sha256_file(folder / weights)


def test_the_old_stage_folders_are_gone() -> None:
    """The models' code no longer lives in stage folders (``bundled/``, ``encoder/``, ``train/``)."""
    for old in ("bundled", "encoder", "train", "evaluate/evaluator.py", "evaluate/data/evaluator.npz"):
        assert not (PACKAGE / old).exists(), old


def test_default_paths_point_into_the_model_folders() -> None:
    from keyframeface.backends.llama import shipped_adapter
    from keyframeface.models.bundled.head import DEFAULT_HEAD_PATH
    from keyframeface.models.evaluator.inference import DEFAULT_RECIPE_PATH, DEFAULT_WEIGHTS_PATH

    info = shipped_adapter()
    found = {"head": DEFAULT_HEAD_PATH, "evaluator": DEFAULT_WEIGHTS_PATH, "evaluator recipe": DEFAULT_RECIPE_PATH,
             "adapter": info.path if info is not None else None}
    assert found == {"head": MODELS / "bundled" / SHIPPED["bundled"][0],
                     "evaluator": MODELS / "evaluator" / SHIPPED["evaluator"][0],
                     "evaluator recipe": MODELS / "evaluator" / SHIPPED["evaluator"][1],
                     "adapter": MODELS / "lora" / SHIPPED["lora"][0]}


def test_training_modules_import_without_torch() -> None:
    """Each model's ``train.py`` is importable without torch (it imports torch when it runs)."""
    mods = ", ".join(f"keyframeface.models.{name}.train" for name in sorted(SHIPPED))
    entries = " and ".join(f"hasattr(sys.modules['keyframeface.models.{n}.train'], '{e}')"
                           for n, (_w, _r, e) in sorted(SHIPPED.items()))
    code = f"import sys, {mods}; print('torch' in sys.modules, {entries})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
