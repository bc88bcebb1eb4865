# baseten: build, test, lint, demo. `make test` is what CI runs.

CARGO   ?= cargo
RUSTC   ?= rustc
MUSL    := x86_64-unknown-linux-musl
PREFIX  ?= /usr/local
DESTDIR ?=

# Cargo's target directory, asked of cargo itself (it honours CARGO_TARGET_DIR and
# build.target-dir), once, and only by the targets that need it.
TARGET_DIR = $(eval TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps \
	--offline 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'))$(or \
	$(TARGET_DIR),$(error cannot ask `$(CARGO) metadata` for the target directory))
BIN     = $(TARGET_DIR)/release/baseten

# ---- Targets (SPEC §10) --------------------------------------------------------------
# `make static` builds TARGET (default x86_64 musl); `make dist` ships the two Linux
# targets and Windows; `make lint-cross` lints the Apple targets and Windows. Each
# target's C code (ring; on Linux the vendored libdbus) needs a C compiler for it: musl-gcc
# for x86_64 musl, mingw-w64 for Windows, else CC_<target> or zig (PyPI's ziglang) through
# tools/zig-cc. None is ever installed here: a missing one is named, with how to get it.
AARCH64 := aarch64-unknown-linux-musl
WINDOWS := x86_64-pc-windows-gnu
TARGET  ?= $(MUSL)
STATIC   = $(TARGET_DIR)/$(TARGET)/release/baseten$(if $(findstring windows,$(TARGET)),.exe)
CC_VAR   = CC_$(subst -,_,$(TARGET))
ZIG     ?= $(shell command -v zig || command -v python-zig)
# CC_<target>=tools/zig-cc for the targets that need zig, unless CC_<target> is given.
BUILD_ENV = $(if $(filter $(MUSL) $(WINDOWS),$(TARGET))$($(CC_VAR)),,$(CC_VAR)=$(CURDIR)/tools/zig-cc ZIG=$(ZIG))
LINT_TARGETS := aarch64-apple-darwin x86_64-apple-darwin $(WINDOWS)
# ---------------------------------------------------------------------------------------

VERSION   = $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DIST_NAME = baseten-$(VERSION)
# Every file in the tarball gets this mtime: the last commit's time unless given.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

# --- Licences and features (issue 22) -------------------------------------------------
# Cargo's feature flags for `build`, `install` and their notices, passed as they are:
# FEATURES="--no-default-features --features system-dbus" links the system libdbus-1.
FEATURES ?=
HOST     = $(shell $(RUSTC) -vV | sed -n 's/^host: //p')
# The licence tool (tools/licences): policy check and third-party notices.
LICENCES = $(CARGO) run --locked --quiet -p licences -- 
POLICY   = tools/licences/policy.txt
# $(call notices,TRIPLE,FILE[,FEATURE FLAGS]): writes FILE, the third-party notices of the
# build for TRIPLE with those feature flags (default features when none are given).
notices  = $(LICENCES) notices --policy $(POLICY) --target $(1) $(3) --output $(2)
# The vendored source tarball: the source at HEAD, vendor/ and .cargo/config.toml.
SOURCE_NAME = baseten-$(VERSION)-vendored
# The notices installed by `make install`: those of the host's build unless given.
NOTICES_TARGET ?= $(HOST)
# --------------------------------------------------------------------------------------

.PHONY: build static static-check install install-files dist scratch-test test lint demo bench \
	fuzz clean licence-check dist-source lint-cross lint-target wine-test

## build: the release binary (<target dir>/release/baseten)
build:
	$(CARGO) build --release --locked $(FEATURES)

## static: a fully static binary for TARGET (default x86_64-unknown-linux-musl; also
## aarch64-unknown-linux-musl, and x86_64-pc-windows-gnu for baseten.exe) in
## <target dir>/TARGET/release/; needs the rustup target and the target's C compiler
## (see Targets above), and says how to get them when missing
static: static-check
	$(BUILD_ENV) $(CARGO) build --release --locked --target $(TARGET)

static-check:
	@ls "$$($(RUSTC) --print target-libdir --target $(TARGET) 2>/dev/null)"/libstd-*.rlib \
	    >/dev/null 2>&1 || { \
		echo "error: the Rust standard library for $(TARGET) is not installed;" \
		    "add it with: rustup target add $(TARGET)" >&2; exit 1; }
	@case $(TARGET) in \
	$(MUSL)) [ -n "$$CC_x86_64_unknown_linux_musl" ] || command -v musl-gcc >/dev/null || { \
		echo "error: musl-gcc not found (the vendored libdbus is C); install it with:" \
		    "apt-get install musl-tools (Debian, Ubuntu), or set CC_x86_64_unknown_linux_musl" >&2; \
		exit 1; } ;; \
	*-windows-gnu) command -v x86_64-w64-mingw32-gcc >/dev/null || { \
		echo "error: x86_64-w64-mingw32-gcc not found (ring is C, and it links baseten.exe);" \
		    "install it with: apt-get install gcc-mingw-w64-x86-64 (Debian, Ubuntu)" >&2; \
		exit 1; } ;; \
	*) [ -n "$$$(CC_VAR)" ] || [ -n "$(ZIG)" ] || { \
		echo "error: no C compiler for $(TARGET) (ring and the vendored libdbus are C):" \
		    "install zig with: pip install ziglang (its python-zig, or a zig, on PATH)," \
		    "or set $(CC_VAR)" >&2; \
		exit 1; } ;; \
	esac

