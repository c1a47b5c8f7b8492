#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The alerts stream's consumers, on the real binary, Redis and Alertmanager:
#  1. scripts/teiten-alerts following the stream (its own ACL user) while a
#     generated day with injected events is replayed: one JSON line per entry,
#     field for field the stream's;
#  2. the console's alert pane (--once and live in tmux) against /teiten/alerts
#     while the appliance runs;
#  3. Alertmanager down: the entries stay pending (exit 1, nothing printed);
#     with Alertmanager up the next run delivers them all, every injected
#     event's alert is there (alertname, scope, subject, breadth), one
#     Alertmanager alert an entry; the human lines match the stream's fields;
#     a run after that prints nothing;
#  4. entries read and never acknowledged are delivered again first, and the
#     lag said at start counts them.
. "$(dirname "$0")/lib.sh"
need_geoip

ALERTS=$TT_SOURCE_ROOT/scripts/teiten-alerts
CONSOLE=$TT_SOURCE_ROOT/scripts/teiten-console
command -v prometheus-alertmanager >/dev/null || skip "prometheus-alertmanager is not installed"
command -v dpdk-telemetry.py >/dev/null || skip "dpdk-telemetry.py is not installed"
command -v tmux >/dev/null || skip "tmux is not installed"
T0=$SECONDS

S0=1711929600
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
    --sensor tokyo-b=198.51.100.0/24 --sensor osaka=203.0.113.0/24 \
    --packets 300000 --seed 11 --start $S0 --span 86400 --sources 3000 \
    --geoip "$TT_GEOIP_DB" --home JP --home-share 150 \
    --surge tokyo-b:tcp/21318:36000:3600:250 --surge all:udp/53:61200:1800:600 \
    --ramp BG:2:80 --mirai-port 22:43200 --dos 1:28800:1200:900 \
    --home-mirai-surge 68400:3600:150 \
    --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.truth" --config "$TT_TMP/g.base" >/dev/null
check "generator: exit" "$?" 0

# A Redis whose ACL has, beside teiten's user, the consumer's: the stream's
# key and the group commands, nothing more (docs/redis-schema.md).
CPASS=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$CPASS" >"$TT_TMP/alerts.pass")
mkdir -p "$TT_TMP/redis-main"
write_acl "$TT_TMP/redis-main/users.acl"
echo "user alerts on #$(printf %s "$CPASS" | sha256sum | cut -d' ' -f1) ~teiten:alerts" \
    "resetchannels -@all +xreadgroup +xack +xgroup +xinfo" >>"$TT_TMP/redis-main/users.acl"
start_redis main || exit 1
{ cat "$TT_TMP/g.base"
  printf '[redis]\nport = %s\nflush_interval_ms = 200\nuser = teiten\npassword_file = %s\n' \
      "$TT_REDIS_PORT" "$TT_TMP/teiten.pass"; } >"$TT_TMP/g.conf"
# the consumer's config: Redis as the appliance's, its own user
sed -e "s/^user = teiten$/user = alerts/" \
    -e "s|^password_file = .*|password_file = $TT_TMP/alerts.pass|" "$TT_TMP/g.conf" \
    >"$TT_TMP/c.conf"
consume() { "$ALERTS" --config "$TT_TMP/c.conf" "$@"; }

# Clear errors: a refused password (2), no Redis (1).
printf 'wrong\n' >"$TT_TMP/wrong.pass"
"$ALERTS" --port "$TT_REDIS_PORT" --user alerts --password-file "$TT_TMP/wrong.pass" --once \
    >/dev/null 2>"$TT_TMP/wrong.err"
check "consumer: a wrong password exits 2" "$?" 2
check_grep "consumer: and says so" "$TT_TMP/wrong.err" "refused the login of user 'alerts'"
"$ALERTS" --port 1 --once >/dev/null 2>"$TT_TMP/none.err"
check "consumer: no Redis exits 1" "$?" 1
check_grep "consumer: and says where it looked" "$TT_TMP/none.err" \
    "cannot reach Redis at 127.0.0.1:1"

# 1. A consumer following from before the first alert (its group at the
# stream's end, the stream created for it).
"$ALERTS" --config "$TT_TMP/c.conf" --group live --consumer c1 --json >"$TT_TMP/live.jsonl" \
    2>"$TT_TMP/live.err" &
LIVE=$!
TT_PIDS+=("$LIVE")
wait_for 60 grep -q "^teiten-alerts: group live on teiten:alerts" "$TT_TMP/live.err"
check "live consumer: created its group at the end of a new stream" \
    "$(head -1 "$TT_TMP/live.err")" \
    "teiten-alerts: created group live on teiten:alerts at its end"

