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
STATIC  = $(TARGET_DIR)/$(MUSL)/release/baseten

VERSION   = $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DIST_NAME = baseten-$(VERSION)-$(MUSL)
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
	fuzz clean licence-check dist-source

## build: the release binary (<target dir>/release/baseten)
build:
	$(CARGO) build --release --locked $(FEATURES)

## static: a fully static x86_64 musl binary (<target dir>/x86_64-unknown-linux-musl/release/
## baseten); needs the rustup target and musl-gcc, and says how to get them when missing
static: static-check
	$(CARGO) build --release --locked --target $(MUSL)

static-check:
	@ls "$$($(RUSTC) --print target-libdir --target $(MUSL) 2>/dev/null)"/libstd-*.rlib \
	    >/dev/null 2>&1 || { \
		echo "error: the Rust standard library for $(MUSL) is not installed;" \
		    "add it with: rustup target add $(MUSL)" >&2; exit 1; }
	@[ -n "$$CC_x86_64_unknown_linux_musl" ] || command -v musl-gcc >/dev/null || { \
		echo "error: musl-gcc not found (the vendored libdbus is C); install it with:" \
		    "apt-get install musl-tools (Debian, Ubuntu), or set CC_x86_64_unknown_linux_musl" >&2; \
		exit 1; }

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

## dist: dist/$(DIST_NAME).tar.gz (the static binary, man page, completions, README,
## licences, third-party notices), dist/$(SOURCE_NAME).tar.gz (see dist-source) and
## dist/SHA256SUMS, byte for byte the same from every build of a commit (sorted entries,
## owner 0, mtimes SOURCE_DATE_EPOCH, no gzip timestamp)
dist: static dist-source
	@[ -n "$(SOURCE_DATE_EPOCH)" ] || { \
		echo "error: set SOURCE_DATE_EPOCH (not a git checkout)" >&2; exit 1; }
	rm -rf $(TARGET_DIR)/dist/$(DIST_NAME) dist/$(DIST_NAME).tar.gz dist/SHA256SUMS
	install -d -m 755 dist $(TARGET_DIR)/dist/$(DIST_NAME)/completions
	install -m 755 $(STATIC) $(TARGET_DIR)/dist/$(DIST_NAME)/baseten
	install -m 644 README.md LICENSE-MIT LICENSE-APACHE $(TARGET_DIR)/dist/$(DIST_NAME)/
	$(call notices,$(MUSL),$(TARGET_DIR)/dist/$(DIST_NAME)/THIRD-PARTY-NOTICES)
	cd $(TARGET_DIR)/dist/$(DIST_NAME) && ./baseten man > baseten.1 \
		&& ./baseten completion bash > completions/baseten.bash \
		&& ./baseten completion zsh > completions/_baseten \
		&& ./baseten completion fish > completions/baseten.fish \
		&& chmod 644 baseten.1 completions/*
	LC_ALL=C tar --sort=name --format=ustar --owner=0 --group=0 --numeric-owner \
		--mode=u=rwX,go=rX --mtime=@$(SOURCE_DATE_EPOCH) \
		-C $(TARGET_DIR)/dist -cf - $(DIST_NAME) | gzip -9n > dist/$(DIST_NAME).tar.gz
	cd dist && sha256sum $(DIST_NAME).tar.gz $(SOURCE_NAME).tar.gz > SHA256SUMS
	@cat dist/SHA256SUMS

# --- The vendored source tarball and the licence policy (issue 22) ---------------------
## dist-source: dist/$(SOURCE_NAME).tar.gz, for offline builds: one directory
## baseten-$(VERSION)/ with the source at HEAD (git archive), vendor/ (cargo vendor
## --locked), .cargo/config.toml that builds from it, and THIRD-PARTY-NOTICES of the
## default x86_64 Linux build; reproducible as dist is
dist-source:
	@[ -n "$(SOURCE_DATE_EPOCH)" ] || { \
		echo "error: set SOURCE_DATE_EPOCH (not a git checkout)" >&2; exit 1; }
	rm -rf $(TARGET_DIR)/dist/source dist/$(SOURCE_NAME).tar.gz
	install -d -m 755 dist $(TARGET_DIR)/dist/source/baseten-$(VERSION)/.cargo
	git archive --format=tar HEAD | tar -xf - -C $(TARGET_DIR)/dist/source/baseten-$(VERSION)
	cd $(TARGET_DIR)/dist/source/baseten-$(VERSION) && $(CARGO) vendor --locked vendor \
		> .cargo/config.toml 2> ../vendor.log || { cat ../vendor.log >&2; exit 1; }
	$(call notices,x86_64-unknown-linux-gnu,$(TARGET_DIR)/dist/source/baseten-$(VERSION)/THIRD-PARTY-NOTICES)
	LC_ALL=C tar --sort=name --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		--owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX --mtime=@$(SOURCE_DATE_EPOCH) \
		-C $(TARGET_DIR)/dist/source -cf - baseten-$(VERSION) | gzip -9n > dist/$(SOURCE_NAME).tar.gz

## licence-check: every crate in Cargo.lock under a licence that tools/licences/policy.txt
## allows; names each one that is not
licence-check:
	$(LICENCES) check --policy $(POLICY)
# --------------------------------------------------------------------------------------

## scratch-test: the static binary alone in an empty root (chroot as root, else unshare):
## --version, status with BASETEN_API_KEY, an API-key login to a loopback fake API, token
scratch-test: static
	$(CARGO) build --release --locked --example demo
	tests/scratch-smoke.sh $(STATIC) $(TARGET_DIR)/release/examples/demo

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
