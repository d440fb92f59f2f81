#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_man: the manual pages in docs/man. Each page renders with scdoc (as
# docs/man/meson.build does) and then with man at 80 columns with every
# warning on (groff and man's own): any warning fails. Each option that
# `duetctl --help`, `duetctl create --help` and `duet-caller --help` print
# must appear in its page, so the pages do not fall behind the programs.
# Needs scdoc and man-db; not root. Prints TAP.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"

trap duet_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for tool in scdoc man; do
	command -v "$tool" >/dev/null || duet_bail "needs $tool (bash tools/install-deps.sh installs it)"
done
DUET_TMP=$(mktemp -d /tmp/duet-it.XXXXXX) || duet_bail "cannot make a temp dir"
man_dir=$DUET_SRC_ROOT/docs/man

pages=(duetd.8 duetd.conf.5 duetctl.1 duet-caller.1)
for page in "${pages[@]}"; do
	src=$man_dir/$page.scd
	if ! scdoc <"$src" >"$DUET_TMP/$page" 2>"$DUET_TMP/$page.scdoc-err"; then
		duet_not_ok "scdoc renders $page" "$(cat "$DUET_TMP/$page.scdoc-err")"
		continue
	fi
	duet_ok "scdoc renders $page"
	# man-db runs groff with -ww under --warnings=all; what either says
	# goes to stderr.
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$DUET_TMP/$page" 2>&1 >"$DUET_TMP/$page.txt")
	rc=$?
	if [[ $rc -eq 0 && -z $warn ]]; then
		duet_ok "man renders $page without warnings"
	else
		duet_not_ok "man renders $page without warnings" "exit $rc: $warn"
	fi
	duet_check_match "$page has NAME, SYNOPSIS and SEE ALSO" \
		'NAME.*SYNOPSIS.*SEE ALSO' "$(tr '\n' ' ' <"$DUET_TMP/$page.txt")"
done

# options_in_page PAGE HELP_TEXT: every --option of HELP_TEXT is in PAGE's source.
options_in_page() {
	local page=$1 help=$2 opt missing=()
	for opt in $(grep -oE -- '--[a-z0-9][a-z0-9-]*' <<<"$help" | sort -u); do
		grep -qF -- "*$opt*" "$man_dir/$page.scd" || missing+=("$opt")
	done
	if ((${#missing[@]} == 0)); then
		duet_ok "every option of the help text is in $page"
	else
		duet_not_ok "every option of the help text is in $page" "missing: ${missing[*]}"
	fi
}

if [[ -x $DUETCTL ]]; then
	options_in_page duetctl.1 "$("$DUETCTL" --help 2>&1; "$DUETCTL" create --help 2>&1)"
	for cmd in $("$DUETCTL" --help 2>&1 | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | sort -u); do
		duet_check "duetctl.1 documents command $cmd" grep -qE "^\*$cmd\*" "$man_dir/duetctl.1.scd"
	done
else
	duet_not_ok "duetctl built" "not found: $DUETCTL (set DUET_BUILD_ROOT)"
fi
if [[ -x $DUET_CALLER ]]; then
	options_in_page duet-caller.1 "$("$DUET_CALLER" --help 2>&1)"
else
	duet_not_ok "duet-caller built" "not found: $DUET_CALLER (set DUET_BUILD_ROOT)"
fi
