# duet: thin wrapper over meson. The README's two commands are `make demo`
# and `make test`; both install what they need first.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: all deps build demo test test-unit test-integration test-asan fuzz bench soak soak-asan deb clean

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
		meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs || \
		{ python3 tools/test_failures.py $(ASAN_BUILD); exit 1; }

# libFuzzer targets (tests/fuzz), FUZZ_SECONDS each (FUZZ_TARGETS: a subset
# by name): clang with ASan and UBSan, and -fsanitize=fuzzer-no-link on every
# file so coverage reaches lib/. One line per target; fails on any crash
# (saved in tests/fuzz/crashes/).
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dtests=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz: deps $(FUZZ_BUILD)/build.ninja
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# On a failure tools/test_failures.py repeats, at the very end, which
# tests failed and their `not ok` lines: a long log's tail is all CI keeps.
test: build
	meson test -C $(BUILD) --suite unit --suite integration --print-errorlogs || \
		{ python3 tools/test_failures.py $(BUILD); exit 1; }
	$(MAKE) test-asan
	$(MAKE) fuzz FUZZ_SECONDS=60

# Benchmarks (never part of test): BENCH=quick (default, about 12 min) or full (about 50).
bench:
	BENCH=$(or $(BENCH),quick) bash benchmarks/bench.sh

# Soak (never part of test): an hour; SOAK_SECONDS to shorten (docs/soak.md).
soak: build
	bash tools/soak/soak.sh $(BUILD)

soak-asan: build $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) app/duetd/duetd
	SOAK_SECONDS=$${SOAK_SECONDS:-600} SOAK_DUETD=$(ASAN_BUILD)/app/duetd/duetd \
		bash tools/soak/soak.sh $(BUILD)

# Debian package (debian/make-deb.sh): built in a copy of the checkout; the
# .deb files, .changes and lintian's tags land in build-deb/.
deb: deps
	bash debian/make-deb.sh build-deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
