#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series [OUT=DIR]: write egm-core as a git format-patch series, with a
# cover letter, for a maintainer to "git am" onto a pristine Linux 6.12 tree.
#
# The series is built as commits on a git repository of the pristine tree
# (Debian's linux-source tarball, unpacked once into the cache): our own
# patches to kernel files are applied as they are (git am), our new files
# are copied in by topic together with the hook patches that wire them up,
# and each commit gets its message from scripts/egm/series/.  Two things
# differ from the tree the test suites build:
#
#  - the version-compat header: the series targets one tree, so
#    lib/egm/egm_compat.h is left out and its uses are written as 6.12
#    spells them (series_transform below); the 6.19-only registration
#    with memory-failure handling (#ifdef EGM_PFN_SPACE) goes with it;
#  - MAINTAINERS gains an entry, grown by each patch that adds files.
#
# The last two kernel patches (0007, 0009) are the suites' test switches;
# they close the series, marked as not for merging.
. "$(dirname "$0")/common.sh"

out=${1:-$EGM_BUILD/series}
sdir=$EGM_REPO/scripts/egm/series
pristine=$EGM_CACHE/series/linux
ident=$(sed -n 's/^From: //p' "$EGM_REPO"/patches/0001-*.patch | head -1)
[ -n "$ident" ] || egm_die "no From: in patches/0001"
name=${ident% <*}
email=${ident##*<}
email=${email%>}
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email
# Reproducible: every commit of the series carries the date of the newest
# change in the repository.
date=$(git -C "$EGM_REPO" log -1 --format=%cI 2>/dev/null || date -Iseconds)
export GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date

git_p() { git -C "$pristine" -c core.autocrlf=false -c gc.auto=0 "$@"; }

# The pristine tree, once: the kernel tarball in a git repository whose
# commit is tagged "pristine".
if ! git_p rev-parse -q --verify pristine >/dev/null 2>&1; then
	tarball=/usr/src/linux-source-$EGM_KVER.tar.xz
	[ -f "$tarball" ] || egm_die "$tarball missing (run make setup)"
	egm_log "unpacking a pristine tree into $pristine (once)"
	rm -rf "$pristine"
	mkdir -p "$pristine"
	tar -C "$pristine" --strip-components=1 -xf "$tarball"
	git_p init -q
	git_p add -A -f
	git_p commit -q -m "linux-source-$EGM_KVER ($(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p;s/^SUBLEVEL = //p' "$pristine/Makefile" | paste -sd.))"
	git_p tag pristine
fi

# series_transform FILE: a file of lib/egm/ as the 6.12 series has it.
series_transform() {
	local f=$1 rc=0
	unifdef -UEGM_PFN_SPACE -o "$f" "$f" || rc=$?
	[ "$rc" -le 1 ] || egm_die "unifdef failed on $f"
	python3 - "$f" <<'EOF'
import re, sys

path = sys.argv[1]
s = open(path).read()
s = re.sub(r'^#include "egm_compat.h"\n', '', s, flags=re.M)
# What the removed lines and blocks leave: never two blank lines in a row.
s = re.sub(r'\n{3,}', '\n\n', s)
s = s.replace('EGM_CORE_NS', 'EGM_CORE')
s = s.replace('EGM_FOP_DMA_HOLD', 'FOP_PFNMAP_DMA_HOLD')


def col(text):
    c = 0
    for ch in text:
        c = (c // 8 + 1) * 8 if ch == '\t' else c + 1
    return c


def indent(c):
    return '\t' * (c // 8) + ' ' * (c % 8)


def huge(m):
    # Keep the continuation aligned with the (shorter) call's parenthesis.
    lead, kind, cont = m.group(1), m.group(2), m.group(3)
    call = 'vmf_insert_pfn_%s(' % kind
    return '%s%svmf, __pfn_to_pfn_t(pfn, PFN_DEV),\n%s' % (
        lead, call, indent(col(lead) + len(call)))


s, n = re.subn(r'^(\t+return )egm_vmf_insert_pfn_(pmd|pud)\(vmf, pfn,\n([\t ]+)',
               huge, s, flags=re.M)
if n:
    s = s.replace('#include <linux/overflow.h>\n',
                  '#include <linux/overflow.h>\n#include <linux/pfn_t.h>\n', 1)
if re.search(r'egm_compat|EGM_PFN_SPACE|egm_vmf_insert|LINUX_VERSION', s):
    sys.exit('%s: a use of the compat header is left' % path)
open(path, 'w').write(s)
EOF
}

# maintainers PATTERN...: the MAINTAINERS entry with these F: patterns
# added (kept sorted), created in its alphabetical place the first time.
maintainers() {
	python3 - "$pristine/MAINTAINERS" "$ident" "$@" <<'EOF'
import sys

path, ident, pats = sys.argv[1], sys.argv[2], sys.argv[3:]
title = 'EGM CORE (NVIDIA EXTENDED GPU MEMORY)'
lines = open(path).read().split('\n')
if title not in lines:
    # The first section (a title line after a blank one, followed by an
    # "X:" line) whose title sorts after ours.
    i = lines.index('Maintainers List')
    while not (lines[i] and not lines[i - 1] and lines[i] > title and
               lines[i + 1][1:3] == ':\t'):
        i += 1
    lines[i:i] = [title, 'M:\t' + ident, 'L:\tkvm@vger.kernel.org',
                  'S:\tMaintained', '']
i = lines.index(title)
j = lines.index('', i)
entry = lines[i:j]
files = sorted(set([l[3:] for l in entry if l.startswith('F:\t')] + pats))
lines[i:j] = [l for l in entry if not l.startswith('F:\t')] + \
    ['F:\t' + f for f in files]
open(path, 'w').write('\n'.join(lines))
EOF
}

# take PATH...: copy repository files into the tree (lib/egm transformed).
take() {
	local f
	for f in "$@"; do
		mkdir -p "$pristine/$(dirname "$f")"
		cp "$EGM_REPO/$f" "$pristine/$f"
		case $f in
		lib/egm/*.[ch]) series_transform "$pristine/$f" ;;
		esac
	done
}

# hook PATCH: apply one of our patches to kernel files without committing.
hook() { git_p apply --index "$EGM_REPO/$1" || egm_die "$1 does not apply"; }

# commit MSG: commit what changed, with scripts/egm/series/MSG as message.
commit() {
	git_p add -A -f
	{ cat "$sdir/$1"; printf '\nSigned-off-by: %s\n' "$ident"; } > "$pristine/.git/EGM_MSG"
	git_p commit -q -F .git/EGM_MSG
}

# am PATCH: one of our patches to kernel files, with its own message.
am() { git_p am -q --keep-cr "$EGM_REPO/$1" || { git_p am --abort; egm_die "$1 does not apply"; }; }

files() { (cd "$EGM_REPO" && git ls-files -co --exclude-standard -- "$@"); }

egm_log "building the series on $pristine (branch egm-series)"
git_p am --abort >/dev/null 2>&1 || true
git_p checkout -q -f -B egm-series pristine
git_p clean -q -fdx

am patches/0005-*.patch
am patches/0006-*.patch
am patches/0008-*.patch

take include/linux/egm_core.h include/uapi/linux/egm.h \
	include/trace/events/egm.h \
	$(files 'lib/egm/*' | grep -v '^lib/egm/egm_compat.h$')
hook patches/0001-*.patch
maintainers include/linux/egm_core.h include/trace/events/egm.h \
	include/uapi/linux/egm.h lib/egm/
commit 01-core.msg

take $(files 'drivers/vfio/pci/nvgrace-gpu/*')
hook patches/0004-*.patch
maintainers 'drivers/vfio/pci/nvgrace-gpu/egm.*'
commit 02-nvgrace-gpu.msg

take $(files 'samples/egm_parent/*')
hook patches/0002-*.patch
maintainers samples/egm_parent/
commit 03-sample.msg

take $(files 'Documentation/*')
hook patches/0003-*.patch
maintainers Documentation/ABI/testing/sysfs-class-egm \
	Documentation/admin-guide/egm.rst Documentation/driver-api/egm.rst \
	'Documentation/userspace-api/egm*.rst'
commit 04-docs.msg

take $(files 'tools/egm/*')
maintainers tools/egm/
commit 05-egmctl.msg

am patches/0007-*.patch
am patches/0009-*.patch

rm -rf "$out"
mkdir -p "$out"
git_p format-patch -q --cover-letter --thread=shallow -o "$out" \
	-O"$sdir/orderfile" pristine..egm-series
n=$(find "$out" -name '0*.patch' ! -name '0000-*' | wc -l)

# The cover letter: our text, the shortlog and diffstat git wrote, and who
# get_maintainer.pl says should get it.
cover=$out/0000-cover-letter.patch
mapfile -t patches < <(find "$out" -name '0*.patch' ! -name '0000-*' | LC_ALL=C sort)
(cd "$pristine" && perl scripts/get_maintainer.pl --nogit --nogit-fallback \
	--norolestats "${patches[@]}") > "$out/get_maintainer.txt" 2>/dev/null ||
	egm_die "get_maintainer.pl failed"
python3 - "$cover" "$sdir/cover.txt" "$out/get_maintainer.txt" <<'EOF'
import sys

cover, text, maint = sys.argv[1:4]
s = open(cover).read()
subject, _, blurb = open(text).read().partition('\n')
people = open(maint).read().strip()
blurb = blurb.strip() + '\n\nscripts/get_maintainer.pl on this series:\n\n' + \
    '\n'.join('  ' + l for l in people.split('\n'))
s = s.replace('*** SUBJECT HERE ***', subject.strip())
s = s.replace('*** BLURB HERE ***', blurb)
open(cover, 'w').write(s)
EOF
egm_log "$n patches and a cover letter in $out"
