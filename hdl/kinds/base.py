"""What every layer kind answers in hardware (hdl.kinds): the stream geometry its folding and
cycles follow, its fold, its unit, how it is wired into the pipeline, and its manifest entry.
The software half (net file, shapes, golden model) is models.net.kinds under the same name."""
from bnnmram.models.net import kinds as software

from ..folding import check_fold
from ..mvtu import MVTU, output_fifo_depth


class HardwareKind:
    name = ""
    what = ""   # the manifest's words for it

    @property
    def software(self):
        return software.KINDS[self.name]

    def stream(self, net, i: int) -> tuple[int, int, tuple]:
        """(positions, in_pixels, (K, W, OH)): input vectors per image; the pixels its input
        stream carries per image when that stream is one pixel per cycle (0 otherwise); and a
        conv layer's kernel, input width and output rows (zeros otherwise)."""
        raise NotImplementedError

    def fold(self, i: int, layer, pe: int, simd: int, stream: tuple):
        raise NotImplementedError

    def unit(self, net, i: int, fold, mram):
        """The layer's MVTU (None for a layer without weights)."""
        return None

    def build(self, acc, m, i: int, prev):
        """Wire layer i into the accelerator `acc`'s module `m` after stream `prev`; return its output stream."""
        raise NotImplementedError

    def manifest(self, i: int, layer, fold, unit, read_latency: int, top: str) -> dict:
        """The kind's own fields of its manifest `layers` entry (`top`: the Verilog top module)."""
        return {}

    def manifest_problem(self, entry: dict) -> str | None:
        """What makes a manifest `layers` entry of this kind unusable (None: nothing)."""
        return None


class WeightedHardware(HardwareKind):
    """An MVTU over the layer's input vectors (dense: one per image; conv: its patches)."""

    def fold(self, i, layer, pe, simd, stream):
        positions, in_pixels, geometry = stream
        return check_fold(i, layer.n_in, layer.n_out, pe, simd, positions, in_pixels, geometry)

    def unit(self, net, i, fold, mram, elem_bits=None):
        return MVTU(net.layers[i], i, fold, binarize_threshold=net.binarize_threshold, mram=mram,
                    elem_bits=elem_bits)

    def manifest(self, i, layer, fold, unit, read_latency, top):
        f = fold
        return {"n_in": f.n_in, "n_out": f.n_out, "pe": f.pe, "simd": f.simd, "nf": f.nf, "sf": f.sf,
                "positions": f.positions, "output_fifo_depth": output_fifo_depth(layer, read_latency),
                "mram_words": f.words, "mram_word_bits": unit.mram.word_bits,
                "mram_bits_per_weight": unit.mram.bits_per_weight,
                "mram_pulse_cycles": unit.mram.pulse_cycles, "mram_hash_lanes": unit.mram.lanes,
                "mram_hash_stages": unit.mram.hash_stages,
                "mram_xnor_in_memory": unit.mram.xnor, "mram_module": f"{top}.layer{i}.mram"}

    def manifest_problem(self, entry):
        for k in ("n_in", "n_out", "pe", "simd", "mram_words", "mram_word_bits"):
            v = entry.get(k)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                return f"field {k!r} missing or not a positive integer"
        if entry["n_in"] % entry["simd"] or entry["n_out"] % entry["pe"]:
            return (f"folding PE={entry['pe']} SIMD={entry['simd']} does not divide its "
                    f"{entry['n_out']} x {entry['n_in']} weights")
        return None

