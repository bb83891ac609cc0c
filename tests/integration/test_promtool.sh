#!/bin/sh
# The metrics of every snapshot fixture pass `promtool check metrics` (Prometheus' own parser and
# linter). promtool is in Debian's prometheus package.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
top_builddir=${top_builddir:-.}
command -v promtool >/dev/null 2>&1 || {
	echo "SKIP: promtool not installed (Debian package prometheus)"
	exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctl-promtool.$$.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for f in "$top_srcdir"/tests/data/snapshots/*.json; do
	name=$(basename "$f" .json)
	"$top_builddir/tests/integration/metrics_dump" "$f" metrics >"$tmp/$name.prom" || {
		echo "FAIL: metrics_dump $f"
		fail=1
		continue
	}
	if ! promtool check metrics <"$tmp/$name.prom" >"$tmp/$name.out" 2>&1; then
		echo "FAIL: promtool check metrics on $name:"
		cat "$tmp/$name.out"
		fail=1
	fi
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "FAIL: no fixtures under $top_srcdir/tests/data/snapshots"; exit 1; }
[ $fail = 0 ] && echo "promtool accepts the metrics of $n snapshots"
exit $fail
