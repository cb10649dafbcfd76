# edgeos: the two commands of the README, and a few helpers.
#
#   make run    install what is missing, build, run the main job (edgeos sim on the built-in
#               edge-server scenario)
#   make test   install what is missing, build, run every test
#
# Other targets: make build | make bench | make debug | make clean

PRESET ?= dev
BUILD  := build
JOBS   ?= 2

.PHONY: all deps configure build run test bench debug clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) --log-level=WARNING >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	@$(BUILD)/simulator/cli/edgeos sim --out out/sim

test: build
	@ctest --preset $(PRESET) -j $(JOBS)

bench: build
	@scripts/run-benchmarks.sh $(BUILD)

# A debug build with sanitizers, for development (not part of `make test`).
debug: deps
	@cmake --preset debug --log-level=WARNING >/dev/null
	@cmake --build --preset debug -j $(JOBS)
	@ctest --preset debug -j $(JOBS)

clean:
	@rm -rf $(BUILD) build-debug
