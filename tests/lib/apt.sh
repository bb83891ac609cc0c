# SPDX-License-Identifier: ISC
# apt.sh - sourced (POSIX sh): apt_mirror prints the machine's own Debian mirror, as apt is
# configured (deb822 or one-line sources), for debootstrap.
apt_mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
	done | head -n 1
	awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null
}
