#!/bin/sh
# SPDX-License-Identifier: ISC
# The metrics of every snapshot fixture pass `promtool check metrics` (Prometheus' own parser and
# linter). The fleet rules (contrib/prometheus/anycast-agent.rules.yml): promtool accepts them and
# their unit tests pass (tests/prometheus/anycast-agent.rules.test.yml: every alert firing and not
# firing over several PoPs), and the tests speak the agent's language: every anycast_agent_*
# series they feed in, with its labels, is one the agent writes (metrics of every snapshot
# fixture), so a renamed metric or label cannot leave the rules silently matching nothing.
# promtool is in Debian's prometheus package.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
top_builddir=${top_builddir:-.}
rules=$top_srcdir/contrib/prometheus/anycast-agent.rules.yml
tests=$top_srcdir/tests/prometheus/anycast-agent.rules.test.yml
command -v promtool >/dev/null 2>&1 || {
	echo "SKIP: promtool not installed (Debian package prometheus)"
	exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prom-rules.$$.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

promtool check rules "$rules" || fail=1
promtool test rules "$tests" || fail=1

# the metrics of every snapshot; "name label,label" for every sample the agent writes (target
# labels come from the scrape)
n=0
for f in "$top_srcdir"/tests/data/snapshots/*.json; do
	name=$(basename "$f" .json)
	"$top_builddir/tests/integration/metrics_dump" "$f" metrics >"$tmp/$name.prom" || exit 99
	if ! promtool check metrics <"$tmp/$name.prom" >"$tmp/$name.out" 2>&1; then
		echo "FAIL: promtool check metrics on $name:"
		cat "$tmp/$name.out"
		fail=1
	fi
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "FAIL: no fixtures under $top_srcdir/tests/data/snapshots"; exit 1; }
cat "$tmp"/*.prom | grep '^anycast_agent_' >"$tmp/written"
series_keys() { # lines of metric{labels} value -> "name sorted,label,keys" without instance/job
	awk 'match($0, /anycast_agent_[a-z_]*(\{[^}]*\})?/) {
		s = substr($0, RSTART, RLENGTH); name = s; keys = ""
		sub(/\{.*/, "", name)
		if (s ~ /\{/) {
			sub(/^[^{]*\{/, "", s); sub(/\}$/, "", s)
			n = split(s, kv, /,/)
			for (i = 1; i <= n; i++) {
				k = kv[i]; sub(/=.*/, "", k)
				if (k != "instance" && k != "job" && k != "") list[++m] = k
			}
			# a few keys: insertion sort
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && list[j - 1] > list[j]; j--) { t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
			for (i = 1; i <= m; i++) keys = keys (i > 1 ? "," : "") list[i]
			m = 0
		}
		print name " " keys
	}' | sort -u
}
series_keys <"$tmp/written" >"$tmp/written.keys"
grep -o 'anycast_agent_[a-z_]*{[^}]*}' "$tests" | series_keys >"$tmp/fed.keys"
[ -s "$tmp/fed.keys" ] || { echo "FAIL: no anycast_agent_ series found in $tests"; exit 1; }
unknown=$(comm -23 "$tmp/fed.keys" "$tmp/written.keys")
if [ -n "$unknown" ]; then
	echo "FAIL: the rule tests feed series the agent never writes (name labels):"
	echo "$unknown" | sed 's/^/    /'
	fail=1
fi
# and the rules themselves name only metrics the agent writes
grep -o 'anycast_agent_[a-z_]*' "$rules" | sort -u >"$tmp/used"
sed 's/ .*//' "$tmp/written.keys" | sort -u >"$tmp/names"
missing=$(comm -23 "$tmp/used" "$tmp/names")
if [ -n "$missing" ]; then
	echo "FAIL: the rules use metrics the agent never writes: $missing"
	fail=1
fi
[ $fail = 0 ] && echo "promtool accepts the metrics of $n snapshots;" \
	"the fleet rules pass its tests, over $(wc -l <"$tmp/fed.keys") kinds of agent series"
exit $fail
