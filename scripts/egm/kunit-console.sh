# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# KUnit suites run as modules inside a QEMU suite's boot, judged like a
# kunit.py run; sourced after common.sh.  One kernel then serves KUnit and
# the suite, instead of a kunit.py build of its own.

# egm_kunit_console CONFIG LOG PREFIX: the KTAP the kernel printed between
# "PREFIX: kunit begins" and "PREFIX: kunit ends" in the console LOG,
# parsed by the kernel's kunit.py and judged by kunit-results.py (failed,
# missing or undocumented skipped tests fail).  Records "kunit-CONFIG" and
# returns non-zero on failure.  Kernel reports are the suite's to judge.
egm_kunit_console() {
	local cfg=$1 log=$2 prefix=$3 ktap json

	ktap=$EGM_RESULTS/kunit-$cfg.log
	json=$EGM_RESULTS/kunit-$cfg.json
	sed -n "/^$prefix: kunit begins\$/,/^$prefix: kunit ends\$/p" "$log" > "$ktap"
	rm -f "$json"
	(cd "$EGM_KSRC" && python3 tools/testing/kunit/kunit.py parse \
		--json="$json" "$ktap") > "$EGM_RESULTS/kunit-$cfg.parse" 2>&1 || true
	python3 "$EGM_REPO/scripts/egm/kunit-results.py" "$cfg" "$json" \
		"$EGM_REPO/tools/testing/egm/kunit-skips" "$EGM_RESULTS/kunit-$cfg"
}
