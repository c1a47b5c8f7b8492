#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# docs/operations.md's install path (the shell blocks of its sections 1 to
# 8), followed line by line on this machine and printed as it goes: each
# line is run as written, or left out with the reason (no NIC here, no
# systemd as PID 1, hugepages shared with other jobs, no internet). It runs
# in a mount namespace of its own: /usr, /etc and /var/lib are overlays whose
# changes vanish with it, /tmp a fresh tmpfs; the build is of a copy of the
# source tree. At the end the smoke replay's summary is held against the
# generator's truth.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "the walk installs under /usr and /etc: root, in a mount namespace"
DOC=$TT_SOURCE_ROOT/docs/operations.md

# The install path: every line of the ```sh blocks of sections 1 to 8.
awk '/^## [0-9]+\./ { sec = $2 + 0 }
     /^```sh$/ && sec >= 1 && sec <= 8 { inblock = 1; next }
     /^```/ { inblock = 0; next }
     inblock && NF' "$DOC" >"$TT_TMP/lines.txt"
check "operations.md: install path lines found" "$([ "$(wc -l <"$TT_TMP/lines.txt")" -gt 20 ] && echo yes)" yes

mkdir -p "$TT_TMP/src" "$TT_TMP/ov"
tar -C "$TT_SOURCE_ROOT" --exclude='./build*' --exclude=./data --exclude=./.git -cf - . |
    tar -C "$TT_TMP/src" -xf -
cp "$TT_SOURCE_ROOT/tests/unit/data/geo-edges.delegated" "$TT_TMP/fixture.delegated"

cat >"$TT_TMP/walk.sh" <<'WALK'
# Runs inside `unshare -m`, with $TT_TMP bound on /mnt.
set -u
for d in usr etc var/lib; do
    n=${d//\//_}
    mkdir -p "/mnt/ov/$n.up" "/mnt/ov/$n.work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=/mnt/ov/$n.up,workdir=/mnt/ov/$n.work" "/$d" ||
        exit 90
done
mount -t tmpfs tmpfs /tmp || exit 91
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
cd /mnt/src || exit 92
ran=0 skipped=0 failed=0
# Why a line cannot run here (empty: it can).
why_not() {
    case $1 in
    *scripts/test*) echo "this walk runs inside ./scripts/test" ;;
    systemctl* | journalctl*) echo "would drive this machine's systemd (PID 1 is $(ps -p 1 -o comm=))" ;;
    sysctl* | *"mount -t hugetlbfs"*) echo "would change this machine's hugepages, which other jobs share" ;;
    modprobe* | driverctl* | udevadm*) echo "needs a NIC and changes the kernel's drivers; this machine has no NIC" ;;
    git\ pull*) echo "needs the internet" ;;
    esac
}
while IFS= read -r line; do
    reason=$(why_not "$line")
    case $line in
    apt-get\ install*)
        missing=
        for p in ${line#apt-get install -y --no-install-recommends }; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                missing="$missing $p"
        done
        if [ -z "$missing" ]; then
            printf '\n(checked, not run: every package is installed) $ %s\n' "$line"
            skipped=$((skipped + 1))
        else
            printf '\nFAILED (missing:%s) $ %s\n' "$missing" "$line"
            failed=$((failed + 1))
        fi
        continue ;;
    *curl*delegated-*)
        printf '\n(not run: needs the internet; the RIR files are a fixture instead) $ %s\n' "$line"
        for rir in afrinic apnic arin lacnic ripencc; do
            cp /mnt/fixture.delegated "delegated-$rir-extended-latest"
        done
        skipped=$((skipped + 1))
        continue ;;
    esac
    if [ -n "$reason" ]; then
        printf '\n(not run: %s) $ %s\n' "$reason" "$line"
        skipped=$((skipped + 1))
        continue
    fi
    printf '\n$ %s\n' "$line"
    # in this shell, so a cd holds for the lines after it
    eval "$line" >/mnt/step.out 2>&1 </dev/null
    rc=$?
    sed 's/^/  /' /mnt/step.out | tail -15
    ran=$((ran + 1))
    if [ "$rc" -ne 0 ]; then
        printf 'FAILED (exit %s)\n' "$rc"
        failed=$((failed + 1))
    fi
done </mnt/lines.txt
cp /tmp/teiten-smoke.json /tmp/teiten-smoke-summary.json /mnt/ 2>/dev/null
getent passwd teiten >/mnt/passwd.teiten
stat -c '%U:%G %a' /etc/teiten/teiten.conf /var/lib/teiten/country.mmdb >/mnt/owners.txt
printf '\nwalk: %s lines run, %s left out, %s failed\n' "$ran" "$skipped" "$failed"
echo "$ran $skipped $failed" >/mnt/walk.result
WALK

BEFORE=$(ls -d /etc/teiten /usr/bin/teiten /var/lib/teiten 2>&1)
unshare -m bash -c "mount --bind '$TT_TMP' /mnt && exec bash /mnt/walk.sh" \
    >"$TT_TMP/walk.out" 2>&1
check "walk: exit" "$?" 0
cat "$TT_TMP/walk.out"
read -r RAN SKIPPED FAILED <"$TT_TMP/walk.result" 2>/dev/null
check "walk: every line that can run here succeeded" "${FAILED:-none}" 0
check "walk: most lines ran" "$([ "${RAN:-0}" -gt "${SKIPPED:-0}" ] && echo yes)" yes
check_grep "walk: the user teiten was created (systemd-sysusers)" "$TT_TMP/passwd.teiten" '^teiten:'
check "walk: config and database owners" "$(paste -sd' ' "$TT_TMP/owners.txt")" \
    "root:teiten 640 teiten:teiten 644"
for s in all tokyo-a tokyo-b; do
    check "walk: smoke replay, $s packets = truth" \
        "$(sj "$TT_TMP/teiten-smoke-summary.json" ".scopes[\"$s\"].totals.pkts")" \
        "$(jq -r ".scopes[\"$s\"].totals.pkts // \"missing\"" "$TT_TMP/teiten-smoke.json")"
done
check "walk: this machine's /etc, /usr and /var/lib untouched" \
    "$(ls -d /etc/teiten /usr/bin/teiten /var/lib/teiten 2>&1)" "$BEFORE"

finish
