"""Layer kinds, one module each (dense, conv, maxpool), the way FINN keeps one class per custom
op: what the kind is in software (its net-file fields and checks, output shape, --arch token,
golden evaluation). The rest of the code asks the kind: `of(layer)`, `KINDS[name]`,
`by_token(text)`. The hardware half of each kind (fold geometry and cycles, its build, its
manifest entry) is in hdl/kinds/ under the same name.

A new kind: a module here (a LayerKind subclass), its hardware module in hdl/kinds, both
registered below, and their tests.
"""
from .base import LayerKind, ReadContext
from .conv import CONV
from .dense import DENSE
from .maxpool import MAXPOOL

KINDS: dict[str, LayerKind] = {k.name: k for k in (DENSE, CONV, MAXPOOL)}
TOKENS: dict[str, LayerKind] = {k.token_name: k for k in KINDS.values()}

__all__ = ["KINDS", "TOKENS", "LayerKind", "ReadContext", "of", "by_token"]


def of(layer) -> LayerKind:
    """The kind of a net-file Layer."""
    return KINDS[layer.kind]


def by_token(token: str) -> tuple[LayerKind, tuple] | None:
    """(kind, spec) of an --arch token such as conv32k3, pool2, dense10; None if it is none."""
    for kind in KINDS.values():
        m = kind.token.fullmatch(token)
        if m:
            return kind, kind.spec(m)
    return None
