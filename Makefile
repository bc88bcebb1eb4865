# baseten: build, test, lint, demo. `make test` is what CI runs.

CARGO   ?= cargo
BIN     := target/release/baseten
MUSL    := x86_64-unknown-linux-musl
STATIC  := target/$(MUSL)/release/baseten
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: build static install install-files test lint demo bench fuzz clean

## build: the release binary (target/release/baseten)
build:
	$(CARGO) build --release --locked

## static: a fully static x86_64 musl binary (target/x86_64-unknown-linux-musl/release/baseten);
## adds the rustup target and musl-tools when missing
static:
	@rustup target list --installed 2>/dev/null | grep -qx $(MUSL) || rustup target add $(MUSL)
	@command -v musl-gcc >/dev/null || { \
		echo "installing musl-tools (needed to build the vendored libdbus)" >&2; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null; }
	$(CARGO) build --release --locked --target $(MUSL)

## install: binary, man page, completions and licences under $(DESTDIR)$(PREFIX)
install: build
	$(MAKE) install-files

## install-files: the install step alone, for an already built $(BIN)
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

## test: every test; the keyring tests run against a private gnome-keyring when
## dbus-run-session, gnome-keyring-daemon and secret-tool are installed (CI installs them),
## and are skipped loudly otherwise (a failure under CI=true)
test:
	@if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null \
	    && command -v secret-tool >/dev/null; then \
		tests/with-secret-service.sh $(CARGO) test --locked; \
	else \
		echo "*** SKIPPING keyring tests: install dbus, gnome-keyring and libsecret-tools to run them" >&2; \
		$(CARGO) test --locked; \
	fi

## lint: formatting and clippy, warnings as errors
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

## demo: a device-flow login, status, token and logout against a local fake server
demo: build
	$(CARGO) build --release --locked --example demo
	target/release/examples/demo $(BIN)

## bench: sizes, start-up time and peak memory next to /bin/true, device-flow overhead;
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