## install: binary, man page, completions, licences and third-party notices under
## $(DESTDIR)$(PREFIX); FEATURES="--no-default-features --features system-dbus" for a
## build that links the system libdbus-1
install: build
	$(MAKE) install-files

## install-files: the install step alone, for an already built binary (BIN=path to pick one;
## NOTICES_TARGET=triple and FEATURES for its notices when it is not the host's default build)
install-files:
	install -Dm755 $(BIN) $(DESTDIR)$(PREFIX)/bin/baseten
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(BIN) man > $(DESTDIR)$(PREFIX)/share/man/man1/baseten.1
	$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/baseten
	$(BIN) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_baseten
	$(BIN) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/baseten.fish
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man1/baseten.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/baseten \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_baseten \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/baseten.fish
	install -Dm644 -t $(DESTDIR)$(PREFIX)/share/licenses/baseten LICENSE-MIT LICENSE-APACHE
	install -d $(TARGET_DIR)/notices/$(NOTICES_TARGET)
	$(call notices,$(NOTICES_TARGET),$(TARGET_DIR)/notices/$(NOTICES_TARGET)/THIRD-PARTY-NOTICES,$(FEATURES))
	install -m644 $(TARGET_DIR)/notices/$(NOTICES_TARGET)/THIRD-PARTY-NOTICES \
		$(DESTDIR)$(PREFIX)/share/licenses/baseten/THIRD-PARTY-NOTICES

## dist: in dist/, baseten-<version>-<target>.tar.gz for x86_64 and aarch64 Linux (the
## static binary, man page, completions, README, licences, third-party notices),
## baseten-<version>-x86_64-pc-windows-gnu.zip (baseten.exe, README, licences, notices),
## $(SOURCE_NAME).tar.gz (see dist-source) and SHA256SUMS over the four; byte for byte
## the same from every build of a commit (sorted entries, owner 0, times
## SOURCE_DATE_EPOCH, no gzip timestamp, zip entries in a fixed order with fixed times
## and no extra fields, the .exe linked with --no-insert-timestamp)
DIST_ARTIFACTS = $(DIST_NAME)-$(MUSL).tar.gz $(DIST_NAME)-$(AARCH64).tar.gz $(DIST_NAME)-$(WINDOWS).zip
dist: dist-source
	@[ -n "$(SOURCE_DATE_EPOCH)" ] || { \
		echo "error: set SOURCE_DATE_EPOCH (not a git checkout)" >&2; exit 1; }
	@command -v zip >/dev/null || { \
		echo "error: zip not found; install it with: apt-get install zip (Debian, Ubuntu)" >&2; exit 1; }
	$(MAKE) static TARGET=$(MUSL)
	$(MAKE) static TARGET=$(AARCH64)
	$(MAKE) static TARGET=$(WINDOWS)
	rm -rf $(TARGET_DIR)/dist $(addprefix dist/,$(DIST_ARTIFACTS) SHA256SUMS)
	install -d -m 755 dist
	$(call dist_tarball,$(MUSL))
	$(call dist_tarball,$(AARCH64))
	$(call dist_zip,$(WINDOWS))
	cd dist && sha256sum $(DIST_ARTIFACTS) $(SOURCE_NAME).tar.gz > SHA256SUMS
	@cat dist/SHA256SUMS

