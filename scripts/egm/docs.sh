#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build egm-core's documentation as the kernel's "make htmldocs" renders
# it: Debian's Sphinx with the kernel tree's kernel-doc extension, every
# warning an error, into $EGM_BUILD/docs.  Also validates the ABI files
# with the kernel's get_abi.pl.  Prints the findings; exits 1 on any.
. "$(dirname "$0")/common.sh"

[ -f "$EGM_KSRC/Documentation/sphinx/kerneldoc.py" ] ||
	egm_die "no kernel tree at $EGM_KSRC (run make setup)"
command -v sphinx-build > /dev/null || egm_die "no sphinx-build (run make setup)"

out=$EGM_BUILD/docs
src=$out/src
rm -rf "$out"
mkdir -p "$src"
cd "$EGM_REPO"
mapfile -t pages < <(git ls-files -co --exclude-standard -- 'Documentation/*.rst' 2>/dev/null ||
	find Documentation -name '*.rst')
for p in "${pages[@]}"; do
	mkdir -p "$src/$(dirname "$p")"
	cp "$p" "$src/$p"
done
cp scripts/egm/docs/conf.py "$src/"
{
	echo "egm-core"
	echo "========"
	echo
	echo ".. toctree::"
	echo "   :maxdepth: 2"
	echo
	for p in "${pages[@]}"; do echo "   ${p%.rst}"; done
} > "$src/index.rst"

findings=0
EGM_KSRC=$EGM_KSRC EGM_REPO=$EGM_REPO \
	sphinx-build -q -W --keep-going -b html -c "$src" "$src" "$out/html" \
	> "$out/sphinx.log" 2>&1 || findings=1
perl "$EGM_KSRC/scripts/get_abi.pl" validate --dir Documentation/ABI \
	>> "$out/sphinx.log" 2>&1 || findings=1
# get_abi.pl reports problems as warnings and still exits 0.
grep -iE 'warning|error' "$out/sphinx.log" > /dev/null && findings=1
cat "$out/sphinx.log"
[ "$findings" = 0 ] && egm_log "documentation in $out/html/index.html"
[ "$findings" = 0 ]
