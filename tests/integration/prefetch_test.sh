#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The data path's prefetch functions still prefetch, in the binary as
# built. GCC takes __builtin_prefetch for free of side effects, finds a
# function whose body is only prefetches "const" and deletes the calls to
# it: the counters' cell prefetch was once compiled to a bare `ret`, and the
# counting stage ran without its cell prefetches for as long as nobody read
# the disassembly (lib/mem/tt_data_path.h, tt_prefetch()). Each function
# named here is called from another file, so it is in the binary as a
# symbol; its body must hold a prefetch instruction (the counters' and the
# source memory's bursts have their prefetches inline).
. "$(dirname "$0")/lib.sh"

command -v objdump >/dev/null || { echo "objdump (binutils) is missing" >&2; exit 1; }
# prefetcht0/prefetchw/... on x86, prfm on Arm
insn='prefetch|prfm'
objdump -d --no-show-raw-insn "$TEITEN" >"$TT_TMP/teiten.dis"
for fn in tt_counters_add_burst tt_hll_pool_prefetch tt_sources_update_burst; do
    body=$(awk -v f="<$fn>:" '$2 == f { on = 1; next } on && /^$/ { exit } on { print }' \
        "$TT_TMP/teiten.dis")
    check "$fn: in the binary" "$([ -n "$body" ] && echo yes || echo no)" yes
    n=$(grep -cE "[[:space:]]($insn)[a-z0-9]*[[:space:]]" <<<"$body")
    check "$fn: prefetch instructions" "$([ "$n" -gt 0 ] && echo some || echo none)" some
done

finish
