#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Files the appliance reads: special files are refused at once (exit 2, never
# a wait), lines of any length are read whole, what rte_cfgfile would misread
# is an error naming file and line, a password file others can read is
# refused; a pcap file with a corrupt record stops the start with exit 2
# naming file, record and offset, and a capture cut off in its last record
# is a warning.
. "$(dirname "$0")/lib.sh"

# checked NAME CONFIG: --check-config with a short deadline of its own, so a
# loader that waits or loops fails here (exit 124) instead of hanging.
checked() {
    TT_RUN=$((TT_RUN + 1))
    TT_OUT=$TT_TMP/out.$TT_RUN
    TT_ERR=$TT_TMP/err.$TT_RUN
    timeout 120 "$TEITEN" -- --config "$2" --check-config >"$TT_OUT" 2>"$TT_ERR"
    TT_RC=$?
}

HEAD=$'[appliance]\nid = files\nhome_country = JP\n[redis]\nenabled = no\n'

# --- special files as the config itself ---
mkfifo "$TT_TMP/fifo"
mkdir "$TT_TMP/folder"
for f in /dev/zero /dev/urandom "$TT_TMP/fifo" "$TT_TMP/folder"; do
    checked config "$f"
    check "--config $f: exit" "$TT_RC" 2
    check_grep "--config $f: names it" "$TT_ERR" "^$f:0: cannot read: (not a regular file|is a directory)"
done

# --- special files named inside it ---
for f in /dev/zero "$TT_TMP/fifo" "$TT_TMP/folder"; do
    printf '%s[sensor a]\nport = 0\nprefixes_file = %s\n' "$HEAD" "$f" >"$TT_TMP/pf.conf"
    checked prefixes_file "$TT_TMP/pf.conf"
    check "prefixes_file = $f: exit" "$TT_RC" 2
    check_grep "prefixes_file = $f: names the line" "$TT_ERR" \
        "^$TT_TMP/pf.conf:8: \[sensor a\] prefixes_file = $f: cannot read"
done
for key in geoip_db asn_db; do
    printf '[appliance]\nid = f\nhome_country = JP\n%s = %s\n[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\n' \
        "$key" "$TT_TMP/fifo" >"$TT_TMP/db.conf"
    checked "$key" "$TT_TMP/db.conf"
    check "$key = FIFO: exit" "$TT_RC" 2
    check_grep "$key = FIFO: names the line" "$TT_ERR" "^$TT_TMP/db.conf:4: .*$key = .*FIFO"
done

# --- a prefixes_file comment longer than a 1 KiB read buffer ---
{
    printf '#'
    head -c 1022 /dev/zero | tr '\0' 'x'
    printf '10.0.0.0/8\n192.0.2.0/24\n'
} >"$TT_TMP/long.txt"
printf '%s[sensor a]\nport = 0\nprefixes_file = long.txt\n' "$HEAD" >"$TT_TMP/long.conf"
checked long-comment "$TT_TMP/long.conf"
check "long comment: exit" "$TT_RC" 0
check_grep "long comment: one prefix, not two" "$TT_OUT" 'valid: appliance files, 1 sensors, 1 prefixes'

# --- configs that used to pass though wrong ---
: >"$TT_TMP/empty.txt"
printf '# to be filled\n\n' >"$TT_TMP/comments.txt"
for f in empty.txt comments.txt; do
    printf '%s[sensor a]\nport = 0\nprefixes_file = %s\n' "$HEAD" "$f" >"$TT_TMP/np.conf"
    checked no-prefix "$TT_TMP/np.conf"
    check "sensor with only $f: exit" "$TT_RC" 2
    check_grep "sensor with only $f: says so" "$TT_ERR" \
        "^$TT_TMP/np.conf:8: \[sensor a\] prefixes_file = $f: no prefix in it"
done
printf '%s[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\0, 10.0.0.0/8\n' "$HEAD" >"$TT_TMP/nul.conf"
checked nul "$TT_TMP/nul.conf"
check "NUL in a value: exit" "$TT_RC" 2
check_grep "NUL in a value: names line and column" "$TT_ERR" \
    "^$TT_TMP/nul.conf:8: \[sensor a\] prefixes = 192.0.2.0/24: NUL byte at column 24"
printf '%s[sensor a]]\nport = 0\nprefixes = 192.0.2.0/24\n' "$HEAD" >"$TT_TMP/hdr.conf"
checked header "$TT_TMP/hdr.conf"
check "[sensor a]]: exit" "$TT_RC" 2
check_grep "[sensor a]]: names it" "$TT_ERR" "^$TT_TMP/hdr.conf:6: \[sensor a\]\]: text after"
label=$(head -c 247 /dev/zero | tr '\0' 'y')
printf '%s[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\nlabel = %s\n' "$HEAD" "$label" \
    >"$TT_TMP/255.conf"
