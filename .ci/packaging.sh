#!/usr/bin/env bash
# CI for what distribution packagers get, run by .ci/run after `make dist` (as root, on a
# fresh Debian machine, CI=true):
#  1. the licence policy: every crate in Cargo.lock under an allowed licence;
#  2. the third-party notices in every binary artifact in dist/ (and the vendored source
#     tarball) name every crate `cargo tree -e normal --target <its triple>` lists, each
#     with its licence texts;
#  3. the vendored source tarball builds with an empty CARGO_HOME, --offline --locked, and
#     installs (notices included) without the network;
#  4. from that tarball, the system-libdbus build (--no-default-features --features
#     system-dbus): its binary links libdbus-1.so.3 and the keyring tests pass with it.
# Each step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# libdbus-1-dev, pkg-config: the system-dbus build; binutils: readelf; unzip: notices
# inside zip artifacts.
need=()
for pkg in libdbus-1-dev pkg-config binutils unzip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

fail() { echo "error: $*" >&2; exit 1; }
step() { echo "== packaging: $1 (${SECONDS}s so far)"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

step "licence policy"
make licence-check

# check_notices FILE TRIPLE WHAT: FILE names every crate of TRIPLE's tree, each with at
# least one licence text, and every text it refers to is there.
check_notices() {
  local file=$1 triple=$2 what=$3
  [ -s "$file" ] || fail "$what holds no THIRD-PARTY-NOTICES"
  cargo tree --locked -e normal --target "$triple" --prefix none --format '{p}' -p baseten \
    | sed -E 's/^([^ ]+) v([^ ]+).*/\1 \2/' | sort -u | grep -v '^baseten ' > "$work/crates"
  [ -s "$work/crates" ] || fail "cargo tree lists no crate for $triple"
  awk -v crates="$work/crates" '
    BEGIN { while ((getline c < crates) > 0) want[c] = 1 }
    /^\[[0-9]+\] the text of:$/ { defined[substr($1, 2, length($1) - 2) + 0] = 1 }
    /^  licence: / { entry = prev; listed[entry] = 1 }
    /^  texts: / {
      n = split($0, refs, "[")
      for (i = 2; i <= n; i++) { used[refs[i] + 0] = 1; texts[entry]++ }
    }
    { prev = $0 }
    END {
      bad = 0
      for (c in want) {
        if (!(c in listed)) { print "  missing: " c; bad = 1 }
        else if (!texts[c]) { print "  no licence text: " c; bad = 1 }
      }
      for (r in used) if (!(r in defined)) { print "  text [" r "] is referred to but absent"; bad = 1 }
      exit bad
    }' "$file" || fail "the notices in $what do not cover $triple's crates (above)"
  echo "$what: THIRD-PARTY-NOTICES names all $(wc -l < "$work/crates") crates of $triple"
}

step "third-party notices in dist/"
found=0
for artifact in dist/*.tar.gz dist/*.zip; do
  [ -e "$artifact" ] || continue
  name=$(basename "$artifact")
  case "$name" in
    *-vendored.tar.gz) triple=x86_64-unknown-linux-gnu ;;
    *.tar.gz) triple=${name#baseten-"$version"-}; triple=${triple%.tar.gz} ;;
    *.zip) triple=${name#baseten-"$version"-}; triple=${triple%.zip} ;;
  esac
  case "$name" in
    *.zip) unzip -p "$artifact" '*/THIRD-PARTY-NOTICES' > "$work/notices" ;;
    *) tar -xzOf "$artifact" --wildcards '*/THIRD-PARTY-NOTICES' > "$work/notices" ;;
  esac
  check_notices "$work/notices" "$triple" "$name"
  found=$((found + 1))
done
[ "$found" -ge 2 ] || fail "expected the static tarball and the vendored tarball in dist/"

step "vendored source tarball: offline build with an empty CARGO_HOME"
src="$work/src"
mkdir -p "$src" "$work/cargo-home"
tar -xzf "dist/baseten-$version-vendored.tar.gz" -C "$src"
src="$src/baseten-$version"
offline=(env CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" CARGO_NET_OFFLINE=true)
(cd "$src" && "${offline[@]}" cargo build --offline --locked)
# The install step, notices included, from the tarball alone.
(cd "$src" && "${offline[@]}" make install-files BIN="$work/target/debug/baseten" \
  PREFIX=/usr DESTDIR="$work/stage")
"$work/stage/usr/bin/baseten" --version
check_notices "$work/stage/usr/share/licenses/baseten/THIRD-PARTY-NOTICES" \
  "$(rustc -vV | sed -n 's/^host: //p')" "make install from the vendored tarball"
[ -z "$(ls -A "$work/cargo-home/registry" 2>/dev/null)" ] \
  || fail "the offline build put crates in CARGO_HOME: it did not build from vendor/"

step "system libdbus build (from the vendored tarball): keyring tests"
features=(--no-default-features --features system-dbus)
(cd "$src" && "${offline[@]}" tests/with-secret-service.sh \
  cargo nextest run --offline --locked "${features[@]}" --test it --run-ignored all \
    -E 'test(/^keyring::/) | test(/^legacy::keyring::/)')
# The binary those tests ran: the same build asked again is fresh and names it.
bin=$(cd "$src" && "${offline[@]}" cargo build --offline --locked "${features[@]}" --bin baseten \
  --message-format=json 2>/dev/null | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || fail "cannot find the system-dbus binary"
needed=$(readelf -d "$bin")
grep -q 'NEEDED.*\[libdbus-1\.so\.3\]' <<<"$needed" \
  || fail "the system-dbus binary does not link libdbus-1.so.3"
resolved=$(ldd "$bin")
grep -q 'libdbus-1\.so\.3 => /' <<<"$resolved" || fail "libdbus-1.so.3 does not resolve"
echo "system-dbus: $(grep 'libdbus-1\.so\.3' <<<"$resolved")"

step "done"
