# SPDX-License-Identifier: ISC
# bird_matrix_common.sh - the end-to-end suites against one more BIRD version, as a TAP test
# (one result per suite). Sourced by bird217_matrix.tap and bird3_matrix.tap with
# BIRD_MATRIX_FLAVOUR set (a TOPO_BIRD of tests/lib/topo.sh: 2.17 or 3.1); the suites run as
# they do against this machine's BIRD 2.0.12, with TOPO_BIRD set, one after the other.
#
# BIRD_MATRIX (environment): require - a BIRD that cannot be had fails (CI: scripts/check sets
# it for the default build); off - skip (scripts/check sets it for the ASan build, so the
# matrix runs in one build only); unset - run when the BIRD can be had, else skip.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
F=$BIRD_MATRIX_FLAVOUR
SUITES=(
	tests/integration/test_e2e_basic.sh   # announce, withdraw at the upstream, SIGTERM
	tests/integration/test_control_e2e.sh # drain with (65535,0), BIRD's Message, undrain
	tests/integration/test_e2e_bird.sh    # birdc configure, drift, SIGKILL restart, BIRD restart
	tests/integration/test_e2e_guard.sh   # the last-site guard over iBGP between two PoPs
	tests/faults/bird_faults.sh           # BIRD killed, frozen, socket replaced or denied
	tests/integration/test_e2e_flap.sh    # flap damping
)

if [ "${BIRD_MATRIX:-}" = off ]; then
	echo "1..0 # SKIP BIRD_MATRIX=off: the BIRD versions run in another build"
	exit 0
fi
# the BIRD itself first: a missing one is a skip, or with BIRD_MATRIX=require a failure
if ! v=$(TOPO_BIRD=$F bash -c '. "$top_srcdir/tests/lib/topo.sh" && topo_require >&2 &&
	echo "$TOPO_BIRD_VERSION"' 2>&1); then
	v=$(printf '%s\n' "$v" | tail -n 1)
	if [ "${BIRD_MATRIX:-}" = require ]; then
		echo "Bail out! $v"
		exit 1
	fi
	echo "1..0 # SKIP ${v#SKIP: }"
	exit 0
fi
v=$(printf '%s\n' "$v" | tail -n 1)
echo "1..${#SUITES[@]}"
echo "# BIRD $v (TOPO_BIRD=$F) on every node"
n=0
for s in "${SUITES[@]}"; do
	n=$((n + 1))
	log=$(mktemp "${TMPDIR:-/tmp}/bird-matrix.XXXXXX")
	t0=${EPOCHREALTIME/./}
	TOPO_BIRD=$F bash "$top_srcdir/$s" >"$log" 2>&1
	rc=$?
	secs=$(((${EPOCHREALTIME/./} - t0) / 1000000))
	sed 's/^/# /' "$log"
	case $rc in
	0) echo "ok $n - ${s##*/} on BIRD $v ($secs s)" ;;
	77) echo "ok $n - ${s##*/} on BIRD $v # SKIP $(tail -n 1 "$log")" ;;
	*) echo "not ok $n - ${s##*/} on BIRD $v (exit $rc after $secs s)" ;;
	esac
	rm -f "$log"
done
