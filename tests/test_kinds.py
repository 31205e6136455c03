"""Layer kinds as modules (models.net.kinds, hdl.kinds): both halves name the same kinds, each
kind answers the whole interface, its --arch token parses back, and kind names are not
dispatched on outside the kind modules."""
import ast
from pathlib import Path

import pytest

from bnnmram.hdl import kinds as hardware
from bnnmram.models.net import kinds as software
from bnnmram.models.net.kinds.base import LayerKind, WeightedKind
from bnnmram.hdl.kinds.base import HardwareKind
from nets import random_conv_net, random_net

REPO = Path(__file__).resolve().parents[1]


def test_both_halves_name_the_same_kinds():
    assert set(software.KINDS) == set(hardware.KINDS) == {"dense", "conv", "maxpool"}
    for name, kind in hardware.KINDS.items():
        assert kind.software is software.KINDS[name]


def _overrides(obj, base, names):
    return [n for n in names if getattr(type(obj), n) is getattr(base, n)]


@pytest.mark.parametrize("name", sorted(software.KINDS))
def test_every_kind_answers_the_whole_interface(name):
    kind, hw = software.KINDS[name], hardware.KINDS[name]
    assert kind.name == name and kind.token_name and kind.fields
    needed = ["spec_text", "spec_out_shape", "out_shape", "arch_token", "taps", "torch_forward", "export_fields"] + \
        (["n_in_problem", "dots", "spec_n_in", "torch_layers"] if kind.has_weights else ["read", "write", "bits"])
    missing = _overrides(kind, WeightedKind if kind.has_weights else LayerKind, needed)
    assert not missing, f"{name} does not define {missing}"
    hw_needed = ["stream", "build"] + ([] if kind.has_weights else ["fold"])
    assert not _overrides(hw, HardwareKind, hw_needed), name


@pytest.mark.parametrize("net", [random_conv_net(1), random_conv_net(2, kind="sc"), random_net([64, 32, 10])],
                         ids=["conv", "sc", "mlp"])
def test_arch_tokens_parse_back(net):
    for layer in net.layers:
        kind = software.of(layer)
        token = kind.arch_token(layer)
        found = software.by_token(token)
        assert found is not None and found[0] is kind
        assert kind.spec_text(found[1]) == token
    assert software.by_token("avgpool2") is None




def _kind_comparisons(path: Path) -> list[int]:
    """Lines comparing a layer's kind (x.kind, x["kind"]) or an --arch spec's token (spec[0])
    with a kind name."""
    names = set(software.KINDS) | {"pool"}
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            is_kind = any((isinstance(s, ast.Attribute) and s.attr == "kind") or
                          (isinstance(s, ast.Subscript) and isinstance(s.slice, ast.Constant) and s.slice.value in ("kind", 0))
                          for s in sides)
            named = any(isinstance(s, ast.Constant) and s.value in names for s in sides)
            if is_kind and named:
                lines.append(node.lineno)
    return lines


def test_kind_names_are_dispatched_on_only_in_the_kind_modules():
    found = {}
    for pkg in ("models", "hdl", "cosim", "gen"):
        for p in (REPO / pkg).rglob("*.py"):
            rel = str(p.relative_to(REPO))
            if "/kinds/" in rel:
                continue
            if lines := _kind_comparisons(p):
                found[rel] = lines
    assert not found, found


def test_the_dispatch_finder_finds_one(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("if layer.kind == 'conv':\n    pass\nif l['kind'] != 'maxpool':\n    pass\n"
                     "if spec[0] == 'pool':\n    pass\n")
    assert _kind_comparisons(probe) == [1, 3, 5]
