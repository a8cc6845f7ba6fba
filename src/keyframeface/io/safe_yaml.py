"""A YAML reader for keyframeface documents: plain data only, bounded work, one-line errors.

keyframeface files need mappings, sequences, strings, numbers, booleans and null. This loader (PyYAML's pure-Python
safe loader) therefore:

* refuses every explicit tag (``!!float``, ``!!python/...``, ``!custom``): a tag is never needed to write a script,
  and PyYAML's own constructors crash on ``!!float`` with no value, ``!!bool maybe`` or ``!!timestamp 1``;
* reads dates and times as the strings they were written as (no implicit timestamps);
* bounds the document by the number of nodes it *expands to* (``max_nodes``, anchors and aliases counted each time
  they are used), so a "billion laughs" alias bomb of a few hundred bytes is refused in microseconds instead of
  building gigabytes, and by nesting depth (``max_depth``);
* turns every failure into :class:`~keyframeface.errors.FormatError` naming the line.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from ..errors import FormatError

__all__ = ["MAX_DEPTH", "MAX_NODES", "load_yaml"]

#: Expanded nodes a document may hold: a 256-keyframe animation of 61 values per frame at an hour is far beyond
#: what YAML is used for here; scripts and keyframes documents hold a few thousand.
MAX_NODES: Final[int] = 2_000_000
MAX_DEPTH: Final[int] = 64


def _loader_class(max_nodes: int, max_depth: int) -> type:
    import yaml

    # The pure-Python loader: the C one composes nodes in C, out of reach of the counting below.
    base: Any = yaml.SafeLoader

    class Loader(base):
        """Safe loader with no explicit tags, no timestamps, and counted alias expansion."""

        yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._sizes: dict[int, int] = {}
            self._total = 0

        def _count(self, n: int, mark: Any) -> None:
            self._total += n
            if self._total > max_nodes:
                raise FormatError(
                    f"line {mark.line + 1 if mark else '?'}: the YAML document expands to more than {max_nodes:,} "
                    "values (aliases included); keyframeface files are plain data"
                )

        def _size(self, node: Any, depth: int = 0) -> int:
            if depth > max_depth:
                raise FormatError(f"line {node.start_mark.line + 1}: YAML nests deeper than {max_depth} levels")
            known = self._sizes.get(id(node))
            if known is not None:
                return known
            if isinstance(node.value, list):
                size = 1
                for item in node.value:
                    if isinstance(item, tuple):
                        size += self._size(item[0], depth + 1) + self._size(item[1], depth + 1)
                    else:
                        size += self._size(item, depth + 1)
            else:
                size = 1
            self._sizes[id(node)] = size
            return size

        def compose_node(self, parent: Any, index: Any) -> Any:
            import yaml.events

            event = self.peek_event()
            tag = getattr(event, "tag", None)
            if tag not in (None, "!") and not isinstance(event, yaml.events.AliasEvent):
                raise FormatError(
                    f"line {event.start_mark.line + 1}: YAML tag {tag!r} is not supported; write plain values "
                    "(strings, numbers, true/false, null, lists and mappings)"
                )
            is_alias = isinstance(event, yaml.events.AliasEvent)
            node = super().compose_node(parent, index)
            if is_alias:
                self._count(self._size(node), event.start_mark)
            return node

        def compose_document(self) -> Any:
            node = super().compose_document()
            self._count(self._size(node), getattr(node, "start_mark", None))
            return node

    return Loader


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse deep nesting from the token stream before composing: PyYAML's scanner does work quadratic in the
    flow nesting level, so 100,000 ``[`` would take tens of seconds; this stops at the first token too deep."""
    import yaml

    opening = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken,
               yaml.FlowSequenceStartToken)
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, opening):
            depth += 1
            if depth > max_depth:
                raise FormatError(f"line {token.start_mark.line + 1}: YAML nests deeper than {max_depth} levels")
        elif isinstance(token, closing):
            depth -= 1


def load_yaml(text: str, *, label: str = "YAML", max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document of plain data. Raises :class:`FormatError` (one line, naming ``label`` and the line)
    for invalid YAML, a tag, too many expanded nodes or too deep nesting, and when PyYAML is not installed."""
    try:
        import yaml
    except ImportError:
        raise FormatError("reading YAML needs PyYAML: pip install 'keyframeface[yaml]'") from None
    loader = _loader_class(max_nodes, max_depth)(text)
    try:
        _check_depth(text, max_depth)
        return loader.get_single_data()
    except FormatError as exc:
        raise FormatError(f"{label}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise FormatError(f"{label} is not valid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{label} is not valid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    except RecursionError:
        raise FormatError(f"{label} nests too deeply to be a keyframeface file") from None
    except Exception as exc:  # PyYAML's constructors raise IndexError, ValueError ... on odd scalars
        raise FormatError(f"{label} is not valid YAML: {str(exc)[:100] or type(exc).__name__}") from None
    finally:
        loader.dispose()
