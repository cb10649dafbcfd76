# edgeos: the two commands of the README, and a few helpers.
#
#   make run    install what is missing, build, run the main job (edgeos sim on the built-in
#               edge-server scenario)
#   make test   install what is missing, build, run every test
#
# Other targets: make build | make bench | make debug | make clean
#                make fuzz     build the libFuzzer harnesses with clang and run each (~15 min; tests/fuzz/README.md),
#                              then the system-call fuzzer on the booted kernel (make fuzz-syscalls, ~4 min)
#                make python   .venv with the edgeos Python package (source .venv/bin/activate)
#                make figures  every published figure into figures/ (SVG, PNG, CSV, manifest.json)
#                make paper    the EdgeOS paper's claims measured here, into figures/paper/ (REPORT.md)

PRESET ?= dev
BUILD  := build
JOBS   ?= 2
# Debian's interpreter (numpy, pandas, matplotlib), not whatever python3 is first on PATH.
PYTHON := /usr/bin/python3
VENV   := .venv

.PHONY: all deps configure build run test test-long bench debug clean python figures paper fuzz fuzz-syscalls

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) --log-level=WARNING >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	@$(BUILD)/cli/edgeos sim --out out/sim

test: build
	@ctest --preset $(PRESET) -j $(JOBS) -LE long

# The tests too long for CI (label `long`): 1,000 memcached tenants on the booted kernel (~6 min).
test-long: build
	@ctest --preset $(PRESET) -j 1 -L long

bench: build
	@scripts/run-benchmarks.sh $(BUILD)

# The package lives in the build tree (build/pybind/edgeos: the Python files and the _edgeos
# extension); the venv sees the system packages and finds edgeos through a .pth file. No network.
python: build
	@$(PYTHON) -m venv --system-site-packages $(VENV)
	@echo "$(CURDIR)/$(BUILD)/pybind" > "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/edgeos.pth"
	@$(VENV)/bin/python -c 'import edgeos; print("edgeos", edgeos.__version__, "ready: source $(VENV)/bin/activate")'

figures: build
	@PYTHONPATH=$(BUILD)/pybind EDGEOS_SOURCE_DIR=$(CURDIR) MPLBACKEND=Agg $(PYTHON) -m edgeos figures --out figures

# Boots the kernel under QEMU and starts Linux processes and containers (crun, runc: as root);
# PAPER_FLAGS=--quick for a small run.
paper: build
	@PYTHONPATH=$(BUILD)/pybind EDGEOS_SOURCE_DIR=$(CURDIR) EDGEOS_BUILD_DIR=$(CURDIR)/$(BUILD) MPLBACKEND=Agg \
	    $(PYTHON) -m edgeos paper --out figures/paper $(PAPER_FLAGS)

# A debug build with sanitizers, for development (not part of `make test`).
debug: deps
	@cmake --preset debug --log-level=WARNING >/dev/null
	@cmake --build --preset debug -j $(JOBS)
	@ctest --preset debug -j $(JOBS)

# Coverage-guided fuzzing of every input edge (clang-14, libFuzzer; not part of `make test`, which
# replays the committed inputs): FUZZ_SECONDS per target (120), or FUZZ_RUNS executions;
# FUZZ_TARGETS, FUZZ_JOBS (2), FUZZ_MERGE=1. Then the system-call fuzzer against the booted kernel
# (fuzz-syscalls): SYSCALL_FUZZ_SEEDS (1-10) boots of SYSCALL_FUZZ_CALLS (100000) calls each, under
# --check-invariants (about 7 minutes on 2 cores). See tests/fuzz/README.md.
SYSCALL_FUZZ_SEEDS ?= 1-10
SYSCALL_FUZZ_CALLS ?= 100000
fuzz: deps
	@status=0; scripts/fuzz.sh || status=1; $(MAKE) --no-print-directory fuzz-syscalls || status=1; exit $$status

fuzz-syscalls: build
	@$(PYTHON) tests/fuzz/syscall_fuzz.py $(BUILD)/cli/edgeos $(BUILD)/kernel_backend/edgeos-kernel.elf \
	    --seeds $(SYSCALL_FUZZ_SEEDS) --calls $(SYSCALL_FUZZ_CALLS) --jobs $(JOBS)

clean:
	@rm -rf $(BUILD) build-debug build-fuzz
