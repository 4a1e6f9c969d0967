# Thin wrapper over CMake: `make run` and `make test` are the two commands of the README.
# Each installs missing Debian packages first (tools/install-deps.sh), then builds in build/.
BUILD      ?= build
BUILD_TYPE ?= Release
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
RUN_ARGS   ?=
DATA       ?= 0

.PHONY: all deps configure build run test bundle clean

all: build

deps:
	@sh tools/install-deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/claug run $(RUN_ARGS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# A tarball that runs where nothing can be installed (README, "A portable bundle"); DATA=1 adds
# the Fashion-MNIST files.
bundle: build
	@sh tools/bundle.sh $(BUILD) $(DATA)

clean:
	rm -rf $(BUILD)
