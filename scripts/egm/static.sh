#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Static checks on egm-core's own files; fails on any finding.
#
#   sparse (C=2, warnings as errors) and a W=1 build of lib/egm/,
#   coccicheck in report mode, checkpatch --strict on our sources and on
#   patches/, kernel-doc on our headers and sources, the layering of
#   lib/egm/ (layering-check.sh: no core object calls a frontend), the
#   documentation built with Sphinx as make htmldocs would (docs.sh), and
#   the tests the bad-input catalogue names (bad-input-check.sh).
. "$(dirname "$0")/common.sh"

cfg=x86_64
out=$EGM_BUILD/kernel-$cfg
log=$EGM_RESULTS/static-logs
mkdir -p "$log"
findings=0
checks=0

# result NAME LOGFILE: count the findings a check left in LOGFILE
result() {
	local n
	n=$(grep -c . "$2" || true)
	checks=$((checks + 1))
	if [ "$n" -gt 0 ]; then
		findings=$((findings + 1))
		printf '  %-12s FAIL (%s lines)\n' "$1" "$n"
		sed 's/^/    /' "$2" | head -40
	else
		printf '  %-12s ok\n' "$1"
	fi
}

cd "$EGM_REPO"
mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null ||
	find include lib drivers samples tools -name '*.[ch]')
kdirs=$(printf '%s\n' "${sources[@]}" | grep -E '^(lib|drivers|samples)/' |
	xargs -n1 dirname | sed -E 's@/tests$@@' | sort -u)

egm_build_lock
# The kernel must be built first: the W=1 pass rebuilds only our objects.
"$EGM_REPO/scripts/egm/kernel.sh" "$cfg" >/dev/null

egm_log "sparse and W=1 on: $(echo $kdirs)"
: > "$log/build.log"
for d in $kdirs; do
	find "$out/$d" -name '*.o' -delete 2>/dev/null || true
	make -C "$EGM_KSRC" O="$out" ARCH=x86_64 -j"$EGM_JOBS" W=1 C=2 \
		CF=-Wsparse-error "$d/" >> "$log/build.log" 2>&1 ||
		echo "make $d/ failed" >> "$log/build.log"
done
grep -E 'warning:|error:|failed' "$log/build.log" > "$log/build.findings" || true
result "sparse+W=1" "$log/build.findings"

egm_log "layering: the core never calls a frontend"
"$EGM_REPO/scripts/egm/layering-check.sh" "$out/lib/egm" > "$log/layering.findings" 2>&1 ||
	true
result layering "$log/layering.findings"

egm_log "coccicheck"
: > "$log/cocci.findings"
for d in $kdirs; do
	# M= must be absolute: spatch runs in the build directory, where a
	# relative lib/egm holds objects, not sources.
	make -C "$EGM_KSRC" O="$out" ARCH=x86_64 J="$EGM_JOBS" coccicheck \
		MODE=report M="$EGM_KSRC/$d" > "$log/cocci-$(echo "$d" | tr / _).log" 2>&1 ||
		echo "coccicheck on $d failed" >> "$log/cocci.findings"
	grep -E '^[^ ]+\.[ch]:[0-9]+' "$log/cocci-$(echo "$d" | tr / _).log" \
		>> "$log/cocci.findings" || true
done
result coccicheck "$log/cocci.findings"

egm_log "checkpatch --strict"
# checkpatch would validate SPDX tags with scripts/spdxcheck.py, which needs
# the kernel tree to be a git checkout; ours is an unpacked tarball.  So
# checkpatch runs without git (GIT_DIR points nowhere) and the SPDX check
# runs on its own below, against a small git repository of LICENSES/.
cp=(env GIT_DIR=/nonexistent "$EGM_KSRC/scripts/checkpatch.pl"
    --root="$EGM_KSRC" --strict --terse --no-summary --show-types)
