#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The bad-input catalogue cannot rot: every row of the tables in
# Documentation/userspace-api/egm-bad-input.rst names at least one test as
# ``FILE:TEST``, and each such test exists: a KUNIT_CASE(TEST) in a KUnit
# file, a "TEST" entry of the test table in a QEMU suite's program.  Rows
# are numbered 1, 2, ... without gaps.  Prints one line per finding; exits
# 1 when there is any.
#
#   bad-input-check.sh [DOC]
. "$(dirname "$0")/common.sh"

doc=${1:-$EGM_REPO/Documentation/userspace-api/egm-bad-input.rst}
[ -f "$doc" ] || egm_die "no $doc"
cd "$EGM_REPO"

findings=0
finding() {
	echo "$doc: $*"
	findings=$((findings + 1))
}

# One line per table row: "NUMBER<TAB>the row's text, joined".
rows=$(awk '
	/^   \* - [0-9]+$/ { if (n) print n "\t" text; n = $3; text = ""; next }
	/^   \* - / || /^[^ ]/ { if (n) print n "\t" text; n = 0; next }
	n { text = text " " $0 }
	END { if (n) print n "\t" text }' "$doc")

want=1
while IFS=$'\t' read -r n text; do
	[ -n "$n" ] || continue
	[ "$n" = "$want" ] || finding "row $n follows row $((want - 1))"
	want=$((n + 1))
	refs=$(grep -oE '``[a-z0-9_/.-]+\.c:[A-Za-z0-9_]+``' <<< "$text" |
		tr -d '`' || true)
	[ -n "$refs" ] || finding "row $n names no test (\`\`FILE:TEST\`\`)"
	for ref in $refs; do
		file=${ref%%:*} test=${ref#*:}
		if [ ! -f "$file" ]; then
			finding "row $n: $file does not exist"
		elif [[ $file == *_kunit.c ]]; then
			grep -qE "KUNIT_CASE(_SLOW)?\($test\)" "$file" ||
				finding "row $n: no KUNIT_CASE($test) in $file"
		else
			grep -qE "\{ (\"[a-z]+\", )?\"$test\", test_" "$file" ||
				finding "row $n: no test \"$test\" in $file"
		fi
	done
done <<< "$rows"

rows_n=$((want - 1))
[ "$rows_n" -ge 40 ] || finding "$rows_n rows, fewer than 40"
echo "bad-input: $rows_n rows, $findings findings" >&2
[ "$findings" = 0 ]
