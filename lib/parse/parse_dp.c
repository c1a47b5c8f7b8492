/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The full per-packet header parser. Runs on worker lcores; pure C. The
 * common frame never reaches it: tt_parse_frame() takes that inline
 * (tt_parse_fast() in tt_parse.h) and calls this for the rest.
 *
 * Every bound is checked against two limits: `avail`, the bytes we may read,
 * and the lengths the headers claim. The rules (what is malformed, what is
 * still attributed) are DESIGN.md section 4, and tests/unit/test_parse.c holds
 * the code to them one rule at a time.
 */
#include "tt_parse.h"

#include <string.h>

#include "tt_data_path.h"

enum {
	ETH_HLEN = 14,
	VLAN_HLEN = 4,
	MAX_VLAN_TAGS = 2,
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	IPV4_MIN_HLEN = 20,
	IPV6_HLEN = 40,
	IPV6_MAX_EXT_HEADERS = 8,
	TCP_MIN_HLEN = 20,
	UDP_HLEN = 8,
	ICMP_MIN_HLEN = 8,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ICMP6 = 58,
};

TT_DATA_PATH static inline uint32_t
rd32_raw(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

TT_DATA_PATH static inline int
is_vlan(uint16_t type)
{
	return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		type == ETHERTYPE_QINQ_OLD;
}

/*
 * L4 header at `l4`, of which `len` bytes belong to the IP payload and may be
 * read (the caller has already capped len at what is readable). A TCP header
 * whose data offset runs past the payload is malformed but still read for
 * ports, flags and sequence, as real Mirai packets require.
 */
TT_DATA_PATH static void
parse_l4(const uint8_t *l4, uint32_t len, struct tt_pkt *pkt)
{
	uint32_t doff;

	switch (pkt->l4) {
	case TT_L4_TCP:
		if (len >= 4) {
			pkt->sport = tt_parse_rd16(l4);
			pkt->dport = tt_parse_rd16(l4 + 2);
			pkt->flags |= TT_PKT_HAS_PORTS;
		}
		if (len < TCP_MIN_HLEN) {
			pkt->flags |= TT_PKT_MALFORMED;
			return;
		}
		pkt->seq_raw = rd32_raw(l4 + 4);
		pkt->tcp_flags = l4[13];
		pkt->window = tt_parse_rd16(l4 + 14);
		pkt->flags |= TT_PKT_HAS_L4;
		doff = (uint32_t)(l4[12] >> 4) * 4;
		if (doff < TCP_MIN_HLEN || doff > len) {
			pkt->flags |= TT_PKT_MALFORMED;
			return;
		}
		tt_parse_tcp_options(l4 + TCP_MIN_HLEN, doff - TCP_MIN_HLEN, pkt);
		return;
	case TT_L4_UDP:
		if (len >= 4) {
			pkt->sport = tt_parse_rd16(l4);
			pkt->dport = tt_parse_rd16(l4 + 2);
			pkt->flags |= TT_PKT_HAS_PORTS;
		}
		if (len < UDP_HLEN) {
			pkt->flags |= TT_PKT_MALFORMED;
			return;
		}
		pkt->flags |= TT_PKT_HAS_L4;
		return;
	case TT_L4_ICMP:
	case TT_L4_ICMP6:
		if (len < ICMP_MIN_HLEN) {
			pkt->flags |= TT_PKT_MALFORMED;
			return;
		}
		pkt->icmp_type = l4[0];
		pkt->icmp_code = l4[1];
		pkt->flags |= TT_PKT_HAS_L4;
		return;
	default:
		return;
	}
}

TT_DATA_PATH static enum tt_l4
l4_kind(uint8_t family, uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP:
		return TT_L4_TCP;
	case PROTO_UDP:
		return TT_L4_UDP;
	case PROTO_ICMP:
		return family == 4 ? TT_L4_ICMP : TT_L4_OTHER;
	case PROTO_ICMP6:
		return family == 6 ? TT_L4_ICMP6 : TT_L4_OTHER;
	default:
		return TT_L4_OTHER;
	}
}

