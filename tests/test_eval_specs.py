"""Backend specs of ``keyframeface eval --compare``: ``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE``."""

from __future__ import annotations

import pytest

from keyframeface.cli.cmd_eval import BackendSpec, parse_backend_spec
from keyframeface.cli.main import main
from keyframeface.errors import FormatError


def test_plain_name() -> None:
    assert parse_backend_spec("rules") == BackendSpec("rules", "rules")
    assert parse_backend_spec("  llama ") == BackendSpec("llama", "llama")


def test_generation_and_backend_options_are_split() -> None:
    spec = parse_backend_spec("llama:representation=compact,adapter=none,n_ctx=4096,policy=repair,temperature=0.7,"
                              "seed=3")
    assert spec.name == "llama" and spec.text.startswith("llama:representation=compact")
    assert spec.generate_options == {"representation": "compact", "policy": "repair"}
    assert spec.temperature == 0.7 and spec.seed == 3
    # backend options are parsed as --option KEY=VALUE is: JSON when valid, else a string
    assert spec.backend_options == {"adapter": "none", "n_ctx": 4096}


def test_values_like_option_values() -> None:
    spec = parse_backend_spec("openai:model=qwen3:14b,base_url=http://127.0.0.1:8000/v1,enable-thinking=false")
    assert spec.backend_options == {"model": "qwen3:14b", "base_url": "http://127.0.0.1:8000/v1",
                                    "enable_thinking": False}
    # commas inside a JSON value do not split items (no KEY= follows them)
    spec = parse_backend_spec('openai:extra_body={"top_p": 0.9, "top_k": 20},model=m')
    assert spec.backend_options == {"extra_body": {"top_p": 0.9, "top_k": 20}, "model": "m"}
    assert parse_backend_spec("x:temperature=0").temperature == 0.0


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("   ", "empty"),
    ("rules:", "nothing after"),
    ("rules:representation", "not KEY=VALUE"),
    ("rules:=3", "not KEY=VALUE"),
    ("rules:a=1,,b=2", "empty item"),
    ("rules:a=1,", "empty item"),
    ("rules:a=1,a=2", "given twice"),
    ("rules:representation=xml", "representation must be"),
    ("rules:policy=lenient", "policy must be"),
    ("rules:temperature=-1", "temperature must be"),
    ("rules:temperature=hot", "temperature must be"),
    ("rules:temperature=NaN", "temperature must be"),
    ("rules:seed=1.5", "seed must be"),
    ("rules:seed=true", "seed must be"),
    (":a=1", "not a backend name"),
    ("../../etc/passwd", "not a backend name"),
    ("rules;rm -rf /", "not a backend name"),
    ("rül es", "not a backend name"),
    ("rules:a=1\nb=2", "control characters"),
    ("rules:a=\x00", "control characters"),
    ("rules:" + "a=1," * 1000 + "b=2", "longer than"),
    ("rules:a b=1", "not KEY=VALUE"),
])
def test_malformed_and_hostile_specs_are_clear_errors(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match) as info:
        parse_backend_spec(text)
    assert "NAME:KEY=VALUE" in str(info.value) and len(str(info.value)) < 400


def test_cli_refuses_a_bad_spec_before_loading_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--compare", "rules", "llama:representation=xml", "--corpus", "/nonexistent"]) == 1
    err = capsys.readouterr().err
    assert "representation must be" in err and err.count("\n") == 1


def test_help_documents_specs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "NAME:KEY=VALUE" in out and "representation" in out and "eval merge" in out