PREFIX=it_$$_cons
"$TEITEN" --no-huge -m 512 --no-pci --file-prefix="$PREFIX" --log-level=lib.eal:error \
    -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- --config "$TT_TMP/g.conf" \
    --duration 3600 --summary "$TT_TMP/s.json" >"$TT_TMP/run.out" 2>&1 &
TEITEN_PID=$!
TT_PIDS+=("$TEITEN_PID")
tq() {
    telemetry "$PREFIX" "$@"
}
PACKETS=$(jq -r .packets "$TT_TMP/g.truth")
settled() {
    [ "$(tq /teiten/workers '."worker/0".rx_pkts')" == "$PACKETS" ] &&
        [ "$(tq /teiten/redis '.backlog_cells')" == 0 ] &&
        [ "$(tq /teiten/alerts .raised)" == "$(rcli main XLEN teiten:alerts)" ]
}
wait_for 300 settled
check "the replay is counted, published, its alerts in the stream" "$?" 0
RAISED=$(tq /teiten/alerts .raised)
check "alerts raised ($RAISED)" "$([ "${RAISED:-0}" -ge 6 ] && echo yes)" yes

# 2. The alert pane: newest first, as /teiten/alerts has them.
pane_row() {   # pane_row I: the line the pane shows for the I-th latest alert
    tq /teiten/alerts,10 "[.ts[$1], .kind[$1], .scope[$1], .subject[$1], .score[$1],
        .message[$1]] | @tsv" | while IFS=$'\t' read -r ts kind scope subject score msg; do
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u -d "@$ts" '+%Y-%m-%d %H:%M')" "$kind" \
            "$scope" "$subject" "$score" "$msg"
    done
}
# a pane line as the same tab-separated fields (columns are two spaces apart)
as_row() { sed -E 's/^  //; s/  +/\t/g'; }
"$CONSOLE" --file-prefix "$PREFIX" --once >"$TT_TMP/once.txt" 2>&1
check "console --once: exit" "$?" 0
check_grep "console --once: the alert pane counts what was raised" "$TT_TMP/once.txt" \
    "^ALERTS  $RAISED raised since the appliance started, newest first"
sed -n '/^ALERTS /,$p' "$TT_TMP/once.txt" | sed -n 3,12p | as_row >"$TT_TMP/once.rows"
for i in 0 1 9; do
    check "console --once: alert row $((i + 1)) = /teiten/alerts" \
        "$(sed -n "$((i + 1))p" "$TT_TMP/once.rows")" "$(pane_row $i)"
done
check "console --once: the hidden ones counted" "$(tail -1 "$TT_TMP/once.txt")" \
    "  ... $((RAISED - 10)) older alerts not shown"

TMUX_SOCK=tt_$$_a
trap 'tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCK"; cleanup' EXIT
tmux -L "$TMUX_SOCK" new-session -d -x 120 -y 50 \
    "$CONSOLE --file-prefix $PREFIX --interval 0.5; sleep 30"
screen() { tmux -L "$TMUX_SOCK" capture-pane -p; }
screen_has() { screen | grep -qE -- "$1"; }
wait_for 60 screen_has "older alerts? not shown"
check "console: the pane fills the terminal and counts the rest" "$?" 0
screen >"$TT_TMP/screen.txt"
sed -n '/^ALERTS /,$p' "$TT_TMP/screen.txt" >"$TT_TMP/pane.txt"
SHOWN=$(($(grep -c '^  20[0-9][0-9]-' "$TT_TMP/pane.txt")))
check "console: alert rows + the count = raised" \
    "$(($(sed -n 's/^  \.\.\. \([0-9]*\) older alerts\? not shown$/\1/p' "$TT_TMP/pane.txt") + SHOWN))" \
    "$RAISED"
check "console: the pane ends at the status line (rows used to the last)" \
    "$(screen | sed -n 49p | grep -c 'older alert')" 1
check "console: the newest alert first" \
    "$(sed -n 3p "$TT_TMP/pane.txt" | cut -c1-119 | as_row | cut -f1-5)" \
    "$(pane_row 0 | cut -f1-5)"