# $(call dist_tarball,TRIPLE): dist/$(DIST_NAME)-TRIPLE.tar.gz. The man page and the
# completions, the same for every target, come from the x86_64 binary, which runs here;
# the third-party notices are TRIPLE's own.
DOCS_BIN = $(TARGET_DIR)/$(MUSL)/release/baseten
define dist_tarball
	install -d -m 755 $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/completions
	install -m 755 $(TARGET_DIR)/$(1)/release/baseten $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/
	install -m 644 README.md LICENSE-MIT LICENSE-APACHE $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/
	$(call notices,$(1),$(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/THIRD-PARTY-NOTICES)
	cd $(TARGET_DIR)/dist/$(DIST_NAME)-$(1) && $(DOCS_BIN) man > baseten.1 \
		&& $(DOCS_BIN) completion bash > completions/baseten.bash \
		&& $(DOCS_BIN) completion zsh > completions/_baseten \
		&& $(DOCS_BIN) completion fish > completions/baseten.fish \
		&& chmod 644 baseten.1 completions/*
	LC_ALL=C tar --sort=name --format=ustar --owner=0 --group=0 --numeric-owner \
		--mode=u=rwX,go=rX --mtime=@$(SOURCE_DATE_EPOCH) \
		-C $(TARGET_DIR)/dist -cf - $(DIST_NAME)-$(1) | gzip -9n > dist/$(DIST_NAME)-$(1).tar.gz
endef

# $(call dist_zip,TRIPLE): dist/$(DIST_NAME)-TRIPLE.zip, its entries named in sorted order,
# dated SOURCE_DATE_EPOCH in UTC, without directory entries or extra fields (zip -X -D).
DIST_ZIP_FILES = LICENSE-APACHE LICENSE-MIT README.md THIRD-PARTY-NOTICES baseten.exe
define dist_zip
	install -d -m 755 $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)
	install -m 755 $(TARGET_DIR)/$(1)/release/baseten.exe $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/
	install -m 644 README.md LICENSE-MIT LICENSE-APACHE $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/
	$(call notices,$(1),$(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/THIRD-PARTY-NOTICES)
	touch -d @$(SOURCE_DATE_EPOCH) $(addprefix $(TARGET_DIR)/dist/$(DIST_NAME)-$(1)/,$(DIST_ZIP_FILES))
	cd $(TARGET_DIR)/dist && TZ=UTC zip -X -D -9 -q $(CURDIR)/dist/$(DIST_NAME)-$(1).zip \
		$(addprefix $(DIST_NAME)-$(1)/,$(DIST_ZIP_FILES))
endef

# --- The vendored source tarball and the licence policy (issue 22) ---------------------
## dist-source: dist/$(SOURCE_NAME).tar.gz, for offline builds: one directory
## baseten-$(VERSION)/ with the source at HEAD (git archive), vendor/ (cargo vendor
## --locked), .cargo/config.toml that builds from it (the repository's, with the vendored
## sources added), and THIRD-PARTY-NOTICES of the default x86_64 Linux build;
## reproducible as dist is
dist-source:
	@[ -n "$(SOURCE_DATE_EPOCH)" ] || { \
		echo "error: set SOURCE_DATE_EPOCH (not a git checkout)" >&2; exit 1; }
	rm -rf $(TARGET_DIR)/dist/source dist/$(SOURCE_NAME).tar.gz
	install -d -m 755 dist $(TARGET_DIR)/dist/source/baseten-$(VERSION)/.cargo
	git archive --format=tar HEAD | tar -xf - -C $(TARGET_DIR)/dist/source/baseten-$(VERSION)
	cd $(TARGET_DIR)/dist/source/baseten-$(VERSION) && $(CARGO) vendor --locked vendor \
		>> .cargo/config.toml 2> ../vendor.log || { cat ../vendor.log >&2; exit 1; }
	$(call notices,x86_64-unknown-linux-gnu,$(TARGET_DIR)/dist/source/baseten-$(VERSION)/THIRD-PARTY-NOTICES)
	LC_ALL=C tar --sort=name --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		--owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX --mtime=@$(SOURCE_DATE_EPOCH) \
		-C $(TARGET_DIR)/dist/source -cf - baseten-$(VERSION) | gzip -9n > dist/$(SOURCE_NAME).tar.gz

## licence-check: every crate in Cargo.lock under a licence that tools/licences/policy.txt
## allows; names each one that is not
licence-check:
	$(LICENCES) check --policy $(POLICY)
# --------------------------------------------------------------------------------------

## scratch-test: the static binary for TARGET alone in an empty root (chroot as root, else
## unshare), aarch64 under qemu: --version, status with BASETEN_API_KEY, an API-key login
## to a loopback fake API, token
scratch-test: static
	$(CARGO) build --release --locked --example demo
	tests/scratch-smoke.sh $(STATIC) $(TARGET_DIR)/release/examples/demo

## wine-test: baseten.exe under Wine (tests/wine-smoke.sh): API-key logins to a loopback
## fake API stored in Wine's Credential Manager, status, token, switch, logout; needs
## wine64 and mingw-w64
wine-test:
	$(MAKE) static TARGET=$(WINDOWS)
	$(CARGO) build --release --locked --example demo
	tests/wine-smoke.sh $(TARGET_DIR)/$(WINDOWS)/release/baseten.exe \
		$(TARGET_DIR)/release/examples/demo

## test: every test. The ones that need a Secret Service, zsh, fish or man are #[ignore]d;
## they run (inside a private gnome-keyring) when every program they need is installed,
## as CI installs them; under CI=true a missing one is a failure, elsewhere the report
## shows those tests as ignored. cargo-nextest, when installed, runs all test binaries
## side by side (.config/nextest.toml); cargo test runs them one after the other.
TEST_NEEDS := dbus-run-session gnome-keyring-daemon secret-tool zsh fish man
test:
	@missing=; for t in $(TEST_NEEDS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if command -v cargo-nextest >/dev/null; then \
		run="$(CARGO) nextest run --locked --workspace --no-fail-fast"; all="--run-ignored all"; \
	else \
		run="$(CARGO) test --locked --workspace --no-fail-fast"; all="-- --include-ignored"; \
	fi; \
	if [ -z "$$missing" ]; then \
		tests/with-secret-service.sh $$run $$all; \
	elif [ "$$CI" = true ]; then \
		echo "error: CI must install$$missing (Debian: dbus gnome-keyring libsecret-tools zsh fish man-db)" >&2; \
		exit 1; \
	else \
		echo "*** not installed:$$missing; the tests that need them are reported as ignored" >&2; \
		$$run; \
	fi

## lint: formatting and clippy, warnings as errors
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## lint-cross: clippy, warnings as errors, for macOS (Apple silicon, Intel) and Windows,
## whose code paths are compiled nowhere else here (linking for macOS needs Apple's SDK);
## needs the rustup targets, zig and mingw-w64 (see Targets above)
lint-cross:
	@for t in $(LINT_TARGETS); do $(MAKE) --no-print-directory lint-target TARGET=$$t || exit 1; done

lint-target: static-check
	$(BUILD_ENV) $(CARGO) clippy --locked --all-targets --target $(TARGET) -- -D warnings

## demo: a device-flow login, status, token and logout against a local fake server
demo: build
	$(CARGO) build --release --locked --example demo
	$(TARGET_DIR)/release/examples/demo $(BIN)

## bench: sizes, start-up time and peak memory next to /bin/true, device-flow overhead,
## status/token/status --all over 1, 1,000 and 10,000 accounts (instructions too, with valgrind);
## fails when the static binary is over 4.0 MB or `auth status` over 4 MiB peak RSS
bench: static
	$(CARGO) bench --locked --bench bench -- $(STATIC)

## fuzz: each cargo-fuzz target for FUZZ_SECONDS (default 60); needs nightly and
## cargo-fuzz (cargo install cargo-fuzz); not part of CI
FUZZ_SECONDS ?= 60
fuzz:
	@for t in args auth_file responses; do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		dict=; [ -f fuzz/$$t.dict ] && dict=-dict=$$t.dict; \
		(cd fuzz && $(CARGO) +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) $$dict) || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf dist
