#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# meson install into a DESTDIR puts in place what a box needs: binaries,
# operator scripts, the example configs, the unit and its user, the docs
# with the contract, the dashboard. The installed binary validates the
# installed example config as it stands, with the country database where
# the example expects it (/var/lib/teiten, the unit's StateDirectory; the
# test puts it there in a mount namespace of its own, over a tmpfs, so the
# machine's /var/lib is untouched), and replays a capture with it into
# Redis. The installed unit passes systemd-analyze verify, and its
# ExecStartPre line is run as systemd would run it.
. "$(dirname "$0")/lib.sh"
need_geoip

BUILD=${TT_BUILD_ROOT:-$TT_SOURCE_ROOT/build}
DEST=$TT_TMP/root
meson install -C "$BUILD" --destdir "$DEST" --no-rebuild --quiet >"$TT_TMP/install.log" 2>&1
check "meson install --destdir: exit" "$?" 0
option() {
    meson introspect "$BUILD" --buildoptions | jq -r ".[] | select(.name == \"$1\") | .value"
}
PREFIX=$(option prefix)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PREFIX/$1" ;; esac; }
BINDIR=$(abs "$(option bindir)")
SYSCONFDIR=$(abs "$(option sysconfdir)")
DATADIR=$(abs "$(option datadir)")
UNITDIR=$(option systemdunitdir)
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}

for f in teiten teiten-gen teiten-console teiten-alerts teiten-mkmmdb teiten-exporter; do
    check "installed: $BINDIR/$f, executable" "$([ -x "$DEST$BINDIR/$f" ] && echo yes)" yes
done
for f in "$SYSCONFDIR/teiten/teiten.conf.example" "$SYSCONFDIR/teiten/teiten.env.example" \
    "$UNITDIR/teiten.service" "$UNITDIR/teiten-exporter.service" \
    "$PREFIX/lib/sysusers.d/teiten.conf" \
    "$DATADIR/doc/teiten/design.md" "$DATADIR/doc/teiten/operations.md" \
    "$DATADIR/doc/teiten/redis-schema.md" "$DATADIR/teiten/grafana-teiten.json"; do
    check "installed: $f" "$([ -s "$DEST$f" ] && echo yes)" yes
done
check "installed: the contract is the shared DESIGN.md" \
    "$(cmp -s "$DEST$DATADIR/doc/teiten/design.md" "$TT_SOURCE_ROOT/docs/design.md" && echo same)" same
check "installed: the dashboard is valid JSON" \
    "$(jq -r .uid "$DEST$DATADIR/teiten/grafana-teiten.json")" teiten

EX=$DEST$SYSCONFDIR/teiten/teiten.conf.example
T=$DEST$BINDIR/teiten
check_grep "example: names the state directory's database" "$EX" \
    '^geoip_db = /var/lib/teiten/country.mmdb$'

# inbox COMMAND...: run as root in a mount namespace whose /var/lib is a
# tmpfs holding only teiten/country.mmdb, as on an installed box.
[ "$(id -u)" -eq 0 ] || skip "a private /var/lib/teiten needs root (unshare -m)"
VARLIB=$(ls -la /var/lib/teiten 2>&1)
inbox() {
    unshare -m bash -c 'mount -t tmpfs tmpfs /var/lib && mkdir -p /var/lib/teiten &&
        if [ -n "$DB" ]; then cp "$DB" /var/lib/teiten/country.mmdb; fi && exec "$@"' \
        inbox "$@"
}

# Without the database the example says what is missing, and where.
DB= inbox "$T" -- --config "$EX" --check-config >"$TT_TMP/nodb.out" 2>&1
check "installed example, no database yet: exit" "$?" 2
check_grep "installed example, no database yet: names the path" "$TT_TMP/nodb.out" \
    "geoip_db = /var/lib/teiten/country.mmdb: No such file"

export DB=$TT_GEOIP_DB
inbox "$T" -- --config "$EX" --check-config >"$TT_TMP/check.out" 2>&1
check "installed example: --check-config exit" "$?" 0
check_grep "installed example: valid as installed" "$TT_TMP/check.out" \
    "^$EX: valid: appliance tokyo-1, 2 sensors, 3 prefixes"

# The unit: systemd-analyze verify checks every executable it names, so the
# DESTDIR's copy is verified with its paths under the DESTDIR.
UNIT=$DEST$UNITDIR/teiten.service
if command -v systemd-analyze >/dev/null; then
    for u in teiten.service teiten-exporter.service; do
        sed "s|$PREFIX/|$DEST$PREFIX/|g" "$DEST$UNITDIR/$u" >"$TT_TMP/$u"
        systemd-analyze verify "$TT_TMP/$u" >"$TT_TMP/verify.out" 2>&1
        check "systemd-analyze verify $u: exit, no complaint" \
            "$?:$(wc -l <"$TT_TMP/verify.out")" "0:0"
        sed 's/^/     | /' "$TT_TMP/verify.out"
    done
