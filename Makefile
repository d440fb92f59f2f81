# duet: thin wrapper over meson. The README's two commands are `make demo`
# and `make test`; both install what they need first.
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build demo test test-unit test-integration test-asan bench clean

all: build

deps:
	bash tools/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true -Dtests=enabled

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	bash tools/demo.sh $(BUILD)

test-unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

test-integration: build
	meson test -C $(BUILD) --suite integration --print-errorlogs

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Dwerror=true -Dtests=enabled -Db_sanitize=address,undefined -Db_lundef=false

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs

test: build
	meson test -C $(BUILD) --suite unit --suite integration --print-errorlogs
	$(MAKE) test-asan

# Benchmarks (never part of test): BENCH=quick (default, < 10 min) or full.
bench:
	BENCH=$(or $(BENCH),quick) bash benchmarks/bench.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
