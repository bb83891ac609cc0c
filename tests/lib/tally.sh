# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# tally.sh - pass and fail for the integration scripts that go on after a failed assertion and
# judge at their end (POSIX sh and bash). A script may define tally_on_die after sourcing it
# (print a log, say).
#
#   pass MESSAGE       print "ok: MESSAGE"
#   fail MESSAGE       print "FAIL: MESSAGE", counted in $failures
#   die MESSAGE        fail, tally_on_die, exit 1
#   tally_end WHAT [SKIPPED]
#                      anything failed: print the count, tally_on_die, exit 1; else SKIPPED
#                      (what could not be tested) given: "SKIP: WHAT; SKIPPED", exit 77; else
#                      print "PASS: WHAT"

failures=0

pass() { echo "ok: $*"; }

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

tally_on_die() { :; }

die() {
	fail "$*"
	tally_on_die
	exit 1
}

tally_end() {
	if [ "$failures" != 0 ]; then
		echo "$failures failure(s)"
		tally_on_die
		exit 1
	fi
	if [ -n "${2:-}" ]; then
		echo "SKIP: $1; $2"
		exit 77
	fi
	echo "PASS: $1"
}
