#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_control_plane_node: the reference control plane on ioredis
# (examples/control-plane/node/pair_call.js) against a real duetd, with
# the checks of examples/control-plane/lab_check.sh (see
# test_control_plane_python). Its npm dependencies are installed with
# `npm ci` from the committed package-lock.json into a copy of the example
# in the temp dir (the source tree gets no node_modules); if that fails,
# so does the test.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$DUET_SRC_ROOT/examples/control-plane/lab_check.sh"
duet_init
for tool in node npm; do
	command -v "$tool" >/dev/null || duet_bail "needs $tool (bash tools/install-deps.sh installs it)"
done
mkdir -p "$DUET_TMP/node"
cp "$DUET_SRC_ROOT"/examples/control-plane/node/{package.json,package-lock.json,pair_call.js} "$DUET_TMP/node/" ||
	duet_bail "cannot copy examples/control-plane/node"
if ! (cd "$DUET_TMP/node" && timeout -k 5 180 npm ci --no-audit --no-fund) >"$DUET_TMP/npm.log" 2>&1; then
	duet_diag "$(tail -n 30 "$DUET_TMP/npm.log")"
	duet_bail "npm ci failed in $DUET_TMP/node (no network to the npm registry?): the test needs ioredis"
fi
duet_ok "npm ci installed ioredis ($(cd "$DUET_TMP/node" && node -p 'require("ioredis/package.json").version'))"
cp_lab_check node "$DUET_TMP/node/pair_call.js" --lua-dir "$DUET_SRC_ROOT/lib/contract/lua"
