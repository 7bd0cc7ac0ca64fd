#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print what each part of `make check` recorded and the closing line
# "check: N passed, N failed, N skipped"; fail when anything failed or
# nothing ran.
. "$(dirname "$0")/common.sh"

passed=0 failed=0 skipped=0
echo
echo "egm-core check summary"
for f in "$EGM_RESULTS"/*; do
	# Records are the plain files without an extension.
	[ -f "$f" ] || continue
	case "${f##*/}" in *.*) continue ;; esac
	read -r p fl s name < "$f" || continue
	printf '  %-16s %5d passed %4d failed %4d skipped\n' "$name" "$p" "$fl" "$s"
	passed=$((passed + p)) failed=$((failed + fl)) skipped=$((skipped + s))
done
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
