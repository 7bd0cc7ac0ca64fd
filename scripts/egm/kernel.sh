#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build one egm-core kernel in the cache.
#
#   kernel.sh CONFIG [make targets...]
#
# The configuration is tinyconfig plus tools/testing/egm/configs/CONFIG.config;
# it is regenerated only when the fragment changes, so rebuilds stay
# incremental.  Every line of the fragment must survive olddefconfig.
. "$(dirname "$0")/common.sh"

cfg=${1:?usage: kernel.sh CONFIG [targets]}
shift
fragment=$EGM_REPO/tools/testing/egm/configs/$cfg.config
[ -f "$fragment" ] || egm_die "no fragment $fragment"

case "$cfg" in
x86_64*) arch=x86_64 cross= ;;
arm64*) arch=arm64 cross=aarch64-linux-gnu- ;;
*) egm_die "no architecture known for configuration '$cfg'" ;;
esac

egm_build_lock
egm_overlay_is_ours "$EGM_KSRC/.egm-overlay-repo"
out=$EGM_BUILD/kernel-$cfg
mk=(make -C "$EGM_KSRC" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" -j"$EGM_JOBS")
mkdir -p "$out"

if ! cmp -s "$fragment" "$out/.egm-fragment"; then
	egm_log "configuring $cfg (tinyconfig + $(basename "$fragment"))"
	"${mk[@]}" -s tinyconfig
	"$EGM_KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" \
		"$out/.config" "$fragment" >/dev/null
	"${mk[@]}" -s olddefconfig
	missing=$(grep -E '^CONFIG_' "$fragment" | while read -r line; do
		grep -qxF "$line" "$out/.config" || echo "$line"
	done)
	[ -z "$missing" ] || egm_die "configuration $cfg lost: $missing"
	cp "$fragment" "$out/.egm-fragment"
fi

if [ $# -eq 0 ]; then
	set -- all
fi
egm_log "building $cfg: $*"
"${mk[@]}" "$@"
if [ -f "$EGM_KSRC/.egm-overlay-repo" ]; then
	cp "$EGM_KSRC/.egm-overlay-repo" "$out/.egm-overlay-repo"
fi
