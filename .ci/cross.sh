#!/usr/bin/env bash
# The targets other than x86_64 Linux (SPEC §10), checked on what `make dist` left in
# dist/: the checksums, clippy for macOS and Windows (`make lint-cross`), the aarch64
# tarball's binary alone in an empty root under qemu (tests/scratch-smoke.sh), and the
# Windows zip's baseten.exe under Wine (tests/wine-smoke.sh). Prints what each part took.
# Needs what .ci/cross-tools.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."

timed() {
  local start=$SECONDS
  "$@"
  echo "== took $((SECONDS - start)) s: $*"
}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target_dir=$(cargo metadata --format-version 1 --no-deps --offline \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

(cd dist && sha256sum -c SHA256SUMS)
timed make lint-cross
cargo build --release --locked --example demo
demo=$target_dir/release/examples/demo

unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
aarch64=baseten-$version-aarch64-unknown-linux-musl
tar -xzf "dist/$aarch64.tar.gz" -C "$unpacked"
timed tests/scratch-smoke.sh "$unpacked/$aarch64/baseten" "$demo"
timed tests/wine-smoke.sh "dist/baseten-$version-x86_64-pc-windows-gnu.zip" "$demo"
