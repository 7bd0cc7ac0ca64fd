# SPDX-License-Identifier: GPL-2.0
# Building blocks of the initramfs images the QEMU suites boot; sourced
# after common.sh.

# egm_initramfs_base ROOT: a fresh tree with the static busybox and its
# applets, /dev/console and /dev/null.
egm_initramfs_base() {
	local root=$1 busybox=/bin/busybox applet

	for tool in qemu-system-x86_64 gcc cpio gzip timeout readelf; do
		command -v "$tool" > /dev/null || egm_die "$tool is missing (make setup)"
	done
	# The initramfs has no libraries: busybox must have no ELF interpreter.
	if [ ! -x "$busybox" ] ||
	   readelf -l "$busybox" | grep -q 'program interpreter'; then
		egm_die "$busybox is not the static busybox (apt-get install busybox-static)"
	fi
	rm -rf "$root"
	# Merged /usr, as on Debian: host binaries copied in (the demo's
	# QEMU) find their loader and libraries through /lib and /lib64.
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/lib/modules,usr/lib64,dev,proc,sys,tmp}
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	cp "$busybox" "$root/bin/busybox"
	# What "busybox --install -s" does, but into the tree, not the host.
	"$busybox" --list-full | while read -r applet; do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
	[ -e "$root/bin/sh" ] || egm_die "busybox has no sh applet"
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
}

# egm_initramfs_pack ROOT IMAGE: a gzipped newc cpio of ROOT.
egm_initramfs_pack() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 > "$2"
}

# egm_qemu_host BZIMAGE INITRD CMDLINE [RAM_BELOW_4G NODE0_SIZE NODE1_SIZE]:
# set the array "qemu" to the QEMU command of the x86_64 "host" the suites
# boot: TCG, 4 GiB in two NUMA nodes, console on stdio.  QEMU puts
# RAM_BELOW_4G (default 2G) below 4 GiB and the rest at 4 GiB, and gives
# the nodes (default 2G each; the sizes must add up to 4G) their memory in
# that order: by default node 0 is 0-2 GiB and node 1 is 4-6 GiB.
egm_qemu_host() {
	# shellcheck disable=SC2054 # commas belong to QEMU options
	qemu=(qemu-system-x86_64 -nodefaults -nographic -no-reboot -accel tcg
	      -cpu qemu64,+pdpe1gb -smp 2
	      -machine "pc,max-ram-below-4g=${4:-2G}" -m 4G
	      -object "memory-backend-ram,id=m0,size=${5:-2G}"
	      -object "memory-backend-ram,id=m1,size=${6:-2G}"
	      -numa node,nodeid=0,cpus=0,memdev=m0
	      -numa node,nodeid=1,cpus=1,memdev=m1
	      -kernel "$1" -initrd "$2"
	      -append "console=ttyS0 panic=-1 printk.time=1 $3"
	      -serial stdio)
}
