#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_service: config/duetd.service passes `systemd-analyze verify` with no
# output at all (verify exits 0 even on unknown keys and bad values; it only
# prints them). verify needs ExecStart's binary to exist and looks up the
# Documentation= man pages, so it runs on a copy whose ExecStart is the
# built duetd, with the pages rendered from docs/man on MANPATH. No running
# systemd is needed (it works in a container). A copy with a misspelt value
# must make verify complain, so a silent verify means something. Also
# checks the unit's settings duetd relies on and config/duetd.default.
# Prints TAP.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"

trap duet_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for tool in systemd-analyze scdoc; do
	command -v "$tool" >/dev/null || duet_bail "needs $tool (bash tools/install-deps.sh installs it)"
done
DUET_TMP=$(mktemp -d /tmp/duet-it.XXXXXX) || duet_bail "cannot make a temp dir"
duet_need_bins duetd
unit=$DUET_SRC_ROOT/config/duetd.service
default=$DUET_SRC_ROOT/config/duetd.default
[[ -f $unit ]] || duet_bail "no $unit"

# key VALUE: the unit's value of a key (the last one wins, as in systemd).
key() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
duet_check_eq "ExecStart runs /usr/bin/duetd with the EAL args, then -c" \
	'/usr/bin/duetd $DUETD_EAL_ARGS -- -c /etc/duet/duetd.conf' "$(key ExecStart)"
duet_check_eq "Type=notify" notify "$(key Type)"
duet_check_eq "NotifyAccess=main" main "$(key NotifyAccess)"
duet_check_match "WatchdogSec is set" '^[0-9]+s?$' "$(key WatchdogSec)"
duet_check_eq "EnvironmentFile is /etc/default/duetd (optional)" -/etc/default/duetd \
	"$(key EnvironmentFile)"
duet_check_eq "LimitMEMLOCK=infinity" infinity "$(key LimitMEMLOCK)"
duet_check_eq "Restart=on-failure" on-failure "$(key Restart)"

mkdir -p "$DUET_TMP/unit" "$DUET_TMP/man/man8" "$DUET_TMP/man/man5"
scdoc <"$DUET_SRC_ROOT/docs/man/duetd.8.scd" >"$DUET_TMP/man/man8/duetd.8" &&
	scdoc <"$DUET_SRC_ROOT/docs/man/duetd.conf.5.scd" >"$DUET_TMP/man/man5/duetd.conf.5" ||
	duet_bail "scdoc failed on docs/man"
sed "s|^ExecStart=/usr/bin/duetd |ExecStart=$DUETD |" "$unit" >"$DUET_TMP/unit/duetd.service"

# verify FILE: systemd-analyze verify's output (stdout and stderr) and status.
verify() {
	(cd "$DUET_TMP/unit" && MANPATH=$DUET_TMP/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$1" 2>&1)
}
out=$(verify duetd.service)
rc=$?
if [[ $rc -eq 0 && -z $out ]]; then
	duet_ok "systemd-analyze verify prints nothing for duetd.service"
else
	duet_not_ok "systemd-analyze verify prints nothing for duetd.service" "exit $rc: $out"
fi

sed 's/^ProtectSystem=strict$/ProtectSystem=strictly/' "$DUET_TMP/unit/duetd.service" \
	>"$DUET_TMP/unit/duetd-typo.service"
out=$(verify duetd-typo.service)
duet_check_match "verify complains about a misspelt value (control)" 'ProtectSystem|protect' "$out"

# The environment file: shell syntax, the two variables the unit and duetd read.
duet_check "duetd.default is valid shell" bash -n "$default"
vars=$(env -i bash -c "set -a; source '$default'; env" 2>&1)
duet_check_match "duetd.default sets DUETD_EAL_ARGS" '(^|'$'\n'')DUETD_EAL_ARGS=' "$vars"
duet_check_match "duetd.default sets DUET_REDIS_PASSWORD" '(^|'$'\n'')DUET_REDIS_PASSWORD=' "$vars"