fi
unit() { sed -n "s/^$1=//p" "$UNIT"; }
check "unit: Restart" "$(unit Restart)" on-failure
check "unit: a bad config is not restarted" "$(unit RestartPreventExitStatus)" 2
FINAL_FLUSH=$(sed -n 's/^final_flush_s = //p' "$EX")
check "unit: TimeoutStopSec ($(unit TimeoutStopSec) s) outlasts final_flush_s ($FINAL_FLUSH s)" \
    "$([ "$(unit TimeoutStopSec)" -gt "$FINAL_FLUSH" ] && echo yes)" yes
check "unit: runs as its own user" "$(unit User)" teiten
check "unit: sysusers.d creates that user" \
    "$(awk '$1 == "u" { print $2 }' "$DEST$PREFIX/lib/sysusers.d/teiten.conf")" teiten
check "unit: starts the installed binary" "$(unit ExecStart | cut -d' ' -f1)" "$BINDIR/teiten"
check_grep "unit: removes the hugepage map files after a stop" "$UNIT" \
    "^ExecStopPost=.*rm -f /dev/hugepages/teiten/teitenmap_\*"
# ExecStartPre as systemd runs it: ${TEITEN_CONFIG} from the unit's
# Environment=, here pointing at the installed example.
PRE=$(unit ExecStartPre | grep -- --check-config)
PRE=${PRE//\$\{TEITEN_CONFIG\}/$EX}
PRE=${PRE/#$BINDIR/$DEST$BINDIR}
# shellcheck disable=SC2086
inbox $PRE >"$TT_TMP/pre.out" 2>&1
check "unit: ExecStartPre accepts the installed example" "$?" 0
sed "s/^id = tokyo-1/id = tokyo-1\nclock = nonsense/; /^clock = auto/d" "$EX" >"$TT_TMP/bad.conf"
# shellcheck disable=SC2086
inbox ${PRE/$EX/$TT_TMP/bad.conf} >"$TT_TMP/pre-bad.out" 2>&1
check "unit: ExecStartPre refuses a bad config (exit 2)" "$?" 2
check_grep "unit: ... naming file and line" "$TT_TMP/pre-bad.out" "^$TT_TMP/bad.conf:[0-9]+: "

# A short replay with the installed binaries and the installed example, its
# [redis] port pointed at a throwaway Redis.
start_redis main || exit 1
sed "/^\[redis\]/,/^\[/ s/^port = 6379/port = $TT_REDIS_PORT/; s/^flush_interval_ms = .*/flush_interval_ms = 200/" \
    "$EX" >"$TT_TMP/box.conf"
# The example's own geoip_db path stays: the replay reads /var/lib/teiten.
check_grep "replay config: the example's database path" "$TT_TMP/box.conf" \
    '^geoip_db = /var/lib/teiten/country.mmdb$'
"$DEST$BINDIR/teiten-gen" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
    --sensor tokyo-b=192.0.2.128/25 --packets 5000 --seed 19 --start 1711929600 --span 3600 \
    --geoip "$TT_GEOIP_DB" --home JP --home-share 150 --out "$TT_TMP/r.pcap" --truth "$TT_TMP/r.json" >/dev/null
check "installed teiten-gen: exit" "$?" 0
inbox "$T" --no-huge -m 256 --no-pci --file-prefix="it_$$_inst" --log-level=lib.eal:error \
    -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/r.pcap" -- --config "$TT_TMP/box.conf" \
    --summary "$TT_TMP/r.summary.json" >"$TT_TMP/replay.out" 2>"$TT_TMP/replay.err"
check "installed teiten, replay: exit" "$?" 0
for s in all tokyo-a tokyo-b; do
    check "replay: $s packets = truth" "$(sj "$TT_TMP/r.summary.json" ".scopes[\"$s\"].totals.pkts")" \
        "$(jq -r ".scopes[\"$s\"].totals.pkts" "$TT_TMP/r.json")"
    check "replay: $s in Redis = truth" "$(rcli main HGET "teiten:{$s}:d:20240401:totals" pkts)" \
        "$(jq -r ".scopes[\"$s\"].totals.pkts" "$TT_TMP/r.json")"
done
check "replay: home (JP) sources from the installed database = truth" \
    "$(sj "$TT_TMP/r.summary.json" .scopes.all.totals.home)" \
    "$(jq -r .scopes.all.totals.home "$TT_TMP/r.json")"
check "replay: some home sources" "$(sj "$TT_TMP/r.summary.json" '.scopes.all.totals.home > 0')" true
check "replay: the machine's /var/lib/teiten as it was" "$(ls -la /var/lib/teiten 2>&1)" "$VARLIB"

finish