# Documented exceptions.  egm_compat.h exists to hold the
# LINUX_VERSION_CODE tests egm-core needs (sparse cannot parse the
# __has_include() that would replace two of them).
# Userspace test programs under tools/ follow kernel style but cannot use
# kernel-only helpers: volatile sig_atomic_t is what C requires in signal
# handlers, BIT_ULL() is not in libc, __printf() and friends must be defined
# from __attribute__ there, PRIu64 is <inttypes.h>'s name, and a
# test harness's CHECK() returns.
compat=() kernel_src=() user_src=()
for f in "${sources[@]}"; do
	case "$f" in
	*/egm_compat.h) compat+=("$f") ;;
	tools/*) user_src+=("$f") ;;
	*) kernel_src+=("$f") ;;
	esac
done
{
	"${cp[@]}" -f "${kernel_src[@]}" || true
	[ ${#compat[@]} = 0 ] || "${cp[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
		-f "${compat[@]}" || true
	[ ${#user_src[@]} = 0 ] || "${cp[@]}" \
		--ignore VOLATILE,PREFER_DEFINED_ATTRIBUTE_MACRO,BIT_MACRO,CAMELCASE,MACRO_WITH_FLOW_CONTROL \
		-f "${user_src[@]}" || true
	# On stdin: a path git tracks would be checked as a source file.
	for p in patches/*.patch; do
		[ -e "$p" ] || continue
		"${cp[@]}" - < "$p" | sed "s|^-:|$p:|" || true
	done
} > "$log/checkpatch.findings" 2>&1
result checkpatch "$log/checkpatch.findings"

egm_log "spdxcheck"
spdx=$EGM_CACHE/spdx-licenses
if [ ! -d "$spdx/.git" ]; then
	rm -rf "$spdx"
	mkdir -p "$spdx"
	cp -r "$EGM_KSRC/LICENSES" "$spdx/"
	git -C "$spdx" init -q
	git -C "$spdx" add LICENSES
	git -C "$spdx" -c user.name=egm -c user.email=egm@localhost \
		commit -q -m "LICENSES of linux-source-$EGM_KVER"
fi
# scripts/egm/series/ holds commit messages and the cover letter's text,
# which become mail, not files: no licence tag.
mapfile -t spdx_files < <(git ls-files -co --exclude-standard -- \
	'*.c' '*.h' '*Makefile' '*Kconfig' 'scripts/*' '.ci/*' \
	':!scripts/egm/series/*' 2>/dev/null)
# spdxcheck.py needs Debian's python3-ply and python3-git: the system python3.
(cd "$spdx" && /usr/bin/python3 "$EGM_KSRC/scripts/spdxcheck.py" -v \
	$(printf "$EGM_REPO/%s " "${spdx_files[@]}")) > "$log/spdx.log" 2>&1 ||
	echo "spdxcheck failed" >> "$log/spdx.log"
{
	# Per-file errors name the file; files without a tag only show in counts.
	grep -E '^/|failed' "$log/spdx.log" || true
	grep -E '^Files (without SPDX|with errors): +[1-9]' "$log/spdx.log" || true
} > "$log/spdx.findings"
result spdxcheck "$log/spdx.findings"

egm_log "kernel-doc"
"$EGM_KSRC/scripts/kernel-doc" -none -Wall "${sources[@]}" \
	> "$log/kernel-doc.findings" 2>&1 || true
result kernel-doc "$log/kernel-doc.findings"

egm_log "documentation (Sphinx, kernel-doc directives, ABI)"
"$EGM_REPO/scripts/egm/docs.sh" > "$log/docs.log" 2>&1 ||
	echo "docs.sh failed" >> "$log/docs.log"
grep -v '^==> ' "$log/docs.log" > "$log/docs.findings" || true
result docs "$log/docs.findings"

egm_log "bad-input catalogue"
# Every test Documentation/userspace-api/egm-bad-input.rst names exists.
"$EGM_REPO/scripts/egm/bad-input-check.sh" > "$log/bad-input.findings" 2>&1 ||
	true
grep -v '^bad-input: ' "$log/bad-input.findings" > "$log/bad-input.only" || true
result bad-input "$log/bad-input.only"

egm_record static $((checks - findings)) "$findings" 0
echo "static: $((checks - findings)) passed, $findings failed"
[ "$findings" = 0 ]
