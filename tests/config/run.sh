#!/bin/sh
# Golden tests of the configuration loader.
#
# Every tests/config/NAME.out holds the stdout, stderr and exit status of
# `anycast-agent -n -f NAME.conf`; NAME.nv.out the same for -nv. The name
# "contrib" stands for the shipped contrib/anycast-agent.conf. A .out without
# its .conf tests a missing file. The -nv outputs are also loaded back, which
# must print the same configuration again (conf_print round trip).
#
# Works from `make check` (top_srcdir/top_builddir set by Makefile.am), in a
# VPATH build and in `make distcheck`; UPDATE_GOLDEN=1 rewrites the .out files.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
agent="$top_builddir/anycast-agent"

if [ ! -x "$agent" ]; then
	echo "run.sh: $agent is not built; run make first" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/anycast-config-test.$$.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# messages name files relative to this directory, whatever the build layout
cd "$top_srcdir/tests/config" || exit 99

run() { # FLAGS CONF -> stdout+stderr, then "exit N"
	"$agent" "$1" -f "$2" 2>&1
	echo "exit $?"
}

# a new NAME.conf gets a NAME.out (-n) when regenerating; rename it NAME.nv.out for -nv
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
	for conf in *.conf; do
		name=${conf%.conf}
		[ -e "$name.out" ] || [ -e "$name.nv.out" ] || : >"$name.out"
	done
fi

fail=0
n=0
for out in *.out; do
	base=${out%.out}
	case $base in
	*.nv) flags=-nv name=${base%.nv} ;;
	*) flags=-n name=$base ;;
	esac
	case $name in
	contrib) conf=../../contrib/anycast-agent.conf ;;
	*) conf=$name.conf ;;
	esac
	n=$((n + 1))
	run "$flags" "$conf" >"$tmp/got"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$tmp/got" "$out"
		echo "updated $out"
	elif ! cmp -s "$out" "$tmp/got"; then
		echo "FAIL: anycast-agent $flags -f $conf differs from tests/config/$out:"
		diff -u "$out" "$tmp/got" | sed 's/^/    /'
		fail=1
		continue
	else
		echo "ok: anycast-agent $flags -f $conf"
	fi

	# the printed configuration loads back to the same configuration
	if [ "$flags" = -nv ] && [ "$(tail -n 1 "$tmp/got")" = "exit 0" ]; then
		grep -v -e '^configuration OK$' -e '^exit 0$' -e '^anycast-agent: note: ' "$tmp/got" \
			>"$tmp/printed.conf"
		run -nv "$tmp/printed.conf" >"$tmp/again"
		if cmp -s "$tmp/got" "$tmp/again"; then
			echo "ok: $out loads back unchanged"
		else
			echo "FAIL: the configuration printed for $conf does not load back the same:"
			diff -u "$tmp/got" "$tmp/again" | sed 's/^/    /'
			fail=1
		fi
	fi
done

# @include is relative to the including file's directory, not to the CWD
srcconf="$(pwd)/includes.conf"
(cd / && run -nv "$srcconf") >"$tmp/elsewhere"
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
	:
elif ! cmp -s includes.nv.out "$tmp/elsewhere"; then
	echo "FAIL: includes.conf read from / differs from tests/config/includes.nv.out:"
	diff -u includes.nv.out "$tmp/elsewhere" | sed 's/^/    /'
	fail=1
else
	echo "ok: includes resolve from the main file's directory when run from /"
fi

# a .conf without its expected output would silently test nothing
for conf in *.conf; do
	name=${conf%.conf}
	if [ ! -e "$name.out" ] && [ ! -e "$name.nv.out" ]; then
		echo "FAIL: tests/config/$conf has no $name.out or $name.nv.out (run with UPDATE_GOLDEN=1 to make one)"
		fail=1
	fi
done

if [ "$n" -lt 20 ]; then
	echo "FAIL: only $n golden files found in $(pwd)"
	fail=1
fi
[ "$fail" = 0 ] && echo "all $n golden tests passed"
exit "$fail"
