# Fresh Debian 12 chroots for the live tests (sourced after lib.sh). The first use
# builds a minbase bookworm with debootstrap, cached in /var/tmp/leaktop-debian-base;
# each chroot_new is a copy of it with proc, sys and dev mounted, dropped (processes
# killed, mounts undone, files removed) by chroot_drop_all on exit. Downloaded .debs
# are kept in /var/tmp/leaktop-apt-cache so a second run does not fetch them again.
CHROOT_BASE=/var/tmp/leaktop-debian-base
CHROOT_APT_CACHE=/var/tmp/leaktop-apt-cache
CHROOTS=""

chroot_base() {
	[ -x "$CHROOT_BASE/bin/sh" ] && return 0
	if ! command -v debootstrap >/dev/null; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
			fail "cannot install debootstrap"
	fi
	# The host's own mirror, as its apt sources name it.
	local mirror
	mirror=$(grep -rhs '^URIs:.*debian' /etc/apt/sources.list.d/ | awk '{print $2; exit}')
	[ -n "$mirror" ] || mirror=$(grep -hs '^deb .*debian' /etc/apt/sources.list | awk '{print $2; exit}')
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "chroot: building the Debian 12 base from $mirror (once; minutes)"
	rm -rf "$CHROOT_BASE.tmp"
	debootstrap --variant=minbase bookworm "$CHROOT_BASE.tmp" "$mirror" >"$TMP/debootstrap.log" 2>&1 ||
		{ tail -5 "$TMP/debootstrap.log" >&2; fail "debootstrap failed"; }
	# No recommends: what a bare box has, and less to download.
	echo 'APT::Install-Recommends "false";' >"$CHROOT_BASE.tmp/etc/apt/apt.conf.d/99leaktop"
	mv "$CHROOT_BASE.tmp" "$CHROOT_BASE"
}

# chroot_new: a fresh copy of the base, mounted; its path lands in $CHROOT.
chroot_new() {
	chroot_base
	CHROOT=$(mktemp -d /var/tmp/leaktop-chroot.XXXXXX)
	CHROOTS="$CHROOTS $CHROOT"
	cp -a "$CHROOT_BASE/." "$CHROOT/"
	cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
	# Thrown away after the test: dpkg need not fsync every file it unpacks.
	echo force-unsafe-io >"$CHROOT/etc/dpkg/dpkg.cfg.d/99leaktop-unsafe-io"
	mkdir -p "$CHROOT_APT_CACHE/partial"
	mount -t proc proc "$CHROOT/proc" &&
		mount --rbind /sys "$CHROOT/sys" && mount --make-rslave "$CHROOT/sys" &&
		mount --bind /dev "$CHROOT/dev" && mount --bind /dev/pts "$CHROOT/dev/pts" &&
		mount -t tmpfs tmpfs "$CHROOT/run" &&
		mount --bind "$CHROOT_APT_CACHE" "$CHROOT/var/cache/apt/archives" ||
		fail "cannot mount inside $CHROOT"
}

# chroot_run DIR SECS CMD: run the shell command CMD in DIR as root, with a clean
# environment (no HOME, LANG=C) and at most SECS seconds.
chroot_run() {
	local d=$1 secs=$2; shift 2
	timeout -k 5 "$secs" chroot "$d" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive LANG=C \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh -ec "$*"
}

# chroot_apt DIR ARGS: apt-get -y ARGS, with the cached package lists first, then
# fresh ones if the mirror has moved on since.
chroot_apt() {
	local d=$1; shift
	chroot_run "$d" 300 "apt-get -y -q $* >/tmp/apt.log 2>&1" ||
		chroot_run "$d" 300 "apt-get -q update >/tmp/apt.log 2>&1 && apt-get -y -q $* >>/tmp/apt.log 2>&1" ||
		{ tail -20 "$d/tmp/apt.log" >&2; return 1; }
}

chroot_drop() {
	local d=$1 p m
	case "$d" in /var/tmp/leaktop-chroot.?*) ;; *) return ;; esac
	# Whatever the test left running in there: one find for every process's root, not
	# a readlink each (a box with thousands of processes spent 30 CPU-s on that).
	for p in $(find /proc/[0-9]*/root -maxdepth 0 -lname "$d" 2>/dev/null); do
		p=${p#/proc/}
		kill -9 "${p%/root}" 2>/dev/null
	done
	# Every mount under it, deepest first (tests may add their own).
	findmnt -rn -o TARGET | grep "^$d/" | sort -r | while read -r m; do umount -l "$m"; done
	if findmnt -rn -o TARGET | grep -q "^$d/"; then
		echo "chroot: $d still has mounts; left in place" >&2
		return
	fi
	rm -rf --one-file-system "$d"
}

chroot_drop_all() {
	for d in $CHROOTS; do chroot_drop "$d" || true; done
	CHROOTS=""
}

# Undo the chroots before lib.sh's cleanup; a signal goes through the same exit.
trap 'chroot_drop_all; cleanup' EXIT
trap 'exit 130' INT TERM HUP