TT_DATA_PATH static void
parse_ipv4(const uint8_t *ip, uint32_t avail, uint32_t captured, struct tt_pkt *pkt)
{
	uint32_t ihl, total, payload_end;
	uint16_t frag;

	if (captured < IPV4_MIN_HLEN || avail < IPV4_MIN_HLEN) {
		pkt->flags |= TT_PKT_MALFORMED;
		return;
	}
	pkt->family = 4;
	pkt->flags |= TT_PKT_HAS_ADDR;
	memcpy(&pkt->src.v4, ip + 12, 4);
	memcpy(&pkt->dst.v4, ip + 16, 4);
	pkt->ttl = ip[8];
	pkt->proto = ip[9];
	pkt->ip_id = tt_parse_rd16(ip + 4);
	pkt->l4 = l4_kind(4, pkt->proto);

	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	total = tt_parse_rd16(ip + 2);
	if ((ip[0] >> 4) != 4)
		pkt->flags |= TT_PKT_MALFORMED;
	if (ihl < IPV4_MIN_HLEN || ihl > captured || ihl > avail) {
		pkt->flags |= TT_PKT_MALFORMED;
		return;                 /* L4 cannot be located */
	}
	/* Less than captured is Ethernet padding, which is fine. */
	payload_end = total;
	if (total < ihl || total > captured) {
		pkt->flags |= TT_PKT_MALFORMED;
		payload_end = captured;
	}

	frag = tt_parse_rd16(ip + 6);
	if ((frag & 0x1fff) != 0) {
		pkt->flags |= TT_PKT_FRAGMENT;
		return;
	}
	if (payload_end > avail)
		payload_end = avail;
	parse_l4(ip + ihl, payload_end - ihl, pkt);
}

TT_DATA_PATH static int
is_ipv6_ext(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 51: case 60: case 135: case 139: case 140:
		return 1;
	default:
		return 0;
	}
}

TT_DATA_PATH static void
parse_ipv6(const uint8_t *ip, uint32_t avail, uint32_t captured, struct tt_pkt *pkt)
{
	uint32_t off = IPV6_HLEN, end, hlen;
	uint8_t nh;
	int n_ext = 0;

	if (captured < IPV6_HLEN || avail < IPV6_HLEN) {
		pkt->flags |= TT_PKT_MALFORMED;
		return;
	}
	pkt->family = 6;
	pkt->flags |= TT_PKT_HAS_ADDR;
	memcpy(pkt->src.v6, ip + 8, 16);
	memcpy(pkt->dst.v6, ip + 24, 16);
	pkt->ttl = ip[7];
	if ((ip[0] >> 4) != 6)
		pkt->flags |= TT_PKT_MALFORMED;

	end = IPV6_HLEN + tt_parse_rd16(ip + 4);
	if (end > captured) {
		pkt->flags |= TT_PKT_MALFORMED;
		end = captured;
	}
	if (end > avail)
		end = avail;

	nh = ip[6];
	while (is_ipv6_ext(nh)) {
		if (++n_ext > IPV6_MAX_EXT_HEADERS || off + 8 > end) {
			/* Too long a chain, or a cut header: the L4 is unknown. */
			pkt->flags |= TT_PKT_MALFORMED;
			pkt->proto = nh;
			pkt->l4 = l4_kind(6, nh);
			return;
		}
		if (nh == 44) {
			hlen = 8;
			if ((tt_parse_rd16(ip + off + 2) & 0xfff8) != 0) {
				/*
				 * A later fragment: what follows is data, not
				 * headers, whatever the fragment header names
				 * next (DESIGN: its protocol, no port). The
				 * walk ends here, and so does the parse below.
				 */
				pkt->flags |= TT_PKT_FRAGMENT;
				nh = ip[off];
				break;
			}
		} else if (nh == 51) {
			hlen = ((uint32_t)ip[off + 1] + 2) * 4;
		} else {
			hlen = ((uint32_t)ip[off + 1] + 1) * 8;
		}
		if (off + hlen > end) {
			pkt->flags |= TT_PKT_MALFORMED;
			pkt->proto = nh;
			pkt->l4 = l4_kind(6, nh);
			return;
		}
		nh = ip[off];
		off += hlen;
	}
	pkt->proto = nh;
	pkt->l4 = l4_kind(6, nh);
	if (pkt->flags & TT_PKT_FRAGMENT)
		return;
	parse_l4(ip + off, end - off, pkt);
}

TT_DATA_PATH unsigned int
tt_parse_frame_full(const uint8_t *data, uint32_t data_len, uint32_t frame_len,
		struct tt_pkt *pkt)
{
	uint32_t off = ETH_HLEN;
	uint16_t type;
	int tags;

	memset(pkt, 0, sizeof(*pkt));
	if (data_len > frame_len)
		data_len = frame_len;
	if (data_len < ETH_HLEN) {
		pkt->flags = TT_PKT_MALFORMED;
		return pkt->flags;
	}
	type = tt_parse_rd16(data + 12);
	for (tags = 0; tags < MAX_VLAN_TAGS && is_vlan(type); tags++) {
		if (off + VLAN_HLEN > data_len) {
			pkt->flags = TT_PKT_MALFORMED;
			return pkt->flags;
		}
		type = tt_parse_rd16(data + off + 2);
		off += VLAN_HLEN;
	}
	if (type == ETHERTYPE_IPV4)
		parse_ipv4(data + off, data_len - off, frame_len - off, pkt);
	else if (type == ETHERTYPE_IPV6)
		parse_ipv6(data + off, data_len - off, frame_len - off, pkt);
	return pkt->flags;
}
