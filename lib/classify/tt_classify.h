/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CLASSIFY_H
#define TT_CLASSIFY_H

/*
 * Header fields -> service key and fingerprint class (DESIGN.md section 4),
 * and the names they are published under. Pure: no DPDK, no allocation.
 * tt_classify_class() runs per packet on any worker; the rest is control plane.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_classify_class.h"
#include "tt_parse.h"
#include "tt_schema.h"

/*
 * A service key is (kind << 16 | value): value is the destination port for
 * TCP/UDP and the protocol number for "ip/<proto>". Keys sort by kind, then
 * value, which is the order reports list them in.
 */
enum tt_svc_kind {
	TT_SVC_NONE = 0,
	TT_SVC_TCP = 1,           /* tcp/<dport> */
	TT_SVC_UDP = 2,           /* udp/<dport> */
	TT_SVC_TCP_BARE = 3,      /* tcp: no port readable */
	TT_SVC_UDP_BARE = 4,      /* udp: no port readable */
	TT_SVC_ICMP = 5,          /* icmp (IPv4) */
	TT_SVC_ICMP6 = 6,         /* icmp6 */
	TT_SVC_IP = 7,            /* ip/<proto> */
	TT_SVC_OVERFLOW = 8,      /* a worker's table was full: kept, not lost */
};

#define TT_SVC(kind, value) ((uint32_t)(kind) << 16 | (uint32_t)(value))
#define TT_SVC_KIND(svc) ((enum tt_svc_kind)((svc) >> 16))
#define TT_SVC_VALUE(svc) ((uint16_t)((svc) & 0xffff))

/* Longest formatted service key, "ip/255" or "udp/65535", plus NUL. */
#define TT_SVC_STR_MAX 16

/* enum tt_class and the class names: tt_schema.h */

/*
 * Countries are two upper-case letters packed into 0..675; TT_COUNTRY_ZZ is
 * "unknown" and counts as abroad (DESIGN.md section 4).
 */
enum {
	TT_COUNTRY_COUNT = 26 * 26,
	TT_COUNTRY_ZZ = 26 * 26 - 1,
};

/** Service key of a parsed packet. Per packet, any thread. */
static inline uint32_t
tt_classify_service(const struct tt_pkt *pkt)
{
	switch (pkt->l4) {
	case TT_L4_TCP:
		return (pkt->flags & TT_PKT_HAS_PORTS) ?
			TT_SVC(TT_SVC_TCP, pkt->dport) : TT_SVC(TT_SVC_TCP_BARE, 0);
	case TT_L4_UDP:
		return (pkt->flags & TT_PKT_HAS_PORTS) ?
			TT_SVC(TT_SVC_UDP, pkt->dport) : TT_SVC(TT_SVC_UDP_BARE, 0);
	case TT_L4_ICMP:
		return TT_SVC(TT_SVC_ICMP, 0);
	case TT_L4_ICMP6:
		return TT_SVC(TT_SVC_ICMP6, 0);
	case TT_L4_OTHER:
		return TT_SVC(TT_SVC_IP, pkt->proto);
	default:
		return TT_SVC(TT_SVC_NONE, 0);
	}
}

/* Bits of a watch bitmap: every TCP port, every UDP port, other kinds, ip/N. */
enum {
	TT_WATCH_BITS = 2 * 65536 + 16 + 256,
};

/*
 * Where a kind's keys sit in a watch bitmap: the first bit, and the bits
 * of the key's value that select one of them. Kinds past TT_SVC_OVERFLOW
 * do not occur; their slots give bits of their own all the same.
 */
struct tt_watch_span {
	uint32_t first;
	uint32_t value_mask;
};

#define TT_WATCH_OTHER(kind) { 2 * 65536u + (kind), 0 }
static const struct tt_watch_span tt_watch_spans[16] = {
	TT_WATCH_OTHER(0), { 0, 0xffff }, { 65536u, 0xffff }, TT_WATCH_OTHER(3),
	TT_WATCH_OTHER(4), TT_WATCH_OTHER(5), TT_WATCH_OTHER(6), { 2 * 65536u + 16, 0xff },
	TT_WATCH_OTHER(8), TT_WATCH_OTHER(9), TT_WATCH_OTHER(10), TT_WATCH_OTHER(11),
	TT_WATCH_OTHER(12), TT_WATCH_OTHER(13), TT_WATCH_OTHER(14), TT_WATCH_OTHER(15),
};
#undef TT_WATCH_OTHER
_Static_assert(TT_SVC_TCP == 1 && TT_SVC_UDP == 2 && TT_SVC_IP == 7 &&
	TT_SVC_OVERFLOW < 16, "tt_watch_spans lists the kinds in order");

/**
 * A service key's bit in a watch bitmap of TT_WATCH_BITS bits: tcp/N is
 * bit N, udp/N 65536 + N, ip/N 2 * 65536 + 16 + N, any other kind
 * 2 * 65536 + its kind. Per packet: a table, where the switch on the
 * kind it replaced counted ~12 instructions a dark packet in callgrind's
 * profile of the flood at one sensor.
 */
static inline uint32_t
tt_classify_watch_bit(uint32_t svc)
{
	const struct tt_watch_span *w = &tt_watch_spans[TT_SVC_KIND(svc) & 0xf];

	return w->first + (TT_SVC_VALUE(svc) & w->value_mask);
}

/* tt_classify_class(), the fingerprint class of a packet: tt_classify_class.h, inline. */

/** Format a service key ("tcp/23"). @return bytes written, as snprintf. */
int tt_classify_service_format(uint32_t svc, char *buf, size_t len);

/** Parse "tcp/23", "udp/53", "icmp", "icmp6", "ip/47", "tcp", "udp". @return 0 or -EINVAL. */
int tt_classify_service_parse(const char *s, uint32_t *svc);


/** Pack "JP" into 0..675. @return the index, or -EINVAL if not two A-Z letters. */
int tt_classify_country_index(const char *cc);

/** Unpack an index into "JP" (buf of 3 bytes at least). */
void tt_classify_country_code(uint16_t index, char *buf);

/** True for an ISO 3166-1 alpha-2 code currently assigned (and ZZ is not one). */
bool tt_classify_country_is_assigned(const char *cc);

#endif /* TT_CLASSIFY_H */