tmux -L "$TMUX_SOCK" resize-window -x 120 -y 42
less_rows() {
    local n
    n=$(screen | grep -c '^  20[0-9][0-9]-')
    [ "$n" -lt "$SHOWN" ] && screen_has "^  \.\.\. $((RAISED - n)) older alerts not shown"
}
wait_for 60 less_rows
check "console: a smaller terminal shows fewer alerts, counts more hidden" "$?" 0
tmux -L "$TMUX_SOCK" kill-server 2>/dev/null

kill -INT "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten: exit after SIGINT" "$?" 0
N=$(rcli main XLEN teiten:alerts)
echo "     $N alerts in the stream"

# The stream as JSON lines (id first, the fields as the stream has them).
rcli main --raw XRANGE teiten:alerts - + | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
for i in range(0, len(lines) - 22, 23):
    kv = lines[i + 1:i + 23]
    print(json.dumps(dict([("id", lines[i])] + list(zip(kv[0::2], kv[1::2])))))' \
    >"$TT_TMP/stream.jsonl"
# same_json A B: "same" when the consumer's JSON lines carry the stream's
# entries, in order, numbers as numbers of the same value
same_json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
num = {"ts": int, "observed": int, "baseline": float, "score": float}
def norm(e):
    return {k: (num[k](v) if k in num else v) for k, v in e.items()}
bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != norm(w)
       or list(g) != list(w) or any(type(g[k]) is str for k in num)]
print("same" if len(got) == len(want) and not bad else
      "%d lines for %d entries; first difference at %s" % (len(got), len(want), bad[:1]))
PY
}
wait_for 120 [ "$(wc -l <"$TT_TMP/live.jsonl")" -ge "$N" ]
check "live consumer: its JSON lines are the stream's entries" \
    "$(same_json "$TT_TMP/live.jsonl" "$TT_TMP/stream.jsonl")" same
kill -TERM "$LIVE"
wait "$LIVE"
check "live consumer: exit 0 on SIGTERM" "$?" 0
check "live consumer: nothing left pending" \
    "$(rcli main --raw XPENDING teiten:alerts live | head -1)" 0

# 3. Alertmanager on a spare loopback port, down at first.
for attempt in $(seq 1 20); do
    AMPORT=$(port_candidate "$attempt")
    curl -s -o /dev/null "http://127.0.0.1:$AMPORT/" || break
done
AM=http://127.0.0.1:$AMPORT
consume --group am --consumer c1 --from-start --once --alertmanager "$AM" --give-up 1 \
    >"$TT_TMP/down.out" 2>"$TT_TMP/down.err"
check "Alertmanager down: the consumer gives up, exit 1" "$?" 1
check_grep "Alertmanager down: says it retries and acknowledges nothing" "$TT_TMP/down.err" \
    "retrying in .*nothing acknowledged"
check "Alertmanager down: no line printed" "$(wc -l <"$TT_TMP/down.out")" 0
DOWN_PENDING=$(rcli main --raw XPENDING teiten:alerts am | head -1)
check "Alertmanager down: the batch read stays pending" \
    "$([ "$DOWN_PENDING" -gt 0 ] && [ "$DOWN_PENDING" -le "$N" ] && echo yes)" yes

cat >"$TT_TMP/am.yml" <<'EOF'
route:
  receiver: nobody
  group_by: [alertname, scope, subject]
receivers:
  - name: nobody
EOF
prometheus-alertmanager --config.file="$TT_TMP/am.yml" --storage.path="$TT_TMP/am" \
    --web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= \
    >"$TT_TMP/am.log" 2>&1 &
TT_PIDS+=("$!")
wait_for 120 curl -sf "$AM/-/ready"
check "Alertmanager: ready on $AMPORT" "$?" 0

consume --group am --consumer c1 --once --alertmanager "$AM" >"$TT_TMP/am.out" \
    2>"$TT_TMP/am.err"
check "Alertmanager up: the consumer drains the stream, exit 0" "$?" 0
check_grep "Alertmanager up: the lag said at start counts the pending" "$TT_TMP/am.err" \
    "^teiten-alerts: group am on teiten:alerts at .*: $((N - DOWN_PENDING)) entries not yet read, $DOWN_PENDING pending$"
check "Alertmanager up: one line an entry" "$(wc -l <"$TT_TMP/am.out")" "$N"
check "Alertmanager up: nothing pending" "$(rcli main --raw XPENDING teiten:alerts am | head -1)" 0
curl -sf "$AM/api/v2/alerts" >"$TT_TMP/am.json"
AM_N=$(jq length "$TT_TMP/am.json")
# one Alertmanager alert per label set; an entry repeating another's labels
# (a re-alert) updates that alert
LABELSETS=$(jq -r '[.kind, .scope, .subject, .res, .metric, .breadth] | @tsv' \
    "$TT_TMP/stream.jsonl" | sort -u | wc -l)
