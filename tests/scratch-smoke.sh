#!/usr/bin/env bash
# The README's `FROM scratch` story, tested: the static binary alone in an empty root (no
# /etc, no /tmp, no CA bundle, no HOME, an empty environment), run with chroot — as root,
# or inside `unshare --user --map-root-user` otherwise. Loopback still works in there
# (same network namespace), so the login talks to the demo's fake API on 127.0.0.1.
# A binary for another architecture (aarch64 on an x86_64 machine) runs under qemu: through
# its binfmt_misc entry when one is registered (with the F flag it works inside the
# chroot), else by putting qemu-aarch64-static into the root and starting it there.
#
# Usage: tests/scratch-smoke.sh STATIC_BINARY DEMO_PROGRAM   (`make scratch-test` runs it)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 STATIC_BINARY DEMO_PROGRAM" >&2; exit 2; }
bin=$1 demo=$2
cd "$(dirname "$0")/.."
. tests/smoke-lib.sh
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

chroot=$(PATH=$PATH:/usr/sbin:/sbin command -v chroot) \
  || { echo "error: chroot not found (coreutils)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  jail=("$chroot")
else
  jail=(unshare --user --map-root-user "$chroot")
fi

# No program interpreter (dynamic loader) in its program headers: it runs alone.
if command -v readelf >/dev/null; then
  ! readelf -lW "$bin" | grep -q INTERP \
    || { echo "error: $bin is not statically linked" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'stop_fake_api; rm -rf "$work"' EXIT
root=$work/root
mkdir -m 755 "$root"
cp "$bin" "$root/baseten"
chmod 755 "$root/baseten"
expected_files=(. ./baseten)

# The ELF machine of the binary (e_machine, bytes 18-19): 3e00 x86_64, b700 aarch64.
machine=$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' \n')
how="natively"
launch=("${jail[@]}" "$root" /baseten)
if [ "$machine" = b700 ] && [ "$(uname -m)" != aarch64 ]; then
  if grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null \
    && grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    how="under qemu through binfmt_misc"
  else
    qemu=$(command -v qemu-aarch64-static) \
      || { echo "error: $bin is an aarch64 binary and qemu-aarch64-static is not installed (Debian: qemu-user-static)" >&2; exit 1; }
    cp "$qemu" "$root/qemu-aarch64-static"
    launch=("${jail[@]}" "$root" /qemu-aarch64-static /baseten)
    expected_files+=(./qemu-aarch64-static)
    how="under qemu-aarch64-static"
  fi
fi
base_env=()

run version '' -- --version
expect 0 "baseten $version"$'\n' ''

run env-status '' BASETEN_API_KEY=scratch-key -- auth status
expect 0 $'https://app.baseten.co\n  Logged in with BASETEN_API_KEY\n  Auth type: api_key\n' ''

run env-token '' BASETEN_API_KEY=scratch-key -- auth token
expect 0 $'scratch-key\n' ''

run env-jq '' BASETEN_API_KEY=scratch-key -- auth status --jq '{user, source, n: ([paths] | length > 3)}'
expect 0 $'{\n  "user": null,\n  "source": "env",\n  "n": true\n}\n' ''

# A key in a file, as Docker and Kubernetes mount secrets: the same, and still no config
# directory needed.
printf 'scratch-file-key\n' > "$root/key"
run file-status '' BASETEN_API_KEY_FILE=/key -- auth status
expect 0 $'https://app.baseten.co\n  Logged in with BASETEN_API_KEY_FILE\n  Auth type: api_key\n' ''

run file-all '' BASETEN_API_KEY_FILE=/key -- auth status --all
expect 0 $'https://app.baseten.co\n  * BASETEN_API_KEY_FILE (api_key, env) active\n' ''

run file-header '' BASETEN_API_KEY_FILE=/key -- auth token --header
expect 0 $'Authorization: Api-Key scratch-file-key\n' ''

run file-missing '' BASETEN_API_KEY_FILE=/nowhere -- auth token
[ "$code" -eq 2 ] || fail "a missing key file: exit code $code, expected 2"
case $err in *BASETEN_API_KEY_FILE*/nowhere*) ;; *) fail "a missing key file: stderr $err" ;; esac

# Nothing is stored without a config directory, and nothing says otherwise.
run no-home '' -- auth status
expect 1 '' $'error: cannot find a config directory: HOME is not set; set BASETEN_CONFIG_DIR\n'

# An API-key login to the fake API on loopback, stored in /config as the README says.
start_fake_api "$demo"
remote=(BASETEN_CONFIG_DIR=/config BASETEN_REMOTE_URL="$url" BASETEN_MANAGEMENT_API_URL_OVERRIDE="$url")

run login $'scratch-key\n' "${remote[@]}" -- auth login --with-api-key --label ci --insecure-storage
expect 0 $'Logged in as newcomer@example.com (Demo Workspace) as profile ci\n' ''

# status promises its first three lines (more may follow).
run stored-status '' "${remote[@]}" -- auth status
out=$(printf '%s' "$out" | head -n 3)$'\n'
expect 0 "$url"$'\n  Logged in as ci\n  Auth type: api_key\n' ''

run stored-token '' "${remote[@]}" -- auth token
expect 0 $'scratch-key\n' ''

run stored-token-json '' "${remote[@]}" -- auth token -o jsonl
expect 0 $'{"profile":"ci","user":"ci","auth_type":"api_key","token":"scratch-key","header":"Api-Key scratch-key"}\n' ''

run file-whoami '' "${remote[@]}" BASETEN_API_KEY_FILE=/key -- whoami --jq .email
expect 0 $'"newcomer@example.com"\n' ''

# The root holds the binary (and qemu, if it had to be put there), the key file and the
# store (and its lock file), nothing else: no /etc, no /tmp, no keyring.
found=$(cd "$root" && find . | LC_ALL=C sort | tr '\n' ' ')
expected=$(printf '%s\n' "${expected_files[@]}" ./config ./config/auth.json ./config/auth.json.lock ./key \
  | LC_ALL=C sort | tr '\n' ' ')
[ "$found" = "$expected" ] \
  || fail "files in the root: $found"
[ "$(stat -c %a "$root/config/auth.json")" = 600 ] || fail "auth.json is not mode 600"
[ "$(stat -c %a "$root/config")" = 700 ] || fail "the config directory is not mode 700"

finish "scratch smoke test"
echo "scratch smoke test ok: $(stat -c %s "$bin") bytes, alone in an empty root, run $how"