check "the 255-character line is 255 characters" "$(sed -n 9p "$TT_TMP/255.conf" | tr -d '\n' | wc -c)" 255
checked 255 "$TT_TMP/255.conf"
check "a 255-character line: exit" "$TT_RC" 0
printf '\xef\xbb\xbf%s[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\n' "$HEAD" >"$TT_TMP/bom.conf"
checked bom "$TT_TMP/bom.conf"
check "UTF-8 byte order mark: exit" "$TT_RC" 0

# --- the Redis password file ---
printf 'secret\n' >"$TT_TMP/redis.pass"
chmod 644 "$TT_TMP/redis.pass"
pass_conf() {
    printf '[appliance]\nid = f\nhome_country = JP\n[redis]\npassword_file = %s\n' "$1"
    printf '[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\n'
}
pass_conf redis.pass >"$TT_TMP/pw.conf"
checked password "$TT_TMP/pw.conf"
check "password_file 0644: exit" "$TT_RC" 2
check_grep "password_file 0644: says chmod 600" "$TT_ERR" \
    "^$TT_TMP/pw.conf:5: \[redis\] password_file = redis.pass: .*permissions 0644 .*chmod 600"
chmod 600 "$TT_TMP/redis.pass"
checked password "$TT_TMP/pw.conf"
check "password_file 0600: exit" "$TT_RC" 0
pass_conf folder >"$TT_TMP/pw.conf"
checked password "$TT_TMP/pw.conf"
check "password_file naming a folder: exit" "$TT_RC" 2
check_grep "password_file naming a folder: says so" "$TT_ERR" \
    "^$TT_TMP/pw.conf:5: \[redis\] password_file = folder: .*is a directory"
: >"$TT_TMP/empty.pass"
chmod 600 "$TT_TMP/empty.pass"
pass_conf empty.pass >"$TT_TMP/pw.conf"
checked password "$TT_TMP/pw.conf"
check "empty password_file: exit" "$TT_RC" 2
check_grep "empty password_file: says so" "$TT_ERR" "password_file = empty.pass: .*empty"

# --- pcap files: a corrupt record mid-file, a capture cut off ---
"$TEITEN_GEN" --sensor a=10.0.0.0/8 --packets 2000 --seed 5 --out "$TT_TMP/good.pcap" \
    --truth "$TT_TMP/good.truth" >/dev/null
# pcap_edit IN OUT corrupt K | cut: record K (1-based) gets captured length
# 0xffffffff, or the file loses the last half of its last record; prints the
# records in the file and the byte offset of the record edited.
pcap_edit() {
    python3 - "$@" <<'PY'
import struct, sys
src, dst, how = sys.argv[1:4]
data = bytearray(open(src, "rb").read())
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
offsets, off = [], 24
while off < len(data):
    offsets.append(off)
    off += 16 + struct.unpack_from(end + "I", data, off + 8)[0]
if how == "corrupt":
    at = offsets[int(sys.argv[4]) - 1]
    struct.pack_into(end + "I", data, at + 8, 0xffffffff)
else:
    at = offsets[-1]
    caplen = struct.unpack_from(end + "I", data, at + 8)[0]
    data = data[:at + 16 + caplen // 2]
open(dst, "wb").write(data)
print(len(offsets), at)
PY
}
read -r records offset < <(pcap_edit "$TT_TMP/good.pcap" "$TT_TMP/corrupt.pcap" corrupt 1500)
check "crafted pcap: records" "$records" 2000
write_config "$TT_TMP/replay.conf" replay "a:0:10.0.0.0/8"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/corrupt.pcap" -- \
    --config "$TT_TMP/replay.conf" --summary "$TT_TMP/corrupt.json"
check "corrupt record mid-file: exit" "$TT_RC" 2
check_grep "corrupt record mid-file: names file, record and offset" "$TT_ERR" \
    "$TT_TMP/corrupt.pcap: record 1500 at byte $offset: captured length 4294967295 .*never read"
check "corrupt record mid-file: no misleading device error" \
    "$(grep -c 'No such device' "$TT_ERR")" 0

read -r records offset < <(pcap_edit "$TT_TMP/good.pcap" "$TT_TMP/cut.pcap" cut)
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/cut.pcap" -- \
    --config "$TT_TMP/replay.conf" --summary "$TT_TMP/cut.json"
check "capture cut off: exit" "$TT_RC" 0
check_grep "capture cut off: a warning names the file and the frame lost" "$TT_ERR" \
    "$TT_TMP/cut.pcap: record 2000 at byte $offset: the file ends inside it.*one frame is lost"
check "capture cut off: every whole record replayed" "$(sj "$TT_TMP/cut.json" .packets)" 1999

# an undamaged file: no word about it
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/good.pcap" -- \
    --config "$TT_TMP/replay.conf" --summary "$TT_TMP/good.json"
check "whole capture: exit" "$TT_RC" 0
check "whole capture: packets" "$(sj "$TT_TMP/good.json" .packets)" 2000
if grep -q 'good.pcap' "$TT_ERR"; then
    check "whole capture: nothing said about the file" "$(grep good.pcap "$TT_ERR")" ""
fi

finish