check "Alertmanager: holds every entry ($N in the stream, $LABELSETS label sets)" "$AM_N" \
    "$LABELSETS"
check "Alertmanager: labels and annotations of an entry = the stream's" "$(jq -r \
    --slurpfile s <(head -1 "$TT_TMP/stream.jsonl") '$s[0] as $e | .[] |
    select(.labels.alertname == "teiten_\($e.kind)" and .labels.scope == $e.scope and
        .labels.subject == $e.subject and .labels.res == $e.res and
        .labels.metric == $e.metric) |
    [.annotations.message == $e.message, .annotations.observed == $e.observed,
     .annotations.score == $e.score, .annotations.baseline == $e.baseline,
     (.startsAt | sub("\\.000Z$"; "Z") | fromdateiso8601) == ($e.ts | tonumber),
     .status.state] | @tsv' "$TT_TMP/am.json")" "$(printf 'true\ttrue\ttrue\ttrue\ttrue\tactive')"
# every injected event: an Alertmanager alert of its kind, scope, subject
# (and breadth for a surge)
jq -r '.events[] | [.kind, .scope, .subject, .breadth // ""] | @tsv' "$TT_TMP/g.truth" \
    >"$TT_TMP/events.tsv"
while IFS=$'\t' read -r kind scope subject breadth; do
    n=$(jq --arg k "teiten_$kind" --arg sc "$scope" --arg su "$subject" --arg b "$breadth" \
        '[.[] | .labels | select(.alertname == $k and .scope == $sc and .subject == $su and
            ($b == "" or .breadth == $b))] | length' "$TT_TMP/am.json")
    check "Alertmanager: the injected $kind $scope $subject ${breadth:--} is there" \
        "$([ "$n" -ge 1 ] && echo yes)" yes
done <"$TT_TMP/events.tsv"
check "the truth lists the events ($(wc -l <"$TT_TMP/events.tsv"))" \
    "$([ "$(wc -l <"$TT_TMP/events.tsv")" -ge 6 ] && echo yes)" yes

# The human lines against the stream: pending first, then the rest, in
# stream order.
jq -r '[.ts, .kind, .scope, .subject, .res, .metric, .observed, .baseline, .score,
    (if .breadth == "" then "-" else .breadth end), .message] | @tsv' \
    "$TT_TMP/stream.jsonl" | while IFS=$'\t' read -r ts k sc su r m o b s br msg; do
    echo "$(date -u -d "@$ts" +%Y-%m-%dT%H:%M:%SZ) $k $sc $su $r $m $o vs $b score $s $br: $msg"
done >"$TT_TMP/want.txt"
check "human lines: one per entry, the stream's fields" \
    "$(diff "$TT_TMP/want.txt" "$TT_TMP/am.out" | head -5)" ""

consume --group am --consumer c1 --once --alertmanager "$AM" >"$TT_TMP/again.out" \
    2>"$TT_TMP/again.err"
check "again: exit 0" "$?" 0
check "again: nothing new printed (everything acknowledged)" "$(wc -l <"$TT_TMP/again.out")" 0
check_grep "again: says it is not behind" "$TT_TMP/again.err" \
    ": 0 entries not yet read, 0 pending$"
check "again: Alertmanager holds the same alerts" "$(curl -sf "$AM/api/v2/alerts" | jq length)" \
    "$AM_N"

# 4. Entries read by hand and never acknowledged (a consumer killed before
# its XACK) come first in the next run of that consumer.
rcli main XGROUP CREATE teiten:alerts byhand 0 >/dev/null
rcli main XREADGROUP GROUP byhand c2 COUNT 3 STREAMS teiten:alerts '>' >/dev/null
consume --group byhand --consumer c2 --once --json >"$TT_TMP/hand.jsonl" 2>"$TT_TMP/hand.err"
check "pending: exit 0" "$?" 0
check_grep "pending: the lag at start" "$TT_TMP/hand.err" \
    ": $((N - 3)) entries not yet read, 3 pending$"
check "pending: delivered again, then the rest, each once" \
    "$(same_json "$TT_TMP/hand.jsonl" "$TT_TMP/stream.jsonl")" same
check "pending: none left" "$(rcli main --raw XPENDING teiten:alerts byhand | head -1)" 0

echo "     $N alerts, $AM_N in Alertmanager; $((SECONDS - T0)) s"
finish
