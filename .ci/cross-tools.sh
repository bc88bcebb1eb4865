#!/usr/bin/env bash
# Installs, on a fresh Debian machine as root, what the targets other than x86_64 Linux need
# (SPEC §10): the Rust standard library of each, zig (PyPI's ziglang) as the C compiler of
# aarch64 Linux and macOS, mingw-w64 for Windows, zip for the Windows artifact,
# qemu-user-static for the aarch64 smoke test and wine64 for the Windows one; then
# registers qemu's binfmt_misc entry where the kernel allows it (tests/scratch-smoke.sh
# runs qemu-aarch64-static itself where it does not). `make` never installs any of this.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
ZIG_VERSION=0.17.1
TARGETS=(aarch64-unknown-linux-musl x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin)

# binfmt_misc mounted first, so that installing qemu-user-static registers its entries.
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true

# binutils: readelf for the scratch test's static check; python3-pip: ziglang.
need=()
for pkg in qemu-user-static binfmt-support gcc-mingw-w64-x86-64 wine64 zip binutils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 \
  || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -e "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
fi
if grep -qx enabled "$binfmt/qemu-aarch64" 2>/dev/null; then
  echo "qemu-aarch64: registered with binfmt_misc"
else
  echo "qemu-aarch64: no binfmt_misc entry; the aarch64 test runs qemu-aarch64-static itself"
fi

# zig from PyPI into its own directory (--target: no clash with the system's Python
# packages), on PATH as /usr/local/bin/zig.
if [ "$(zig version 2>/dev/null)" != "$ZIG_VERSION" ]; then
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    --target /opt/ziglang --upgrade "ziglang==$ZIG_VERSION"
  ln -sf /opt/ziglang/ziglang/zig /usr/local/bin/zig
fi
echo "zig $(zig version)"

rustup target add "${TARGETS[@]}" >/dev/null || {
  echo "error: rustup could not fetch the standard library of ${TARGETS[*]}" >&2
  exit 1
}
