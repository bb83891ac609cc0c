#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh - run libFuzzer harnesses one after another, each for SECONDS on its
# committed seed corpus, and fail on any finding (crash, leak, UBSan report,
# timeout, out-of-memory). Called by `make fuzz` and scripts/fuzz.
#
#   run.sh SECONDS SRCDIR BUILDDIR HARNESS...
#
# SRCDIR holds corpus/NAME (the seeds, read only), NAME.dict (optional) and
# lsan.supp, where NAME is the harness without its fuzz_ prefix, and
# NAME.options (optional: more libFuzzer flags, one line). A harness run with
# -detect_leaks=0 there (leak checks made it slow) gets its whole corpus
# replayed with leak detection afterwards. BUILDDIR holds the
# harness binaries; the growing corpus goes to BUILDDIR/corpus/NAME and a
# crashing input to BUILDDIR/artifacts/NAME/.
set -u
[ $# -ge 4 ] || { echo "usage: $0 SECONDS SRCDIR BUILDDIR HARNESS..." >&2; exit 2; }
seconds=$1 src=$2 build=$3
shift 3
case $seconds in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number, not \"$seconds\"" >&2; exit 2 ;;
esac

# a UBSan report is fatal and leaks are reported; the stack names the culprit
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# leaks inside libraries we cannot fix, each one documented in the file
export LSAN_OPTIONS="suppressions=$src/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

status=0
summary=""
for h in "$@"; do
	name=${h#fuzz_}
	bin=$build/$h
	seeds=$src/corpus/$name
	work=$build/corpus/$name
	art=$build/artifacts/$name
	log=$build/$h.log
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin is missing: build with ./configure CC=clang --enable-fuzzing" >&2
		status=1
		continue
	fi
	mkdir -p "$work" "$art"
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/"
	[ -f "$src/$name.dict" ] && set -- "$@" -dict="$src/$name.dict"
	# shellcheck disable=SC2046 # one line of flags, split on purpose
	[ -f "$src/$name.options" ] && set -- "$@" $(cat "$src/$name.options")
	echo "=== fuzz $h for ${seconds}s (seeds: $seeds)"
	"$bin" "$@" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	units=$(find "$work" -type f | wc -l)
	if [ $rc -eq 0 ] && grep -q -- '-detect_leaks=0' "$src/$name.options" 2>/dev/null; then
		echo "=== fuzz $h: replaying $units inputs with leak detection"
		"$bin" -runs=0 -artifact_prefix="$art/" "$work" "$seeds" >>"$log" 2>&1
		rc=$?
	fi
	verdict=ok
	if [ $rc -ne 0 ] || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		verdict="FINDING (exit $rc)"
		status=1
		echo "--- $h: finding; last lines of $log:"
		tail -60 "$log"
		for f in "$art"/*; do
			[ -f "$f" ] || continue
			echo "--- input $f ($(wc -c <"$f") bytes); reproduce: $bin $f"
			od -A d -c "$f" | head -20
		done
	fi
	summary="$summary$(printf '%-18s %12s execs %8s/s %6s corpus  %s' "$h" "${execs:-?}" \
		"${rate:-?}" "$units" "$verdict")
"
done
echo "=== fuzz summary (${seconds}s each)"
printf '%s' "$summary"
exit $status
