#!/bin/sh
# SPDX-License-Identifier: ISC
# The tree follows .clang-format: every C file and header, unchanged by clang-format.
cd "${top_srcdir:-$(dirname "$0")/..}" || exit 99
command -v clang-format >/dev/null 2>&1 || {
	echo "SKIP: clang-format not installed (Debian package clang-format)"
	exit 77
}
files=$(find agent include tests -name '*.[ch]' | sort)
bad=0
for f in $files; do
	if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done
[ $bad = 0 ] && echo "$(echo "$files" | wc -l) files follow .clang-format"
exit $bad
