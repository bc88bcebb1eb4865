# baseten: build, test, lint, demo. `make test` is what CI runs.

CARGO  ?= cargo
BIN    := target/release/baseten

.PHONY: build test lint demo clean

## build: the release binary (target/release/baseten)
build:
	$(CARGO) build --release --locked

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

clean:
	$(CARGO) clean
