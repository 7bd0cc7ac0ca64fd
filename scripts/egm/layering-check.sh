#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The core never calls a frontend: no object of lib/egm's core has an
# undefined symbol that a frontend's object (chardev.o, vfio.o) defines,
# and no core file includes the frontends' header.  main.c, the module
# glue that plugs the frontends in, is neither.  Prints one line per
# finding; exits 1 on any.
#
#   layering-check.sh [OBJDIR]   (default: the x86_64 kernel's lib/egm)
. "$(dirname "$0")/common.sh"

objdir=${1:-$EGM_BUILD/kernel-x86_64/lib/egm}
frontends="chardev vfio"
glue="main"
[ -f "$objdir/registry.o" ] || egm_die "no objects in $objdir (build the kernel first)"

is_in() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

findings=0
declare -A owner
for f in $frontends; do
	[ -f "$objdir/$f.o" ] || continue
	while read -r sym; do
		owner[$sym]=$f
	done < <(nm --defined-only -g "$objdir/$f.o" | awk '{ print $3 }')
done

for o in "$objdir"/*.o; do
	name=$(basename "$o" .o)
	case $name in egm_core | *.mod) continue ;; esac
	is_in "$name" "$frontends $glue" && continue
	while read -r sym; do
		if [ -n "${owner[$sym]:-}" ]; then
			echo "core $name.o calls $sym of the frontend ${owner[$sym]}.o"
			findings=$((findings + 1))
		fi
	done < <(nm -u "$o" | awk '{ print $2 }')
done

cd "$EGM_REPO/lib/egm"
for f in *.c *.h; do
	name=${f%.*}
	is_in "$name" "$frontends $glue egm_frontends" && continue
	if grep -n '#include "egm_frontends.h"' "$f"; then
		echo "core $f includes the frontends' header"
		findings=$((findings + 1))
	fi
done
[ "$findings" = 0 ]
