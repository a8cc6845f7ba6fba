"""The BERT/MiniLM forward pass of all-MiniLM-L6-v2 in numpy float32, with weights taken from its ONNX graph.

Weights are found by following the graph, not by trusting names: every ``MatMul`` whose second operand is a
constant (an initializer, or ``Mul(Cast(int8), scale)`` as in the int8 export) is a linear layer, and the ``Add``
that consumes it names the layer through its bias (``...attention.self.query.bias``). Embedding tables are the
``Gather`` data operands fed by the graph inputs, layer norms the ``LayerNormalization`` nodes. The int8 matrices
are dequantized once at load exactly as the graph does (``float32(q) * scale``); the 30,522-row word table stays
int8 and only the gathered rows are dequantized.

Pipeline (sentence-transformers' all-MiniLM-L6-v2): embeddings (word + position + token type 0) -> LayerNorm ->
6 x [12-head self attention with the padding mask -> add & LayerNorm -> GELU(erf) MLP -> add & LayerNorm] ->
mean pooling over real tokens -> L2 normalisation.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from keyframeface.errors import FormatError
from keyframeface.models.bundled.encoder.onnx_proto import OnnxGraph, OnnxModel, OnnxNode

__all__ = ["MiniLM", "gelu", "layer_norm"]

logger = logging.getLogger(__name__)

_F32 = np.float32
# Abramowitz & Stegun, Handbook of Mathematical Functions (1964), formula 7.1.26: |error| <= 1.5e-7 for erf.
_AS_P = _F32(0.3275911)
_AS_A = tuple(_F32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
_INV_SQRT2 = _F32(1.0 / np.sqrt(2.0))


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, ``0.5 * x * (1 + erf(x / sqrt(2)))``, float32, computed in place on ``x`` and returned.

    erf uses Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7, about 6e-7 after float32 rounding), so no scipy.
    """
    a = np.abs(x) * _INV_SQRT2
    t = a * _AS_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _AS_A[0]
    for coefficient in _AS_A[1:]:
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # poly = 1 - erf(|x| / sqrt 2)
    # 0.5 * x * (1 + erf(x/sqrt2)) = x - 0.5 * x * (1 - erf(x/sqrt2)) for x >= 0, 0.5 * x * (1 - erf(|x|/sqrt2)) else
    poly *= 0.5
    poly *= x
    np.subtract(x, poly, out=x, where=x >= 0)
    np.copyto(x, poly, where=x < 0)
    return x


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis in float32 (ONNX LayerNormalization with stash_type=1)."""
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = np.mean(np.square(centered), axis=-1, keepdims=True)
    centered *= 1.0 / np.sqrt(var + _F32(eps))
    centered *= weight
    centered += bias
    return centered


@dataclass(frozen=True)
class _Layer:
    qkv_weight: np.ndarray  # (hidden, 3 * hidden): query | key | value
    qkv_bias: np.ndarray
    out_weight: np.ndarray
    out_bias: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray, float]
    mlp_in_weight: np.ndarray
    mlp_in_bias: np.ndarray
    mlp_out_weight: np.ndarray
    mlp_out_bias: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray, float]


class _GraphWeights:
    """Constant folding of the weight sub-graphs of an ONNX model (Cast, Mul, Identity of initializers)."""

    def __init__(self, graph: OnnxGraph, source: str) -> None:
        self.graph = graph
        self.source = source
        self.producer: dict[str, OnnxNode] = {}
        self.consumers: dict[str, list[OnnxNode]] = {}
        for node in graph.nodes:
            for output in node.outputs:
                self.producer[output] = node
            for name in node.inputs:
                self.consumers.setdefault(name, []).append(node)
        self._cache: dict[str, np.ndarray | None] = {}

    def fail(self, message: str) -> FormatError:
        return FormatError(f"{self.source}: not an all-MiniLM-L6-v2 style BERT graph: {message}")

    def quantized(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(int8 q, float scale)`` when ``name`` is ``Mul(Cast(q), scale)`` of initializers, else None."""
        node = self.producer.get(name)
        if node is None or node.op_type != "Mul" or len(node.inputs) != 2:
            return None
        for data, scale in (node.inputs, node.inputs[::-1]):
            cast = self.producer.get(data)
            if cast is None or cast.op_type != "Cast" or cast.inputs[0] not in self.graph.initializers:
                continue
            scale_array = self.constant(scale)
            if scale_array is None:
                continue
            return self.graph.initializers[cast.inputs[0]].array, scale_array.astype(_F32)
        return None

    def constant(self, name: str) -> np.ndarray | None:
        """The value of ``name`` if it only depends on initializers through Cast/Mul/Identity, else None."""
        if name in self._cache:
            return self._cache[name]
        value: np.ndarray | None = None
        if name in self.graph.initializers:
            value = self.graph.initializers[name].array
        else:
            node = self.producer.get(name)
            if node is not None and node.op_type == "Identity" and len(node.inputs) == 1:
                value = self.constant(node.inputs[0])
            elif node is not None and node.op_type == "Cast" and node.attributes.get("to") == 1:
                # Only casts to float32 (TensorProto.FLOAT) occur in the weight sub-graphs of these exports.
                inner = self.constant(node.inputs[0])
                value = None if inner is None else inner.astype(_F32)
            elif node is not None and node.op_type == "Mul" and len(node.inputs) == 2:
                # Multiply Cast(int8) operands without materialising the cast: the ufunc casts to float32 on the
                # fly, which gives the same float32 products as the graph's Cast then Mul, in one pass.
                left, right = (self._uncast(i) for i in node.inputs)
                if left is not None and right is not None:
                    value = np.multiply(left, right, dtype=_F32)
        self._cache[name] = value
        return value

    def _uncast(self, name: str) -> np.ndarray | None:
        node = self.producer.get(name)
        if (
            node is not None
            and node.op_type == "Cast"
            and node.attributes.get("to") == 1
            and node.inputs[0] in self.graph.initializers
            and name not in self._cache
        ):
            return self.graph.initializers[node.inputs[0]].array
        return self.constant(name)

    def linear_layers(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Module name (bias name without ``.bias``) -> (weight (in, out) float32, bias (out,) float32)."""
        layers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for node in self.graph.nodes:
            if node.op_type not in ("MatMul", "Gemm") or len(node.inputs) < 2:
                continue
            weight = self.constant(node.inputs[1])
            if weight is None or weight.ndim != 2:
                continue
            if node.op_type == "Gemm":
                if node.attributes.get("transB", 0):
                    weight = weight.T
                if len(node.inputs) > 2:
                    layers[self._module(node.inputs[2], node)] = (weight, self._bias(node.inputs[2], node))
                    continue
            adds = [n for n in self.consumers.get(node.outputs[0], []) if n.op_type == "Add"]
            if len(adds) != 1:
                raise self.fail(f"MatMul {node.name!r} is not followed by one bias Add")
            bias_name = next((i for i in adds[0].inputs if i != node.outputs[0]), "")
            layers[self._module(bias_name, node)] = (np.ascontiguousarray(weight, dtype=_F32), self._bias(bias_name, node))
        return layers

    def _module(self, bias_name: str, node: OnnxNode) -> str:
        if not bias_name.endswith(".bias"):
            raise self.fail(f"the bias of {node.op_type} {node.name!r} is {bias_name!r}, not a '<module>.bias' initializer")
        return bias_name[: -len(".bias")]

    def _bias(self, name: str, node: OnnxNode) -> np.ndarray:
        bias = self.constant(name)
        if bias is None or bias.ndim != 1:
            raise self.fail(f"the bias {name!r} of {node.name!r} is not a constant vector")
        return bias.astype(_F32)

    def layer_norms(self) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
        """Module name -> (weight, bias, epsilon) of every LayerNormalization node over the last axis."""
        norms: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        for node in self.graph.nodes:
            if node.op_type != "LayerNormalization":
                continue
            if node.attributes.get("axis", -1) != -1 or len(node.inputs) != 3:
                raise self.fail(f"LayerNormalization {node.name!r} is not over the last axis with a bias")
            weight, bias = self.constant(node.inputs[1]), self.constant(node.inputs[2])
            if weight is None or bias is None or not node.inputs[1].endswith(".weight"):
                raise self.fail(f"LayerNormalization {node.name!r} has no constant '<module>.weight'")
            epsilon = node.attributes.get("epsilon", 1e-5)
            if not isinstance(epsilon, float):
                raise self.fail(f"LayerNormalization {node.name!r} has a non-float epsilon")
            norms[node.inputs[1][: -len(".weight")]] = (weight.astype(_F32), bias.astype(_F32), epsilon)
        return norms

    def head_size(self, query_bias_name: str) -> int:
        """Attention head size: the last entry of the Reshape target shape applied to the query projection."""
        add = next(n for n in self.consumers.get(query_bias_name, []) if n.op_type == "Add")
        reshape = next((n for n in self.consumers.get(add.outputs[0], []) if n.op_type == "Reshape"), None)
        if reshape is None:
            raise self.fail("the query projection is not reshaped into heads")
        shape = self.producer.get(reshape.inputs[1])
        last = None
        if shape is not None and shape.op_type == "Concat":
            last = self.constant(shape.inputs[-1])
        else:
            last = self.constant(reshape.inputs[1])
        if last is None or last.size < 1 or int(last.reshape(-1)[-1]) <= 0:
            raise self.fail("cannot read the attention head size from the query Reshape")
        return int(last.reshape(-1)[-1])


class MiniLM:
    """A BERT encoder (MiniLM-L6-H384) evaluated with numpy.

    Use :meth:`from_onnx`; :meth:`embed` maps token ids to L2-normalised mean-pooled sentence vectors.
    """

    def __init__(
        self,
        *,
        word_q: np.ndarray,
        word_scale: np.ndarray | None,
        position: np.ndarray,
        token_type: np.ndarray,
        embed_norm: tuple[np.ndarray, np.ndarray, float],
        layers: list[_Layer],
        num_heads: int,
    ) -> None:
        self.word_q = word_q
        self.word_scale = word_scale
        self.position = position
        self.token_type0 = token_type[0]
        self.embed_norm = embed_norm
        self.layers = layers
        self.num_heads = num_heads
        self.hidden = int(position.shape[1])
        self.head_size = self.hidden // num_heads
        self.max_positions = int(position.shape[0])

    @classmethod
    def from_onnx(cls, model: OnnxModel, *, source: str = "<onnx>") -> MiniLM:
        """Build the encoder from a parsed BERT ONNX export (float or int8 ``Mul(Cast(q), scale)`` weights).

        Raises FormatError when the graph lacks an expected piece (embedding tables, layers, layer norms).
        """
        weights = _GraphWeights(model.graph, source)
        tables: dict[str, str] = {}
        for node in model.graph.nodes:
            if node.op_type == "Gather" and len(node.inputs) == 2:
                kind = {"input_ids": "word", "token_type_ids": "token_type"}.get(node.inputs[1], "position")
                tables[kind] = node.inputs[0]
        if set(tables) != {"word", "position", "token_type"}:
            raise weights.fail(f"expected word, position and token type Gather tables, found {sorted(tables)}")
        word = weights.quantized(tables["word"])
        word_scale: np.ndarray | None
        if word is not None:
            # Copy the int8 table so the model does not keep the whole file's bytes alive through a view.
            word_q, word_scale = word[0].copy(), word[1]
            if word_scale.shape != (word_q.shape[0], 1):
                word_q, word_scale = np.multiply(word_q, word_scale, dtype=_F32), None
        else:
            word_value = weights.constant(tables["word"])
            if word_value is None:
                raise weights.fail("the word embedding table is not constant")
            word_q, word_scale = word_value.astype(_F32), None
        position, token_type = (weights.constant(tables[k]) for k in ("position", "token_type"))
        if position is None or token_type is None:
            raise weights.fail("position or token type embeddings are not constant")

        linear = weights.linear_layers()
        norms = weights.layer_norms()
        embed_norm_name = next((n for n in norms if n.endswith("embeddings.LayerNorm")), None)
        if embed_norm_name is None:
            raise weights.fail("no embeddings.LayerNorm")
        prefix = embed_norm_name[: -len("embeddings.LayerNorm")]
        indices = sorted(
            int(m.group(1))
            for name in linear
            if (m := re.fullmatch(re.escape(prefix) + r"encoder\.layer\.(\d+)\.attention\.self\.query", name))
        )
        if not indices or indices != list(range(len(indices))):
            raise weights.fail(f"encoder layers are missing or not numbered 0..n-1 (found {indices})")
        layers = []
        for index in indices:
            base = f"{prefix}encoder.layer.{index}."
            try:
                q, k, v = (linear[base + f"attention.self.{p}"] for p in ("query", "key", "value"))
                layers.append(
                    _Layer(
                        qkv_weight=np.ascontiguousarray(np.concatenate([q[0], k[0], v[0]], axis=1)),
                        qkv_bias=np.concatenate([q[1], k[1], v[1]]),
                        out_weight=linear[base + "attention.output.dense"][0],
                        out_bias=linear[base + "attention.output.dense"][1],
                        ln1=norms[base + "attention.output.LayerNorm"],
                        mlp_in_weight=linear[base + "intermediate.dense"][0],
                        mlp_in_bias=linear[base + "intermediate.dense"][1],
                        mlp_out_weight=linear[base + "output.dense"][0],
                        mlp_out_bias=linear[base + "output.dense"][1],
                        ln2=norms[base + "output.LayerNorm"],
                    )
                )
            except KeyError as error:
                raise weights.fail(f"layer {index} lacks {error.args[0]!r}") from None
        hidden = int(position.shape[1])
        head_size = weights.head_size(f"{prefix}encoder.layer.0.attention.self.query.bias")
        if hidden % head_size:
            raise weights.fail(f"hidden size {hidden} is not a multiple of the head size {head_size}")
        if word_q.shape[1] != hidden or layers[0].qkv_weight.shape != (hidden, 3 * hidden):
            raise weights.fail("embedding and projection sizes disagree")
        logger.debug("MiniLM from %s: %d layers, hidden %d, %d heads", source, len(layers), hidden, hidden // head_size)
        return cls(
            word_q=word_q,
            word_scale=word_scale,
            position=position.astype(_F32),
            token_type=token_type.astype(_F32),
            embed_norm=norms[embed_norm_name],
            layers=layers,
            num_heads=hidden // head_size,
        )

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states, (batch, seq, hidden) float32, for ``ids`` (batch, seq) int with ``mask`` 1/0.

        Token type ids are all 0 (single sentences). ``seq`` must not exceed the position table (512).
        """
        batch, seq = ids.shape
        if seq > self.max_positions:
            raise ValueError(f"sequence of {seq} tokens exceeds the model's {self.max_positions} positions")
        heads, size, hidden = self.num_heads, self.head_size, self.hidden
        x = self.word_q[ids].astype(_F32)
        if self.word_scale is not None:
            x *= self.word_scale[ids]
        x += self.position[:seq]
        x += self.token_type0
        x = layer_norm(x.reshape(batch * seq, hidden), *self.embed_norm)
        # Padding keys get the most negative float32 added before softmax, as the exported graph does.
        additive = np.where(mask[:, None, None, :] > 0, _F32(0.0), np.finfo(_F32).min).astype(_F32)
        scale = _F32(1.0 / np.sqrt(size))
        for layer in self.layers:
            qkv = x @ layer.qkv_weight
            qkv += layer.qkv_bias
            qkv = qkv.reshape(batch, seq, 3, heads, size).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = np.matmul(q * scale, k.transpose(0, 1, 3, 2))
            scores += additive
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(batch * seq, hidden)
            attended = context @ layer.out_weight
            attended += layer.out_bias
            attended += x
            x = layer_norm(attended, *layer.ln1)
            inner = x @ layer.mlp_in_weight
            inner += layer.mlp_in_bias
            out = gelu(inner) @ layer.mlp_out_weight
            out += layer.mlp_out_bias
            out += x
            x = layer_norm(out, *layer.ln2)
        return x.reshape(batch, seq, hidden)

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Sentence vectors (batch, hidden) float32: mean of the hidden states over ``mask``, L2-normalised.

        Matches sentence-transformers' Pooling(mean) + Normalize (clamps: count >= 1e-9, norm >= 1e-12).
        """
        states = self.hidden_states(ids, mask)
        weights = mask.astype(_F32)[:, :, None]
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), _F32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, _F32(1e-12))).astype(_F32)
