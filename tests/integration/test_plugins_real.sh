#!/bin/sh
# SPDX-License-Identifier: ISC
# Monitoring-plugins' check_http, check_dig and check_disk work as exec checks unchanged:
# `anycast-agent --probe` runs them against a real nginx and a real nsd (in a private network
# namespace) and reports OK; with the servers stopped the same checks fail as EXEC_CRITICAL.
set -u
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/nsd.sh"
. "$top_srcdir/tests/lib/tally.sh"
. "$top_srcdir/tests/lib/probe.sh"
P=/usr/lib/nagios/plugins
for p in check_http check_dig check_disk; do
	[ -x "$P/$p" ] || {
		echo "SKIP: $P/$p missing (Debian packages monitoring-plugins-basic, -standard)"
		exit 77
	}
done
nginx_require
nsd_require

probe_own_netns "aaplug$$" "$0"

work=$(mktemp -d "${TMPDIR:-/tmp}/plugins.XXXXXX")
cleanup() {
	nginx_cleanup
	nsd_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tally_on_die() { cat "$work/probe.out" 2>/dev/null; }

nginx_setup "$work/nginx"
nginx_vhost "127.0.0.1:8080" www.example.test
nginx_start || die "nginx"
NSD_BASE=$work/nsd
nsd_start auth 127.0.0.1 5353 2026112501 || die "nsd"

cat >"$work/agent.conf" <<CONF
bird: { socket = "$work/bird.ctl"; state_dir = "$work/state"; };
control: { socket = "$work/agent.ctl"; };
state_file = "$work/operator";
checks: {
  http: { type = "exec"; interval = 5.0; timeout = 3.0;
          command = [ "$P/check_http", "-H", "www.example.test", "-I", "127.0.0.1",
                      "-p", "8080", "-u", "/", "-s", "www.example.test" ]; };
  dig:  { type = "exec"; interval = 5.0; timeout = 3.0;
          command = [ "$P/check_dig", "-H", "127.0.0.1", "-p", "5353", "-l", "www.example.test",
                      "-T", "A", "-a", "192.0.2.80" ]; };
  disk: { type = "exec"; command = [ "$P/check_disk", "-w", "1%", "-c", "1%", "-p", "/" ]; };
};
CONF

"$top_builddir/anycast-agent" -f "$work/agent.conf" --probe >"$work/probe.out" 2>&1 ||
	die "--probe with the servers up did not exit 0"
for c in http dig disk; do
	grep -q "^$c .* OK " "$work/probe.out" || die "$c did not pass"
done
echo "ok: check_http, check_dig and check_disk pass as exec checks:"
sed 's/^/    /' "$work/probe.out"

nginx_stop
nsd_stop auth
"$top_builddir/anycast-agent" -f "$work/agent.conf" --probe http dig >"$work/probe.out" 2>&1
rc=$?
[ $rc = 2 ] || die "--probe with the servers down exited $rc, not 2"
grep -q "^http .* EXEC_CRITICAL " "$work/probe.out" || die "http did not fail as EXEC_CRITICAL"
# check_dig's own choice: an unreachable server is WARNING (exit 1), which passes degraded;
# anycast-agent.conf(5) says so and recommends the native dns check for DNS service health
grep -q "^dig .* WARNING .*dig returned an error status" "$work/probe.out" ||
	die "dig did not report the plugin's WARNING"
echo "ok: with nginx and nsd stopped, check_http fails (EXEC_CRITICAL), check_dig warns:"
sed 's/^/    /' "$work/probe.out"
echo PASS
