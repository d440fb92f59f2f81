#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_package: builds the Debian package from this checkout
# (debian/make-deb.sh: a full dpkg-buildpackage in a copy of the tree, into
# a temp dir; 30 to 60 s on 2 CPUs), installs it with dpkg -i, runs
# the installed duetd (--version, --check-config on the shipped config and
# on a broken one), duetctl and duet-caller, checks the man pages, the unit
# (systemd-analyze verify on the installed one), the Lua scripts, the
# conffiles and /etc/default/duetd's mode, then purges the package and
# checks that nothing of it is left. The package is purged on every exit,
# also after a failed check or Ctrl-C. Refuses to run when duet is already
# installed or /usr/bin/duetd exists. Needs root. Prints TAP.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"

installed_by_us=0
pkg_cleanup() {
	if ((installed_by_us)); then
		dpkg --purge duet >"$DUET_TMP/purge-on-exit.log" 2>&1 ||
			duet_diag "dpkg --purge duet failed on exit: $(cat "$DUET_TMP/purge-on-exit.log")"
		installed_by_us=0
	fi
}
on_exit() {
	local rc=$?
	trap - EXIT
	pkg_cleanup
	(exit "$rc")
	duet_on_exit
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[[ $(id -u) == 0 ]] || duet_bail "needs root (dpkg -i); run the tests as root"
for tool in dpkg dpkg-buildpackage dh scdoc man systemd-analyze git; do
	command -v "$tool" >/dev/null || duet_bail "needs $tool (bash tools/install-deps.sh installs it)"
done
if dpkg-query -W -f='${db:Status-Status}' duet 2>/dev/null | grep -qv '^not-installed$'; then
	duet_bail "the package duet is already on this host ($(dpkg-query -W -f='${db:Status-Status}' duet)): not touching it"
fi
for f in /usr/bin/duetd /usr/bin/duetctl /usr/bin/duet-caller /etc/duet /usr/share/duet; do
	[[ -e $f ]] && duet_bail "$f exists (not from the package): the test would overwrite and then delete it"
done
DUET_TMP=$(mktemp -d /tmp/duet-it.XXXXXX) || duet_bail "cannot make a temp dir"
version=$(sed -n "s/^  version: '\([^']*\)',\$/\1/p" "$DUET_SRC_ROOT/meson.build" | head -n 1)
[[ -n $version ]] || duet_bail "no project version in meson.build"

start=$SECONDS
# What `make deb` runs after its deps, lintian included (it fails the
# build on a lintian error).
if bash "$DUET_SRC_ROOT/debian/make-deb.sh" "$DUET_TMP/deb" >"$DUET_TMP/make-deb.log" 2>&1; then
	duet_ok "debian/make-deb.sh builds the package and lintian passes it ($((SECONDS - start)) s)"
else
	duet_not_ok "debian/make-deb.sh builds the package and lintian passes it" \
		"$(tail -n 40 "$DUET_TMP/make-deb.log")"
	duet_bail "no package to install"
fi
duet_check_eq "lintian: no error, warning or info tag left (only overridden ones, each with its reason)" "" \
	"$(grep -E '^[EWI]: ' "$DUET_TMP/deb/lintian.txt" || true)"
duet_diag "lintian's overridden tags: $(grep -c '^O: ' "$DUET_TMP/deb/lintian.txt")"
arch=$(dpkg --print-architecture)
deb=$DUET_TMP/deb/duet_${version}_$arch.deb
duet_require "the package is duet_${version}_$arch.deb" test -f "$deb"

installed_by_us=1
if dpkg -i "$deb" >"$DUET_TMP/install.log" 2>&1; then
	duet_ok "dpkg -i installs it"
else
	duet_not_ok "dpkg -i installs it" "$(cat "$DUET_TMP/install.log")"
	duet_bail "not installed"
fi
dpkg -L duet | sort >"$DUET_TMP/files"

out=$(/usr/bin/duetd --version 2>&1)
rc=$?
duet_check_eq "/usr/bin/duetd --version exits 0" 0 "$rc"
duet_check_eq "/usr/bin/duetd --version prints its version" "duetd $version" "$(tail -n 5 <<<"$out")"
out=$(/usr/bin/duetd --check-config /etc/duet/duetd.conf 2>&1)
rc=$?
duet_check_eq "duetd --check-config accepts the shipped /etc/duet/duetd.conf" 0 "$rc" ||
	duet_diag "$(tail -n 5 <<<"$out")"
sed 's/^max_pairs = .*/max_pairs = 0/' /etc/duet/duetd.conf >"$DUET_TMP/bad.conf"
out=$(/usr/bin/duetd --check-config "$DUET_TMP/bad.conf" 2>&1 >/dev/null)
rc=$?
duet_check_eq "duetd --check-config refuses max_pairs = 0 (exit 1)" 1 "$rc"
duet_check_match "and says why on stderr" 'max_pairs' "$(tail -n 5 <<<"$out")"
duet_check "/usr/bin/duetctl --help runs" bash -c '/usr/bin/duetctl --help >/dev/null 2>&1'
duet_check_match "/usr/bin/duet-caller --version prints its version" "^duet-caller $version" \
	"$(/usr/bin/duet-caller --version 2>&1)"

for page in man8/duetd.8 man5/duetd.conf.5 man1/duetctl.1 man1/duet-caller.1; do
	duet_check "man page /usr/share/man/$page.gz is installed" test -f "/usr/share/man/$page.gz"
done
duet_check_match "man -w finds duetd(8)" '/usr/share/man/man8/duetd\.8\.gz' "$(man -w 8 duetd 2>&1)"

unit=/lib/systemd/system/duetd.service
duet_check "the unit $unit is installed" test -f "$unit"
duet_check_match "its ExecStart is /usr/bin/duetd" '^ExecStart=/usr/bin/duetd ' "$(grep '^ExecStart=' "$unit")"
out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$unit" 2>&1)
rc=$?
if [[ $rc -eq 0 && -z $out ]]; then
	duet_ok "systemd-analyze verify prints nothing for the installed unit"
else
	duet_not_ok "systemd-analyze verify prints nothing for the installed unit" "exit $rc: $out"
fi
duet_check "the unit is not enabled at install" \
	bash -c '! ls /etc/systemd/system/*.wants/duetd.service >/dev/null 2>&1'

for lua in "$DUET_SRC_ROOT"/lib/contract/lua/*.lua; do
	name=$(basename "$lua")
	duet_check "Lua script /usr/share/duet/lua/$name is the source's" \
		cmp -s "$lua" "/usr/share/duet/lua/$name"
done

conffiles=$(dpkg-query -W -f='${Conffiles}' duet)
duet_check_match "/etc/duet/duetd.conf is a conffile" '/etc/duet/duetd\.conf ' "$conffiles"
duet_check_match "/etc/default/duetd is a conffile" '/etc/default/duetd ' "$conffiles"
duet_check_eq "/etc/default/duetd is 0640 root:root" "640 root:root" \
	"$(stat -c '%a %U:%G' /etc/default/duetd 2>&1)"
duet_check "the package ships nothing of libsrtp2 (linked in statically)" \
	bash -c "! grep -Ei 'srtp|/include/|\\.a\$|pkgconfig' '$DUET_TMP/files'"

if dpkg --purge duet >"$DUET_TMP/purge.log" 2>&1; then
	installed_by_us=0
	duet_ok "dpkg --purge removes it"
else
	duet_not_ok "dpkg --purge removes it" "$(cat "$DUET_TMP/purge.log")"
fi
duet_check_eq "dpkg knows it no more" "not-installed" \
	"$(dpkg-query -W -f='${db:Status-Status}' duet 2>/dev/null || echo not-installed)"
left=()
while IFS= read -r f; do
	[[ -d $f ]] && continue # dirs (/usr/bin, /lib, ...) are shared; ours are checked below
	[[ -e $f || -L $f ]] && left+=("$f")
done <"$DUET_TMP/files"
for f in /etc/duet /etc/default/duetd /usr/share/duet /usr/share/doc/duet \
	/var/lib/systemd/deb-systemd-helper-enabled/duetd.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-masked/duetd.service; do
	[[ -e $f || -L $f ]] && left+=("$f")
done
if ((${#left[@]} == 0)); then
	duet_ok "nothing of the package is left after the purge"
else
	duet_not_ok "nothing of the package is left after the purge" "left: ${left[*]}"
fi
