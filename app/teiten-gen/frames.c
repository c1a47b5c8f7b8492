/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames: the bytes on the wire (Ethernet, IPv4, IPv6, TCP, UDP, ICMP) and the
 * pcap file they are written to. Builds into a caller's struct frame and
 * notes there what it built (the outer source, the service); which sensor
 * and class a frame is for is the caller's to say. The only state it
 * touches besides the frame is the rng it is handed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

const uint8_t mss_1460[4] = { 2, 4, 0x05, 0xb4 };

void
put8(struct frame *f, uint8_t v)
{
	f->bytes[f->len++] = v;
}

void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
put_bytes(struct frame *f, const uint8_t *p, uint32_t n)
{
	memcpy(f->bytes + f->len, p, n);
	f->len += n;
}

void
ethernet(struct frame *f, struct rng *rng, uint16_t type, bool vlan)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };

	f->len = 0;
	put_bytes(f, macs, 12);
	if (vlan) {
		put16(f, 0x8100);
		put16(f, (uint16_t)(10 + rng_below(rng, 100)));
	}
	put16(f, type);
}

uint32_t
ipv4_header(struct frame *f, uint16_t id, uint8_t ttl, uint8_t proto, uint32_t src,
		uint32_t dst)
{
	uint32_t start = f->len;

	if (f->src_family == 0) {       /* the outer header, not a quoted one */
		f->src_family = 4;
		f->src[0] = (uint8_t)(src >> 24);
		f->src[1] = (uint8_t)(src >> 16);
		f->src[2] = (uint8_t)(src >> 8);
		f->src[3] = (uint8_t)src;
	}
	put8(f, 0x45);
	put8(f, 0);
	put16(f, 0);                    /* total length, fixed at the end */
	put16(f, id);
	put16(f, 0x4000);               /* DF */
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	return start;
}

void
ipv4_finish(struct frame *f, uint32_t start)
{
	uint16_t total = (uint16_t)(f->len - start);
	uint32_t sum = 0, i;

	f->bytes[start + 2] = (uint8_t)(total >> 8);
	f->bytes[start + 3] = (uint8_t)total;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(f->bytes[start + i] << 8 | f->bytes[start + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f->bytes[start + 10] = (uint8_t)(~sum >> 8);
	f->bytes[start + 11] = (uint8_t)~sum;
}

uint32_t
ipv6_header(struct frame *f, uint8_t nh, uint8_t hops, const uint8_t *src,
		const uint8_t *dst)
{
	uint32_t start = f->len;

	if (f->src_family == 0) {
		f->src_family = 6;
		memcpy(f->src, src, 16);
	}
	put32(f, 0x60000000);
	put16(f, 0);
	put8(f, nh);
	put8(f, hops);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	return start;
}

void
ipv6_finish(struct frame *f, uint32_t start)
{
	uint16_t payload = (uint16_t)(f->len - start - 40);

	f->bytes[start + 4] = (uint8_t)(payload >> 8);
	f->bytes[start + 5] = (uint8_t)payload;
}

void
tcp_header(struct frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t window, const uint8_t *opts, uint32_t optlen)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, ack);
	put8(f, (uint8_t)((5 + optlen / 4) << 4));
	put8(f, flags);
	put16(f, window);
	put16(f, 0);
	put16(f, 0);
	if (optlen)
		put_bytes(f, opts, optlen);
}

void
pad_to_minimum(struct frame *f)
{
	while (f->len < 60)
		put8(f, 0);
}

void
set_service(struct frame *f, const char *kind, unsigned int port)
{
	bool tcp = strcmp(kind, "tcp") == 0;

	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	if (strcmp(kind, "icmp") == 0)
		f->service = (f->v6 ? 5u : 4u) * 65536;
	else if (port > 65535)
		f->service = (tcp ? 2u : 3u) * 65536;
	else
		f->service = (tcp ? 0u : 1u) * 65536 + port;
}

void
service_name(uint32_t index, char *buf, size_t len)
{
	static const char *const kinds[SVC_KINDS] = {
		"tcp/", "udp/", "tcp", "udp", "icmp", "icmp6",
	};
	uint32_t kind = index / 65536;

	if (kind < 2)
		snprintf(buf, len, "%s%u", kinds[kind], index % 65536);
	else
		snprintf(buf, len, "%s", kinds[kind]);
}

/* An IP ID that is not ZMap's, for packets that must not look like ZMap. */
uint16_t
non_zmap_id(struct rng *rng)
{
	uint16_t id = (uint16_t)rng_next(rng);

	return id == ZMAP_IP_ID ? id + 1 : id;
}

/*
 * A TCP SYN that must not match any fingerprint it was not built for:
 * seq != dst (mirai), ip_id != (dst ^ dport ^ seq) & 0xffff (masscan),
 * ip_id != 54321 (zmap). Adjusts seq and id until that holds.
 */
void
avoid_syn_fingerprints(struct rng *rng, uint32_t dst, uint16_t dport, uint32_t *seq,
		uint16_t *id, bool keep_id)
{
	for (;;) {
		bool masscan = *id == (uint16_t)((dst ^ dport ^ *seq) & 0xffff);

		if (*seq != dst && !masscan && (keep_id || *id != ZMAP_IP_ID))
			return;
		*seq = (uint32_t)rng_next(rng);
		if (!keep_id)
			*id = (uint16_t)rng_next(rng);
	}
}

/* An IPv4 TCP SYN from a bot, exactly as given. */
void
build_syn4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, uint32_t seq, uint16_t id, uint16_t window, const uint8_t *opts,
		uint32_t optlen, uint8_t ttl, bool vlan)
{
	uint32_t ip;

	ethernet(f, rng, 0x0800, vlan);
	ip = ipv4_header(f, id, ttl, 6, b->src, dst);
	tcp_header(f, b->sport, dport, seq, 0, 0x02, window, opts, optlen);
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "tcp", dport);
}

/* A UDP probe from a bot: @p words random 32-bit words of payload. */
void
build_udp4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, unsigned int words, bool vlan)
{
	uint32_t ip;

	ethernet(f, rng, 0x0800, vlan);
	ip = ipv4_header(f, non_zmap_id(rng), 50, 17, b->src, dst);
	put16(f, b->sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + 4 * words));
	put16(f, 0);
	while (words-- > 0)
		put32(f, (uint32_t)rng_next(rng));
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "udp", dport);
}

/* A connect()-style SYN that matches no scanner fingerprint. */
void
build_plain_syn4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, const uint8_t *opts, uint32_t optlen, bool vlan)
{
	uint32_t seq = (uint32_t)rng_next(rng);
	uint16_t id = (uint16_t)rng_next(rng);

	avoid_syn_fingerprints(rng, dst, dport, &seq, &id, false);
	build_syn4(f, rng, b, dst, dport, seq, id, 29200, opts, optlen, b->ttl, vlan);
}

/* The classic pcap header: microseconds, snap length 65535, Ethernet. */
int
pcap_header(FILE *out)
{
	const uint32_t h[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };

	return fwrite(h, sizeof(h), 1, out) == 1 ? 0 : -EIO;
}

int
pcap_record(FILE *out, uint64_t usec, const struct frame *f)
{
	uint32_t h[4] = {
		(uint32_t)(usec / 1000000), (uint32_t)(usec % 1000000), f->len, f->len,
	};

	if (fwrite(h, sizeof(h), 1, out) != 1 || fwrite(f->bytes, f->len, 1, out) != 1)
		return -EIO;
	return 0;
}
