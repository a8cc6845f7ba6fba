"""A minimal reader of ONNX ``ModelProto`` files: protobuf wire format, pure Python + numpy.

Reads what a numpy forward pass needs: the graph's initializers (as numpy arrays), its nodes (op type, name,
inputs, outputs, attributes) and its inputs/outputs (name, element type, shape). Field numbers follow
``onnx/onnx.proto`` (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto).

Large tensors are not copied: ``raw_data`` becomes a read-only numpy view into the bytes the caller passed, so the
arrays keep that buffer alive. Any truncated, malformed or unsupported file raises
:class:`keyframeface.errors.FormatError` naming the byte offset; nothing else escapes :func:`parse_model`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from keyframeface.errors import FormatError

__all__ = [
    "OnnxAttribute",
    "OnnxGraph",
    "OnnxModel",
    "OnnxNode",
    "OnnxTensor",
    "OnnxValueInfo",
    "parse_model",
    "read_model",
]

# TensorProto.DataType -> little-endian numpy dtype (onnx.proto). 10 (float16) is stored in int32_data as bits.
_DTYPES: dict[int, str] = {
    1: "<f4",
    2: "u1",
    3: "i1",
    4: "<u2",
    5: "<i2",
    6: "<i4",
    7: "<i8",
    9: "?",
    10: "<f2",
    11: "<f8",
    12: "<u4",
    13: "<u8",
}
_WIRE_VARINT, _WIRE_I64, _WIRE_LEN, _WIRE_I32 = 0, 1, 2, 5

#: An attribute's value: int, float, bytes (strings are bytes in ONNX), a tensor, or a list of one of those.
OnnxAttribute = Union[int, float, bytes, "OnnxTensor", list[int], list[float], list[bytes], list["OnnxTensor"]]


@dataclass(frozen=True)
class OnnxTensor:
    """An initializer or attribute tensor.

    ``array`` has shape ``dims`` and the numpy dtype of ``data_type``; it may be a read-only view into the file.
    """

    name: str
    dims: tuple[int, ...]
    data_type: int
    array: np.ndarray


@dataclass(frozen=True)
class OnnxNode:
    """One graph node; ``attributes`` maps attribute name to value (see :data:`OnnxAttribute`).

    Attributes holding sub-graphs, sparse tensors or type protos are left out (no op this reader serves uses them).
    """

    op_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    domain: str = ""
    attributes: dict[str, OnnxAttribute] = field(default_factory=dict)


@dataclass(frozen=True)
class OnnxValueInfo:
    """A graph input or output: tensor element type (0 when not a tensor) and shape (int, symbol name or None)."""

    name: str
    elem_type: int
    shape: tuple[int | str | None, ...] | None


@dataclass(frozen=True)
class OnnxGraph:
    """A graph: nodes in file order (ONNX requires topological order), initializers by name, inputs, outputs."""

    name: str
    nodes: tuple[OnnxNode, ...]
    initializers: dict[str, OnnxTensor]
    inputs: tuple[OnnxValueInfo, ...]
    outputs: tuple[OnnxValueInfo, ...]


@dataclass(frozen=True)
class OnnxModel:
    """A parsed ``ModelProto``; ``opset_import`` maps domain (``""`` is the default domain) to version."""

    ir_version: int
    producer_name: str
    opset_import: dict[str, int]
    graph: OnnxGraph


class _Buffer:
    """Protobuf wire-format cursor over a memoryview; every error becomes a FormatError naming ``source``."""

    __slots__ = ("data", "source")

    def __init__(self, data: memoryview, source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, message: str, offset: int) -> FormatError:
        return FormatError(f"{self.source}: not a readable ONNX model: {message} at byte {offset}")

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        data = self.data
        result = 0
        shift = 0
        start = pos
        while True:
            if pos >= end:
                raise self.fail("truncated varint", start)
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result, pos
            shift += 7
            if shift >= 70:
                raise self.fail("varint longer than 10 bytes", start)

    def fields(self, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
        """Yield ``(field, wire_type, value_or_offset, length)`` for each field of the message in [start, end).

        For varints ``value_or_offset`` is the value (length 0); for the other wire types it is the payload's
        offset and ``length`` its size.
        """
        pos = start
        while pos < end:
            key_at = pos
            key, pos = self.varint(pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise self.fail("field number 0", key_at)
            if wire == _WIRE_VARINT:
                value, pos = self.varint(pos, end)
                yield number, wire, value, 0
                continue
            if wire == _WIRE_LEN:
                length, pos = self.varint(pos, end)
            elif wire == _WIRE_I64:
                length = 8
            elif wire == _WIRE_I32:
                length = 4
            else:
                raise self.fail(f"unsupported wire type {wire} (field {number})", key_at)
            if pos + length > end:
                raise self.fail(f"truncated field {number} ({length} bytes declared)", key_at)
            yield number, wire, pos, length
            pos += length

    def text(self, offset: int, length: int) -> str:
        try:
            return bytes(self.data[offset : offset + length]).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not UTF-8", offset) from None

    def packed(self, wire: int, value: int, length: int, dtype: str, out: list[np.ndarray]) -> None:
        """Collect a repeated fixed-width numeric field, packed (wire 2) or one element (wire 1/5)."""
        size = np.dtype(dtype).itemsize
        if wire == _WIRE_LEN:
            if length % size:
                raise self.fail(f"packed field of {length} bytes is not a multiple of {size}", value)
        elif (wire == _WIRE_I32 and size != 4) or (wire == _WIRE_I64 and size != 8) or wire == _WIRE_VARINT:
            raise self.fail(f"wire type {wire} does not fit a {dtype} field", value)
        out.append(np.frombuffer(self.data[value : value + length], dtype=dtype))

    def varints(self, wire: int, value: int, length: int, out: list[int], *, signed: bool = True) -> None:
        """Collect a repeated varint field, packed (wire 2) or one element (wire 0)."""
        if wire == _WIRE_VARINT:
            out.append(_signed64(value) if signed else value)
            return
        if wire != _WIRE_LEN:
            raise self.fail(f"wire type {wire} does not fit a varint field", value)
        pos, end = value, value + length
        while pos < end:
            item, pos = self.varint(pos, end)
            out.append(_signed64(item) if signed else item)


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def _expect(buf: _Buffer, wire: int, wanted: int, number: int, offset: int) -> None:
    if wire != wanted:
        raise buf.fail(f"field {number} has wire type {wire}, expected {wanted}", offset)


def _tensor(buf: _Buffer, start: int, end: int) -> OnnxTensor:
    """Parse a TensorProto (dims=1, data_type=2, float_data=4, int32_data=5, int64_data=7, name=8,
    raw_data=9, double_data=10, uint64_data=11, data_location=14)."""
    dims: list[int] = []
    data_type = 0
    name = ""
    raw: memoryview | None = None
    chunks: list[np.ndarray] = []
    ints: list[int] = []
    typed_field = 0
    for number, wire, value, length in buf.fields(start, end):
        if number == 1:
            buf.varints(wire, value, length, dims)
        elif number == 2:
            _expect(buf, wire, _WIRE_VARINT, number, start)
            data_type = value
        elif number == 8:
            _expect(buf, wire, _WIRE_LEN, number, value)
            name = buf.text(value, length)
        elif number == 9:
            _expect(buf, wire, _WIRE_LEN, number, value)
            raw = buf.data[value : value + length]
        elif number == 4:
            buf.packed(wire, value, length, "<f4", chunks)
            typed_field = number
        elif number == 10:
            buf.packed(wire, value, length, "<f8", chunks)
            typed_field = number
        elif number in (5, 7, 11):
            buf.varints(wire, value, length, ints, signed=number != 11)
            typed_field = number
        elif (number == 14 and value == 1) or number == 13:
            raise buf.fail("tensor data stored in an external file is not supported", start)
    label = name or "<unnamed tensor>"
    if data_type not in _DTYPES:
        raise buf.fail(f"tensor {label!r} has unsupported data type {data_type}", start)
    if any(d < 0 for d in dims):
        raise buf.fail(f"tensor {label!r} has negative dims {dims}", start)
    dtype = np.dtype(_DTYPES[data_type])
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if raw is not None:
        if len(raw) != count * dtype.itemsize:
            raise buf.fail(
                f"tensor {label!r} raw_data has {len(raw)} bytes, dims {dims} of {dtype} need {count * dtype.itemsize}",
                start,
            )
        array = np.frombuffer(raw, dtype=dtype)
    elif chunks:
        array = np.concatenate(chunks).astype(dtype, copy=False)
    elif ints or typed_field:
        if data_type == 10:  # float16 values are stored as their 16-bit patterns in int32_data
            array = np.asarray(ints, dtype=np.uint16).view(np.float16)
        else:
            array = np.asarray(ints, dtype=np.int64).astype(dtype)
    else:
        array = np.zeros(0, dtype=dtype)
    if array.size != count:
        raise buf.fail(f"tensor {label!r} holds {array.size} values, dims {dims} need {count}", start)
    return OnnxTensor(name=name, dims=tuple(dims), data_type=data_type, array=array.reshape(dims))


def _attribute(buf: _Buffer, start: int, end: int) -> tuple[str, OnnxAttribute] | None:
    """Parse an AttributeProto (name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, strings=9, tensors=10, type=20).

    Returns None for attribute kinds this reader does not decode (graphs, sparse tensors, type protos)."""
    name = ""
    kind = 0
    scalar: OnnxAttribute | None = None
    floats: list[np.ndarray] = []
    ints: list[int] = []
    strings: list[bytes] = []
    tensors: list[OnnxTensor] = []
    for number, wire, value, length in buf.fields(start, end):
        if number == 1:
            _expect(buf, wire, _WIRE_LEN, number, value)
            name = buf.text(value, length)
        elif number == 20:
            kind = value
        elif number == 2:
            _expect(buf, wire, _WIRE_I32, number, value)
            scalar = float(np.frombuffer(buf.data[value : value + 4], dtype="<f4")[0])
        elif number == 3:
            _expect(buf, wire, _WIRE_VARINT, number, start)
            scalar = _signed64(value)
        elif number == 4:
            _expect(buf, wire, _WIRE_LEN, number, value)
            scalar = bytes(buf.data[value : value + length])
        elif number == 5:
            _expect(buf, wire, _WIRE_LEN, number, value)
            scalar = _tensor(buf, value, value + length)
        elif number == 7:
            buf.packed(wire, value, length, "<f4", floats)
        elif number == 8:
            buf.varints(wire, value, length, ints)
        elif number == 9:
            _expect(buf, wire, _WIRE_LEN, number, value)
            strings.append(bytes(buf.data[value : value + length]))
        elif number == 10:
            _expect(buf, wire, _WIRE_LEN, number, value)
            tensors.append(_tensor(buf, value, value + length))
    # AttributeType (onnx.proto): 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, 8 STRINGS, 9 TENSORS.
    if kind == 6 or (kind == 0 and floats):
        return name, [float(x) for x in np.concatenate(floats)] if floats else []
    if kind == 7 or (kind == 0 and ints):
        return name, ints
    if kind == 8 or (kind == 0 and strings):
        return name, strings
    if kind == 9 or (kind == 0 and tensors):
        return name, tensors
    if scalar is None:
        if kind == 1:
            return name, 0.0
        if kind == 2:
            return name, 0
        if kind == 3:
            return name, b""
        return None
    return name, scalar


def _node(buf: _Buffer, start: int, end: int) -> OnnxNode:
    """Parse a NodeProto (input=1, output=2, name=3, op_type=4, attribute=5, domain=7)."""
    inputs: list[str] = []
    outputs: list[str] = []
    name = op_type = domain = ""
    attributes: dict[str, OnnxAttribute] = {}
    for number, wire, value, length in buf.fields(start, end):
        if number in (1, 2, 3, 4, 5, 7):
            _expect(buf, wire, _WIRE_LEN, number, value)
        if number == 1:
            inputs.append(buf.text(value, length))
        elif number == 2:
            outputs.append(buf.text(value, length))
        elif number == 3:
            name = buf.text(value, length)
        elif number == 4:
            op_type = buf.text(value, length)
        elif number == 5:
            parsed = _attribute(buf, value, value + length)
            if parsed is not None:
                attributes[parsed[0]] = parsed[1]
        elif number == 7:
            domain = buf.text(value, length)
    if not op_type:
        raise buf.fail(f"node {name!r} has no op_type", start)
    return OnnxNode(op_type, name, tuple(inputs), tuple(outputs), domain, attributes)


def _value_info(buf: _Buffer, start: int, end: int) -> OnnxValueInfo:
    """Parse a ValueInfoProto (name=1, type=2 -> TypeProto.tensor_type=1 -> elem_type=1, shape=2 -> dim=1)."""
    name = ""
    elem_type = 0
    shape: list[int | str | None] | None = None
    for number, wire, value, length in buf.fields(start, end):
        if number == 1 and wire == _WIRE_LEN:
            name = buf.text(value, length)
        elif number == 2 and wire == _WIRE_LEN:
            for t_number, t_wire, t_value, t_length in buf.fields(value, value + length):
                if t_number != 1 or t_wire != _WIRE_LEN:
                    continue
                for s_number, s_wire, s_value, s_length in buf.fields(t_value, t_value + t_length):
                    if s_number == 1 and s_wire == _WIRE_VARINT:
                        elem_type = s_value
                    elif s_number == 2 and s_wire == _WIRE_LEN:
                        shape = []
                        for d_number, d_wire, d_value, d_length in buf.fields(s_value, s_value + s_length):
                            if d_number == 1 and d_wire == _WIRE_LEN:
                                shape.append(_dimension(buf, d_value, d_value + d_length))
    return OnnxValueInfo(name, elem_type, tuple(shape) if shape is not None else None)


def _dimension(buf: _Buffer, start: int, end: int) -> int | str | None:
    dim: int | str | None = None
    for number, wire, value, length in buf.fields(start, end):
        if number == 1 and wire == _WIRE_VARINT:
            dim = _signed64(value)
        elif number == 2 and wire == _WIRE_LEN:
            dim = buf.text(value, length)
    return dim


def _graph(buf: _Buffer, start: int, end: int) -> OnnxGraph:
    """Parse a GraphProto (node=1, name=2, initializer=5, input=11, output=12)."""
    nodes: list[OnnxNode] = []
    initializers: dict[str, OnnxTensor] = {}
    inputs: list[OnnxValueInfo] = []
    outputs: list[OnnxValueInfo] = []
    name = ""
    for number, wire, value, length in buf.fields(start, end):
        if number in (1, 2, 5, 11, 12):
            _expect(buf, wire, _WIRE_LEN, number, value)
        if number == 1:
            nodes.append(_node(buf, value, value + length))
        elif number == 2:
            name = buf.text(value, length)
        elif number == 5:
            tensor = _tensor(buf, value, value + length)
            if not tensor.name:
                raise buf.fail("initializer without a name", value)
            initializers[tensor.name] = tensor
        elif number == 11:
            inputs.append(_value_info(buf, value, value + length))
        elif number == 12:
            outputs.append(_value_info(buf, value, value + length))
    return OnnxGraph(name, tuple(nodes), initializers, tuple(inputs), tuple(outputs))


def parse_model(data: bytes | bytearray | memoryview, *, source: str = "<bytes>") -> OnnxModel:
    """Parse a serialized ONNX ``ModelProto``.

    ``data`` must stay unmodified while the returned arrays are in use (they may be views into it). ``source``
    names the data in error messages. Raises FormatError for truncated or malformed data, a model without a graph,
    or features this reader does not support (external tensor data, unknown tensor types).
    """
    view = memoryview(data).cast("B")
    buf = _Buffer(view, source)
    if len(view) == 0:
        raise buf.fail("empty file", 0)
    ir_version = 0
    producer = ""
    opsets: dict[str, int] = {}
    graph: OnnxGraph | None = None
    try:
        for number, wire, value, length in buf.fields(0, len(view)):
            if number == 1 and wire == _WIRE_VARINT:
                ir_version = value
            elif number == 2 and wire == _WIRE_LEN:
                producer = buf.text(value, length)
            elif number == 8 and wire == _WIRE_LEN:
                domain, version = "", 0
                for o_number, o_wire, o_value, o_length in buf.fields(value, value + length):
                    if o_number == 1 and o_wire == _WIRE_LEN:
                        domain = buf.text(o_value, o_length)
                    elif o_number == 2 and o_wire == _WIRE_VARINT:
                        version = o_value
                opsets[domain] = version
            elif number == 7:
                _expect(buf, wire, _WIRE_LEN, number, value)
                graph = _graph(buf, value, value + length)
    except (ValueError, IndexError, TypeError, OverflowError, MemoryError) as error:
        if isinstance(error, FormatError):
            raise
        raise buf.fail(f"{type(error).__name__}: {error}", 0) from error
    if graph is None:
        raise buf.fail("no graph (field 7) found", len(view))
    return OnnxModel(ir_version, producer, opsets, graph)


def read_model(path: str | os.PathLike[str]) -> tuple[OnnxModel, bytes]:
    """Read and parse the ONNX file at ``path``; returns the model and the file's bytes (which the arrays view).

    Raises FormatError when the file is unreadable or not an ONNX model.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read ONNX model {file}: {error.strerror or error}") from error
    return parse_model(data, source=str(file)), data
