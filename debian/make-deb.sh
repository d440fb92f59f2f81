#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-deb.sh [--no-lintian] [OUTDIR]: builds duet's Debian package (`make
# deb`, and tests/integration/test_package.sh). The build runs in a copy of
# this checkout in a temp dir (the files git tracks or would add, plus
# subprojects/libsrtp2 from tools/install-deps.sh), so nothing is written
# into the tree. OUTDIR (default build-deb/ in the checkout) gets the .deb
# files, the .buildinfo and .changes, and lintian.txt with lintian's tags;
# lintian errors fail the build, its warnings do not.
set -euo pipefail

lintian=1
if [[ ${1:-} == --no-lintian ]]; then
	lintian=0
	shift
fi
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-deb}

if [[ ! -f $src/subprojects/libsrtp2/meson.build ]]; then
	echo "make-deb: subprojects/libsrtp2 is missing: run bash tools/install-deps.sh first" >&2
	exit 1
fi
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "make-deb: $src is not a git checkout" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/duet-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/duet"

# What a commit of the working tree would hold (tracked files still present,
# new files not ignored), and the unpacked libsrtp2 (ignored by git).
(
	cd "$src"
	{
		git ls-files -z --cached --others --exclude-standard
		find subprojects/libsrtp2 \( -type f -o -type l \) -print0
	} | while IFS= read -r -d '' f; do
		[[ -e $f || -L $f ]] && printf '%s\0' "$f"
	done | tar --null --no-recursion -T - -cf -
) | tar -C "$work/duet" -xf -

start=$SECONDS
(cd "$work/duet" && dpkg-buildpackage -b -us -uc -Jauto) >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed (last 60 lines above)" >&2
	exit 1
}
rm -f "$out"/duet_*.deb "$out"/duet-dbgsym_*.deb "$out"/duet_*.buildinfo "$out"/duet_*.changes
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$work/build.log" "$out"/
echo "make-deb: built in $((SECONDS - start)) s:"
ls -1 "$out"/*.deb

if ((lintian)); then
	# Overridden tags (debian/duet.lintian-overrides says why) are listed
	# too, as O:.
	# --allow-root: as root (CI, the README's commands) lintian otherwise
	# exits 2 after its warning. The verdict comes from a run without
	# --show-overrides, which makes lintian 2.116 exit 2 whenever a tag is
	# overridden; the listing from a run with it.
	rc=0
	lintian --allow-root --pedantic --fail-on error "$out"/duet_*.changes \
		>/dev/null 2>"$work/lintian.err" || rc=$?
	lintian --allow-root --display-info --pedantic --show-overrides \
		"$out"/duet_*.changes >"$out/lintian.txt" 2>>"$work/lintian.err" || true
	cat "$work/lintian.err" >&2
	echo "make-deb: lintian ($out/lintian.txt):"
	if grep -qE '^[EWIPX]: ' "$out/lintian.txt"; then
		cat "$out/lintian.txt"
	else
		sed 's/^/  /' "$out/lintian.txt"
		echo "make-deb: lintian: no tag left but the overridden ones above"
	fi
	exit "$rc"
fi
