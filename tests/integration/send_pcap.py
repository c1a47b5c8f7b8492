#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send the frames of a pcap file on a network interface, as a live port
would receive them: each frame is written whole to an AF_PACKET socket bound
to the interface (root, or CAP_NET_RAW), at a steady rate so that a receiver
polling the other end of a veth pair loses nothing.

    send_pcap.py [--pps N] [--first K] [--count N] [--leave-out-to CIDR] IFACE FILE

--first and --count take records K to K+N-1 (numbered from 1, as Wireshark
does); --leave-out-to CIDR leaves out the first IPv4 frame to that network
(a run that misses one packet, for a test to show that it notices). A frame
under 14 bytes cannot cross an Ethernet link (the kernel refuses to send it):
it is skipped and counted. Prints one line, "send_pcap: FILE: records A-B:
sent N frames, skipped S under 14 bytes, left out L", and exits 0; 1 when a
frame could not be sent, 2 on bad usage or a file that is not a pcap.
Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import errno
import ipaddress
import socket
import struct
import sys
import time

ETH_HLEN = 14
LINKTYPE_ETHERNET = 1
VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
# ENOBUFS: the socket's buffer is full for a moment; wait and write again.
RETRIES = 1000
RETRY_WAIT_S = 0.001


def fail(code, msg):
    print(f"send_pcap: {msg}", file=sys.stderr)
    sys.exit(code)


def records(path):
    """(number, frame) for each record of a classic pcap file."""
    try:
        f = open(path, "rb")
    except OSError as e:
        fail(2, f"{path}: {e.strerror}")
    with f:
        head = f.read(24)
        if len(head) < 24:
            fail(2, f"{path}: not a pcap file (shorter than its header)")
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            order = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            order = ">"
        else:
            fail(2, f"{path}: not a classic pcap file (magic {magic.hex()}; pcapng is not read)")
        linktype = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
        if linktype != LINKTYPE_ETHERNET:
            fail(2, f"{path}: link type {linktype}, not Ethernet")
        n = 0
        while True:
            rec = f.read(16)
            if not rec:
                return
            n += 1
            if len(rec) < 16:
                fail(2, f"{path}: record {n}: cut inside its header")
            incl = struct.unpack(order + "IIII", rec)[2]
            frame = f.read(incl)
            if len(frame) < incl:
                fail(2, f"{path}: record {n}: cut after {len(frame)} of {incl} bytes")
            yield n, frame


def ipv4_destination(frame):
    """The IPv4 destination of an Ethernet frame (up to two VLAN tags), or None."""
    off, etype = 12, None
    for _ in range(3):
        if len(frame) < off + 2:
            return None
        etype = struct.unpack_from("!H", frame, off)[0]
        if etype not in VLAN_TYPES:
            break
        off += 4
    if etype != 0x0800 or len(frame) < off + 2 + 20:
        return None
    return ipaddress.IPv4Address(frame[off + 2 + 16:off + 2 + 20])


def main():
    ap = argparse.ArgumentParser(description="Send a pcap file's frames on an interface.")
    ap.add_argument("--pps", type=float, default=2000.0,
                    help="frames a second (default 2000)")
    ap.add_argument("--first", type=int, default=1, help="the first record to send")
    ap.add_argument("--count", type=int, default=0, help="records to take (0: to the end)")
    ap.add_argument("--leave-out-to", metavar="CIDR", type=ipaddress.IPv4Network,
                    help="leave out the first IPv4 frame to this network")
    ap.add_argument("iface")
    ap.add_argument("file")
    args = ap.parse_args()
    if args.pps <= 0 or args.first < 1 or args.count < 0:
        fail(2, "--pps must be above 0, --first at least 1, --count not negative")

    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)    # protocol 0: send only
        s.bind((args.iface, 0))
    except OSError as e:
        fail(2, f"{args.iface}: AF_PACKET socket: {e.strerror}")

    last = args.first + args.count - 1 if args.count else None
    sent = skipped = left_out = 0
    first_seen = last_seen = None
    start = time.monotonic()
    for n, frame in records(args.file):
        if n < args.first:
            continue
        if last is not None and n > last:
            break
        first_seen = first_seen or n
        last_seen = n
        if len(frame) < ETH_HLEN:
            skipped += 1
            continue
        if args.leave_out_to is not None and left_out == 0:
            dst = ipv4_destination(frame)
            if dst is not None and dst in args.leave_out_to:
                left_out = 1
                continue
        # a steady rate: frame i leaves at start + i / pps
        delay = start + sent / args.pps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for attempt in range(RETRIES):
            try:
                s.send(frame)
                break
            except OSError as e:
                if e.errno != errno.ENOBUFS or attempt == RETRIES - 1:
                    fail(1, f"{args.file}: record {n} ({len(frame)} bytes) on "
                         f"{args.iface}: {e.strerror}; {sent} frames were sent")
                time.sleep(RETRY_WAIT_S)
        sent += 1
    s.close()
    if first_seen is None:
        fail(2, f"{args.file}: no record from {args.first} on")
    print(f"send_pcap: {args.file}: records {first_seen}-{last_seen}: sent {sent} frames, "
          f"skipped {skipped} under {ETH_HLEN} bytes, left out {left_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
