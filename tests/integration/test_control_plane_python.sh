#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_control_plane_python: the reference control plane on python3-redis
# (examples/control-plane/python/pair_call.py) against a real duetd:
# it picks the live relay among fake heartbeats (stale, draining, full,
# stopped, no endpoints, none, and one that answers NOFREE), creates a
# pair through pair_create.lua, the callers talk through it, and it sees
# the pair's ended entry; it deletes a pair through pair_delete.lua after
# a NOSCRIPT; it exits 1 when no relay can take the call. The checks are
# examples/control-plane/lab_check.sh, shared with test_control_plane_node.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$DUET_SRC_ROOT/examples/control-plane/lab_check.sh"
duet_init
# Debian's python3-redis is a package of Debian's python3 (a python3
# earlier in PATH, pyenv's for one, does not see it).
PY=/usr/bin/python3
$PY -c 'import redis' 2>/dev/null ||
	duet_bail "needs $PY with python3-redis (bash tools/install-deps.sh installs it)"
cp_lab_check "$PY" "$DUET_SRC_ROOT/examples/control-plane/python/pair_call.py" \
	--lua-dir "$DUET_SRC_ROOT/lib/contract/lua"
