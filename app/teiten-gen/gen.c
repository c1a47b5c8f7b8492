/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * teiten-gen: writes a pcap of darknet traffic, deterministically from a
 * seed, and beside it the exact ground truth of what it wrote, in the shape
 * of teiten's --summary (so a test compares the two key by key).
 *
 * The truth comes from what each packet was built to be (its sensor, service
 * and fingerprint class), never from parsing it back: the generator shares no
 * code with teiten's parser or classifier. Every packet is built so that it
 * matches exactly one class of DESIGN.md section 4 (e.g. a non-Mirai scanner
 * never has seq == dst by chance).
 *
 * Offline tool: plain C, no DPDK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	MAX_SENSORS = 64,
	MAX_PREFIXES = 8,
	SVC_KINDS = 6,                 /* tcp, udp, bare tcp, bare udp, icmp, icmp6 */
	SVC_SLOTS = SVC_KINDS * 65536,
	FRAME_MAX = 256,
	ZMAP_IP_ID = 54321,
};

enum klass { C_OTHER, C_BACKSCATTER, C_MIRAI, C_MASSCAN, C_ZMAP, C_NMAP, C_UNICORN, C_COUNT };
static const char *const class_names[C_COUNT] = {
	"other", "backscatter", "mirai", "masscan", "zmap", "nmap", "unicorn",
};

/* What the scenario draws from, with its weight in a thousand. */
enum population {
	P_MIRAI, P_CONNECT_SCAN, P_MASSCAN, P_ZMAP, P_NMAP, P_UNICORN,
	P_BACKSCATTER, P_UDP_PROBE, P_ICMP_ECHO, P_IPV6_SCAN, P_NOT_DARK, P_NON_IP,
	P_MALFORMED, P_COUNT,
};
static const unsigned int default_weights[P_COUNT] = {
	[P_MIRAI] = 300, [P_CONNECT_SCAN] = 150, [P_MASSCAN] = 60, [P_ZMAP] = 60,
	[P_NMAP] = 50, [P_UNICORN] = 10, [P_BACKSCATTER] = 120, [P_UDP_PROBE] = 90,
	[P_ICMP_ECHO] = 40, [P_IPV6_SCAN] = 40, [P_NOT_DARK] = 40, [P_NON_IP] = 10,
	[P_MALFORMED] = 30,
};

struct prefix {
	int family;
	uint8_t addr[16];
	unsigned int len;
};

struct service_count {
	uint32_t index;                /* kind * 65536 + port */
	uint64_t pkts;
	uint64_t by_class[C_COUNT];
};

struct sensor {
	char name[33];
	struct prefix prefixes[MAX_PREFIXES];
	unsigned int n_prefixes;
	bool has_v4, has_v6;
	/* truth */
	uint64_t pkts, bytes, tcp, udp, icmp, other, v6, malformed;
	uint64_t by_class[C_COUNT];
	uint32_t *slot;                /* [service index] -> 1 + position in services */
	struct service_count *services;
	uint32_t n_services, cap_services;
};

struct truth {
	uint64_t packets, not_dark, malformed, non_ip;
};

/* One frame as built, with what it is. */
struct built {
	uint8_t b[FRAME_MAX];
	uint32_t len;
	int sensor;                    /* -1: not dark or not IP */
	bool non_ip;
	bool malformed;
	bool v6;
	enum klass klass;
	uint32_t service;              /* kind * 65536 + port */
	char kind[6];                  /* tcp udp icmp other, for totals */
};

static uint64_t rng_state;

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* --- frame writing --- */

static void
p8(struct built *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static void
p16(struct built *f, uint16_t v)
{
	p8(f, (uint8_t)(v >> 8));
	p8(f, (uint8_t)v);
}

static void
p32(struct built *f, uint32_t v)
{
	p16(f, (uint16_t)(v >> 16));
	p16(f, (uint16_t)v);
}

static void
pbytes(struct built *f, const uint8_t *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
ethernet(struct built *f, uint16_t type, bool vlan)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };

	f->len = 0;
	pbytes(f, macs, 12);
	if (vlan) {
		p16(f, 0x8100);
		p16(f, (uint16_t)(10 + rnd_below(100)));
	}
	p16(f, type);
}

static uint32_t
ipv4_header(struct built *f, uint16_t id, uint8_t ttl, uint8_t proto, uint32_t src,
		uint32_t dst)
{
	uint32_t start = f->len;

	p8(f, 0x45);
	p8(f, 0);
	p16(f, 0);                      /* total length, fixed at the end */
	p16(f, id);
	p16(f, 0x4000);                 /* DF */
	p8(f, ttl);
	p8(f, proto);
	p16(f, 0);
	p32(f, src);
	p32(f, dst);
	return start;
}

static void
ipv4_finish(struct built *f, uint32_t start)
{
	uint16_t total = (uint16_t)(f->len - start);
	uint32_t sum = 0, i;

	f->b[start + 2] = (uint8_t)(total >> 8);
	f->b[start + 3] = (uint8_t)total;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(f->b[start + i] << 8 | f->b[start + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f->b[start + 10] = (uint8_t)(~sum >> 8);
	f->b[start + 11] = (uint8_t)~sum;
}

static uint32_t
ipv6_header(struct built *f, uint8_t nh, uint8_t hops, const uint8_t *src,
		const uint8_t *dst)
{
	uint32_t start = f->len;

	p32(f, 0x60000000);
	p16(f, 0);
	p8(f, nh);
	p8(f, hops);
	pbytes(f, src, 16);
	pbytes(f, dst, 16);
	return start;
}

static void
ipv6_finish(struct built *f, uint32_t start)
{
	uint16_t payload = (uint16_t)(f->len - start - 40);

	f->b[start + 4] = (uint8_t)(payload >> 8);
	f->b[start + 5] = (uint8_t)payload;
}

static void
tcp_header(struct built *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t window, const uint8_t *opts, uint32_t optlen)
{
	p16(f, sport);
	p16(f, dport);
	p32(f, seq);
	p32(f, ack);
	p8(f, (uint8_t)((5 + optlen / 4) << 4));
	p8(f, flags);
	p16(f, window);
	p16(f, 0);
	p16(f, 0);
	if (optlen)
		pbytes(f, opts, optlen);
}

static void
pad_to_minimum(struct built *f)
{
	while (f->len < 60)
		p8(f, 0);
}

/* --- addresses --- */

static void
random_in_prefix(const struct prefix *p, uint8_t *out)
{
	unsigned int bytes = p->family == 4 ? 4 : 16, i;

	for (i = 0; i < bytes; i++) {
		uint8_t r = (uint8_t)rnd();
		unsigned int fixed = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = fixed >= 8 ? 0xff : (uint8_t)(0xff << (8 - fixed));

		out[i] = (uint8_t)((p->addr[i] & mask) | (r & ~mask));
	}
}

static bool
prefix_contains(const struct prefix *p, int family, const uint8_t *a)
{
	unsigned int i;

	if (p->family != family)
		return false;
	for (i = 0; i < p->len; i++)
		if ((p->addr[i / 8] ^ a[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static struct sensor sensors[MAX_SENSORS];
static unsigned int n_sensors;

static bool
is_dark(int family, const uint8_t *a)
{
	unsigned int s, k;

	for (s = 0; s < n_sensors; s++)
		for (k = 0; k < sensors[s].n_prefixes; k++)
			if (prefix_contains(&sensors[s].prefixes[k], family, a))
				return true;
	return false;
}

/* A sensor with a prefix of this family, and an address in it. */
static int
dark_destination(int family, uint8_t *out)
{
	unsigned int tries, s, k;

	for (tries = 0; tries < 64; tries++) {
		s = rnd_below(n_sensors);
		if ((family == 4 && !sensors[s].has_v4) || (family == 6 && !sensors[s].has_v6))
			continue;
		do {
			k = rnd_below(sensors[s].n_prefixes);
		} while (sensors[s].prefixes[k].family != family);
		random_in_prefix(&sensors[s].prefixes[k], out);
		return (int)s;
	}
	return -1;
}

/* A public-looking IPv4 source outside every darknet and outside 0/8, 10/8, 127/8. */
static uint32_t
random_source4(void)
{
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a };

		if (b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224)
			continue;
		if (!is_dark(4, b))
			return a;
	}
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * A TCP SYN that must not match any fingerprint it was not built for:
 * seq != dst (mirai), ip_id != (dst ^ dport ^ seq) & 0xffff (masscan),
 * ip_id != 54321 (zmap). Adjusts seq and id until that holds.
 */
static void
avoid_syn_fingerprints(uint32_t dst, uint16_t dport, uint32_t *seq, uint16_t *id,
		bool keep_id)
{
	for (;;) {
		bool masscan = *id == (uint16_t)((dst ^ dport ^ *seq) & 0xffff);

		if (*seq != dst && !masscan && (keep_id || *id != ZMAP_IP_ID))
			return;
		*seq = (uint32_t)rnd();
		if (!keep_id)
			*id = (uint16_t)rnd();
	}
}

/* A few bots and scanners that send many packets each, as on a real telescope. */
struct bot {
	uint32_t src;
	uint16_t sport;
	uint16_t window;
	uint8_t ttl;
};
static struct bot bots[256];

/* The service as teiten names it; a port above 65535 means "no port". */
/* An IP ID that is not ZMap's, for packets that must not look like ZMap. */
static uint16_t
non_zmap_id(void)
{
	uint16_t id = (uint16_t)rnd();

	return id == ZMAP_IP_ID ? id + 1 : id;
}

static void
set_service(struct built *f, const char *kind, unsigned int port)
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

static void
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

static void
build_syn4(struct built *f, const struct bot *b, uint32_t dst, uint16_t dport,
		uint32_t seq, uint16_t id, uint16_t window, const uint8_t *opts,
		uint32_t optlen, uint8_t ttl, bool vlan)
{
	uint32_t ip;

	ethernet(f, 0x0800, vlan);
	ip = ipv4_header(f, id, ttl, 6, b->src, dst);
	tcp_header(f, b->sport, dport, seq, 0, 0x02, window, opts, optlen);
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "tcp", dport);
}

static void
build(enum population pop, struct built *f)
{
	static const uint16_t telnet_ports[] = { 23, 23, 23, 22, 2323, 80, 8080 };
	static const uint16_t scan_ports[] = { 80, 443, 3389, 6379, 8080, 445, 5555, 8728 };
	static const uint16_t udp_ports[] = { 53, 123, 161, 5060 };
	static const uint8_t os_opts[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
	};
	static const uint8_t mss_1460[4] = { 2, 4, 0x05, 0xb4 };
	static const uint16_t nmap_windows[] = { 1024, 2048, 3072, 4096 };
	const struct bot *b = &bots[rnd_below(256)];
	bool vlan = rnd_below(10) == 0;
	uint8_t dst[16], src6[16];
	uint32_t d4, seq, ip;
	uint16_t id, dport;

	memset(f, 0, sizeof(*f));
	f->sensor = -1;
	f->klass = C_OTHER;
	switch (pop) {
	case P_MIRAI:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		/* 9 of 10 to 23/TCP, 1 to 2323/TCP; seq is the destination */
		dport = rnd_below(10) == 0 ? 2323 : 23;
		id = (uint16_t)rnd();
		build_syn4(f, b, d4, dport, d4, id, b->window, NULL, 0, b->ttl, vlan);
		f->klass = C_MIRAI;
		break;
	case P_CONNECT_SCAN:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = telnet_ports[rnd_below(7)];
		seq = (uint32_t)rnd();
		id = (uint16_t)rnd();
		avoid_syn_fingerprints(d4, dport, &seq, &id, false);
		build_syn4(f, b, d4, dport, seq, id, 29200, os_opts, 20, b->ttl, vlan);
		break;
	case P_MASSCAN:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = scan_ports[rnd_below(8)];
		do {
			seq = (uint32_t)rnd();
		} while (seq == d4);
		id = (uint16_t)((d4 ^ dport ^ seq) & 0xffff);
		build_syn4(f, b, d4, dport, seq, id, 1024, NULL, 0, 250, vlan);
		f->klass = C_MASSCAN;
		break;
	case P_ZMAP:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		f->klass = C_ZMAP;
		switch (rnd_below(3)) {
		case 0:
			dport = scan_ports[rnd_below(8)];
			seq = (uint32_t)rnd();
			id = ZMAP_IP_ID;
			avoid_syn_fingerprints(d4, dport, &seq, &id, true);
			build_syn4(f, b, d4, dport, seq, id, 65535, NULL, 0, 255, vlan);
			break;
		case 1:
			ethernet(f, 0x0800, vlan);
			ip = ipv4_header(f, ZMAP_IP_ID, 255, 17, b->src, d4);
			dport = udp_ports[rnd_below(4)];
			p16(f, b->sport);
			p16(f, dport);
			p16(f, 8 + 4);
			p16(f, 0);
			p32(f, (uint32_t)rnd());
			ipv4_finish(f, ip);
			pad_to_minimum(f);
			set_service(f, "udp", dport);
			break;
		default:
			ethernet(f, 0x0800, vlan);
			ip = ipv4_header(f, ZMAP_IP_ID, 255, 1, b->src, d4);
			p8(f, 8);
			p8(f, 0);
			p16(f, 0);
			p32(f, (uint32_t)rnd());
			ipv4_finish(f, ip);
			pad_to_minimum(f);
			set_service(f, "icmp", 0);
			break;
		}
		break;
	case P_NMAP:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = scan_ports[rnd_below(8)];
		seq = (uint32_t)rnd();
		id = (uint16_t)rnd();
		avoid_syn_fingerprints(d4, dport, &seq, &id, false);
		build_syn4(f, b, d4, dport, seq, id, nmap_windows[rnd_below(4)], mss_1460, 4,
			(uint8_t)(37 + rnd_below(23)), vlan);
		f->klass = C_NMAP;
		break;
	case P_UNICORN:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = scan_ports[rnd_below(8)];
		seq = (uint32_t)rnd();
		id = (uint16_t)rnd();
		avoid_syn_fingerprints(d4, dport, &seq, &id, false);
		build_syn4(f, b, d4, dport, seq, id, 4128, mss_1460, 4,
			(uint8_t)(200 + rnd_below(56)), vlan);
		f->klass = C_UNICORN;
		break;
	case P_BACKSCATTER:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		f->klass = C_BACKSCATTER;
		ethernet(f, 0x0800, vlan);
		if (rnd_below(5) == 0) {
			/* ICMP port unreachable quoting the spoofed packet */
			ip = ipv4_header(f, (uint16_t)rnd(), 60, 1, b->src, d4);
			p8(f, 3);
			p8(f, 3);
			p16(f, 0);
			p32(f, 0);
			ipv4_header(f, (uint16_t)rnd(), 50, 17, d4, b->src);
			f->b[f->len - 18] = 0;
			f->b[f->len - 17] = 28;      /* quoted total length */
			p16(f, (uint16_t)rnd());
			p16(f, 53);
			p16(f, 8);
			p16(f, 0);
			ipv4_finish(f, ip);
			set_service(f, "icmp", 0);
		} else {
			bool rst = rnd_below(4) == 0;

			dport = (uint16_t)(1024 + rnd_below(60000));
			ip = ipv4_header(f, (uint16_t)rnd(), 55, 6, b->src, d4);
			tcp_header(f, rnd_below(2) ? 80 : 443, dport, (uint32_t)rnd(),
				(uint32_t)rnd(), rst ? 0x14 : 0x12, rst ? 0 : 29200,
				rst ? NULL : mss_1460, rst ? 0 : 4);
			ipv4_finish(f, ip);
			pad_to_minimum(f);
			set_service(f, "tcp", dport);
		}
		break;
	case P_UDP_PROBE:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = udp_ports[rnd_below(4)];
		ethernet(f, 0x0800, vlan);
		ip = ipv4_header(f, non_zmap_id(), 50, 17, b->src, d4);
		p16(f, b->sport);
		p16(f, dport);
		p16(f, 8 + 16);
		p16(f, 0);
		p32(f, (uint32_t)rnd());
		p32(f, (uint32_t)rnd());
		p32(f, (uint32_t)rnd());
		p32(f, (uint32_t)rnd());
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		set_service(f, "udp", dport);
		break;
	case P_ICMP_ECHO:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		ethernet(f, 0x0800, vlan);
		ip = ipv4_header(f, non_zmap_id(), 50, 1, b->src, d4);
		p8(f, 8);
		p8(f, 0);
		p16(f, 0);
		p32(f, (uint32_t)rnd());
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		set_service(f, "icmp", 0);
		break;
	case P_IPV6_SCAN:
		f->sensor = dark_destination(6, dst);
		if (f->sensor < 0) {
			build(P_CONNECT_SCAN, f);
			return;
		}
		f->v6 = true;
		src6[0] = 0x24;
		src6[1] = 0x0e;
		for (ip = 2; ip < 16; ip++)
			src6[ip] = (uint8_t)rnd();
		ethernet(f, 0x86dd, vlan);
		ip = ipv6_header(f, 6, 57, src6, dst);
		dport = telnet_ports[rnd_below(7)];
		tcp_header(f, b->sport, dport, (uint32_t)rnd(), 0, 0x02, 28800, os_opts, 20);
		ipv6_finish(f, ip);
		set_service(f, "tcp", dport);
		break;
	case P_NOT_DARK:
		d4 = random_source4();
		ethernet(f, 0x0800, vlan);
		ip = ipv4_header(f, (uint16_t)rnd(), 50, 17, b->src, d4);
		p16(f, b->sport);
		p16(f, 53);
		p16(f, 8);
		p16(f, 0);
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		break;
	case P_NON_IP:
		ethernet(f, 0x0806, false);
		p32(f, 0x00010800);
		p32(f, 0x06040001);
		pad_to_minimum(f);
		f->non_ip = true;
		break;
	case P_MALFORMED:
		f->malformed = true;
		switch (rnd_below(4)) {
		case 0:         /* under 14 bytes: not attributable */
			ethernet(f, 0x0800, false);
			f->len = 12;
			f->non_ip = true;
			break;
		case 1:         /* TCP cut to 8 bytes: ports, no fingerprint */
			f->sensor = dark_destination(4, dst);
			d4 = be32(dst);
			ethernet(f, 0x0800, false);
			ip = ipv4_header(f, (uint16_t)rnd(), 50, 6, b->src, d4);
			p16(f, b->sport);
			p16(f, 23);
			p32(f, d4);
			ipv4_finish(f, ip);
			set_service(f, "tcp", 23);
			break;
		case 2:         /* IHL 4: protocol known, no port */
			f->sensor = dark_destination(4, dst);
			d4 = be32(dst);
			ethernet(f, 0x0800, false);
			ip = ipv4_header(f, (uint16_t)rnd(), 50, 17, b->src, d4);
			p16(f, 1);
			p16(f, 53);
			p16(f, 8);
			p16(f, 0);
			ipv4_finish(f, ip);
			f->b[ip] = 0x44;
			set_service(f, "udp", 70000);
			break;
		default:        /* Mirai with a data offset past the payload */
			f->sensor = dark_destination(4, dst);
			d4 = be32(dst);
			build_syn4(f, b, d4, 23, d4, (uint16_t)rnd(), b->window, NULL, 0,
				b->ttl, false);
			f->b[14 + 20 + 12] = 0x60;     /* data offset 24 bytes, 20 present */
			f->klass = C_MIRAI;
			break;
		}
		break;
	default:
		break;
	}
}

/*
 * Flood mode: 64-byte SYNs to 80/TCP, each from a source no other packet
 * has (a bijective mix of the packet index), the spoofed flood a telescope
 * sees during a DoS attack on someone else.
 */
static void
build_flood(uint64_t i, struct built *f)
{
	uint32_t src = (uint32_t)i, d4, seq, ip;
	uint8_t dst[16];
	uint16_t id;

	/* odd multiply and xor-shifts are invertible: distinct i, distinct src */
	src *= 0x9e3779b1u;
	src ^= src >> 15;
	src *= 0x85ebca6bu;
	src ^= src >> 13;
	memset(f, 0, sizeof(*f));
	f->sensor = dark_destination(4, dst);
	d4 = be32(dst);
	seq = (uint32_t)rnd();
	id = (uint16_t)rnd();
	avoid_syn_fingerprints(d4, 80, &seq, &id, false);
	ethernet(f, 0x0800, false);
	ip = ipv4_header(f, id, 64, 6, src, d4);
	tcp_header(f, (uint16_t)(1024 + (i % 60000)), 80, seq, 0, 0x02, 1024, NULL, 0);
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "tcp", 80);
}

/* --- truth --- */

static struct service_count *
service_of(struct sensor *s, uint32_t index)
{
	struct service_count *sc;

	if (s->slot == NULL) {
		s->slot = calloc(SVC_SLOTS, sizeof(*s->slot));
		if (s->slot == NULL)
			return NULL;
	}
	if (s->slot[index] != 0)
		return &s->services[s->slot[index] - 1];
	if (s->n_services == s->cap_services) {
		uint32_t cap = s->cap_services ? s->cap_services * 2 : 256;

		sc = realloc(s->services, cap * sizeof(*sc));
		if (sc == NULL)
			return NULL;
		s->services = sc;
		s->cap_services = cap;
	}
	sc = &s->services[s->n_services++];
	memset(sc, 0, sizeof(*sc));
	sc->index = index;
	s->slot[index] = s->n_services;
	return sc;
}

static int
account(struct truth *t, const struct built *f)
{
	struct sensor *s;
	struct service_count *sc;

	t->packets++;
	t->malformed += f->malformed;
	if (f->non_ip) {
		t->non_ip += !f->malformed;
		return 0;
	}
	if (f->sensor < 0) {
		t->not_dark++;
		return 0;
	}
	s = &sensors[f->sensor];
	s->pkts++;
	s->bytes += f->len;
	s->v6 += f->v6;
	s->malformed += f->malformed;
	s->by_class[f->klass]++;
	if (strcmp(f->kind, "tcp") == 0)
		s->tcp++;
	else if (strcmp(f->kind, "udp") == 0)
		s->udp++;
	else if (strcmp(f->kind, "icmp") == 0)
		s->icmp++;
	else
		s->other++;
	sc = service_of(s, f->service);
	if (sc == NULL)
		return -ENOMEM;
	sc->pkts++;
	sc->by_class[f->klass]++;
	return 0;
}

static void
json_scope(FILE *out, const struct sensor *s, bool last)
{
	char name[16];
	unsigned int c, i;
	bool first;

	fprintf(out, "    \"%s\": {\n      \"totals\": {\"pkts\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"tcp\": %" PRIu64 ", \"udp\": %" PRIu64 ", \"icmp\": %" PRIu64
		", \"other\": %" PRIu64 ", \"v6\": %" PRIu64 ", \"malformed\": %" PRIu64,
		s->name, s->pkts, s->bytes, s->tcp, s->udp, s->icmp, s->other, s->v6, s->malformed);
	for (c = C_BACKSCATTER; c < C_COUNT; c++)
		fprintf(out, ", \"%s\": %" PRIu64, class_names[c], s->by_class[c]);
	fprintf(out, "},\n      \"port\": {");
	for (i = 0; i < s->n_services; i++) {
		service_name(s->services[i].index, name, sizeof(name));
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "", name, s->services[i].pkts);
	}
	fprintf(out, "}");
	for (c = C_BACKSCATTER; c < C_COUNT; c++) {
		fprintf(out, ",\n      \"port:%s\": {", class_names[c]);
		first = true;
		for (i = 0; i < s->n_services; i++) {
			if (s->services[i].by_class[c] == 0)
				continue;
			service_name(s->services[i].index, name, sizeof(name));
			fprintf(out, "%s\"%s\": %" PRIu64, first ? "" : ", ", name,
				s->services[i].by_class[c]);
			first = false;
		}
		fprintf(out, "}");
	}
	fprintf(out, "\n    }%s\n", last ? "" : ",");
}

static int
merge_all(struct sensor *all)
{
	unsigned int s, i, c;

	memset(all, 0, sizeof(*all));
	snprintf(all->name, sizeof(all->name), "all");
	for (s = 0; s < n_sensors; s++) {
		const struct sensor *x = &sensors[s];

		all->pkts += x->pkts;
		all->bytes += x->bytes;
		all->tcp += x->tcp;
		all->udp += x->udp;
		all->icmp += x->icmp;
		all->other += x->other;
		all->v6 += x->v6;
		all->malformed += x->malformed;
		for (c = 0; c < C_COUNT; c++)
			all->by_class[c] += x->by_class[c];
		for (i = 0; i < x->n_services; i++) {
			struct service_count *sc = service_of(all, x->services[i].index);

			if (sc == NULL)
				return -ENOMEM;
			sc->pkts += x->services[i].pkts;
			for (c = 0; c < C_COUNT; c++)
				sc->by_class[c] += x->services[i].by_class[c];
		}
	}
	return 0;
}

/* --- pcap --- */

static int
pcap_header(FILE *f)
{
	const uint32_t h[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };

	return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -EIO;
}

static int
pcap_record(FILE *f, uint64_t usec, const struct built *b)
{
	uint32_t h[4] = {
		(uint32_t)(usec / 1000000), (uint32_t)(usec % 1000000), b->len, b->len,
	};

	if (fwrite(h, sizeof(h), 1, f) != 1 || fwrite(b->b, b->len, 1, f) != 1)
		return -EIO;
	return 0;
}

/* --- command line --- */

static int
parse_prefix(const char *s, struct prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	p->family = strchr(buf, ':') ? 6 : 4;
	if (inet_pton(p->family == 4 ? AF_INET : AF_INET6, buf, p->addr) != 1)
		return -EINVAL;
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || len > (p->family == 4 ? 32u : 128u) || len < (p->family == 4 ? 8u : 16u))
		return -EINVAL;
	p->len = (unsigned int)len;
	return 0;
}

/* NAME=PREFIX[+PREFIX...] */
static int
parse_sensor(const char *arg)
{
	struct sensor *s = &sensors[n_sensors];
	const char *eq = strchr(arg, '=');
	char list[512], *tok, *save = NULL;

	if (n_sensors == MAX_SENSORS || eq == NULL || eq == arg || eq - arg > 32)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->name, arg, (size_t)(eq - arg));
	snprintf(list, sizeof(list), "%s", eq + 1);
	for (tok = strtok_r(list, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		if (s->n_prefixes == MAX_PREFIXES || parse_prefix(tok, &s->prefixes[s->n_prefixes]))
			return -EINVAL;
		s->has_v4 |= s->prefixes[s->n_prefixes].family == 4;
		s->has_v6 |= s->prefixes[s->n_prefixes].family == 6;
		s->n_prefixes++;
	}
	if (s->n_prefixes == 0 || !s->has_v4)
		return -EINVAL;
	n_sensors++;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: teiten-gen --sensor NAME=PREFIX[+PREFIX...] [--sensor ...]\n"
		"                  --out FILE.pcap --truth FILE.json [--config FILE.conf]\n"
		"                  [--packets N] [--seed N] [--start UNIXTIME] [--span SECONDS]\n"
		"                  [--flood]\n"
		"Writes N frames of darknet traffic (Mirai bots, scanners, backscatter,\n"
		"UDP probes, IPv6, not-dark, non-IP and malformed frames) towards the\n"
		"sensors' prefixes, and the exact truth of what was written. Each sensor\n"
		"needs an IPv4 prefix of at least /8; --config writes a matching teiten\n"
		"config (every sensor on port 0). --flood: only 64-byte SYNs to 80/TCP,\n"
		"each from a source of its own (a spoofed flood).\n");
}

static int
write_config(const char *path, const char *id)
{
	FILE *f = fopen(path, "w");
	unsigned int s, k;

	if (f == NULL)
		return -errno;
	fprintf(f, "; written by teiten-gen for the capture it generated\n"
		"[appliance]\nid = %s\nhome_country = JP\nclock = auto\n", id);
	for (s = 0; s < n_sensors; s++) {
		fprintf(f, "\n[sensor %s]\nport = 0\n", sensors[s].name);
		for (k = 0; k < sensors[s].n_prefixes; k++) {
			char a[INET6_ADDRSTRLEN];
			const struct prefix *p = &sensors[s].prefixes[k];

			inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
			fprintf(f, "prefixes = %s/%u\n", a, p->len);
		}
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sensor", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "truth", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "packets", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 'b' },
		{ "span", required_argument, NULL, 'd' },
		{ "flood", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *truth_path = NULL, *config_path = NULL;
	uint64_t packets = 10000, seed = 1, start = 1704067200, span = 3600, i;
	bool flood = false;
	unsigned int weight_total = 0, p, s;
	struct truth truth = { 0 };
	struct sensor all;
	struct built f;
	FILE *pcap, *tj;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_sensor(optarg) != 0) {
				fprintf(stderr, "teiten-gen: --sensor %s: expected NAME=PREFIX[+PREFIX] "
					"with an IPv4 prefix of /8 or longer\n", optarg);
				return 2;
			}
			break;
		case 'o': out_path = optarg; break;
		case 't': truth_path = optarg; break;
		case 'c': config_path = optarg; break;
		case 'p': packets = strtoull(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'b': start = strtoull(optarg, NULL, 10); break;
		case 'd': span = strtoull(optarg, NULL, 10); break;
		case 'f': flood = true; break;
		default:
			usage();
			return 2;
		}
	}
	if (n_sensors == 0 || out_path == NULL || truth_path == NULL || packets == 0 ||
			span == 0) {
		usage();
		return 2;
	}
	rng_state = seed;
	for (s = 0; s < 256; s++) {
		bots[s].src = random_source4();
		bots[s].sport = (uint16_t)(1024 + rnd_below(60000));
		bots[s].window = (uint16_t)(5000 + rnd_below(60000));
		bots[s].ttl = (uint8_t)(30 + rnd_below(35));
	}
	for (p = 0; p < P_COUNT; p++)
		weight_total += default_weights[p];

	pcap = fopen(out_path, "wb");
	if (pcap == NULL || pcap_header(pcap) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	for (i = 0; i < packets; i++) {
		uint32_t r = rnd_below(weight_total);
		uint64_t usec = start * 1000000 + i * (span * 1000000 / packets);

		for (p = 0; r >= default_weights[p]; p++)
			r -= default_weights[p];
		if (flood)
			build_flood(i, &f);
		else
			build((enum population)p, &f);
		if (pcap_record(pcap, usec, &f) != 0 || account(&truth, &f) != 0) {
			fprintf(stderr, "teiten-gen: %s: write failed\n", out_path);
			return 1;
		}
	}
	if (fclose(pcap) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", out_path, strerror(errno));
		return 1;
	}

	tj = fopen(truth_path, "w");
	if (tj == NULL) {
		fprintf(stderr, "teiten-gen: %s: %s\n", truth_path, strerror(errno));
		return 1;
	}
	fprintf(tj, "{\n  \"generator\": {\"seed\": %" PRIu64 ", \"packets\": %" PRIu64
		", \"start\": %" PRIu64 ", \"span\": %" PRIu64 "},\n"
		"  \"packets\": %" PRIu64 ", \"not_dark\": %" PRIu64 ", \"malformed\": %" PRIu64
		", \"non_ip\": %" PRIu64 ",\n  \"scopes\": {\n", seed, packets, start, span,
		truth.packets, truth.not_dark, truth.malformed, truth.non_ip);
	if (merge_all(&all) != 0) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	json_scope(tj, &all, n_sensors == 0);
	for (s = 0; s < n_sensors; s++)
		json_scope(tj, &sensors[s], s + 1 == n_sensors);
	fprintf(tj, "  }\n}\n");
	if (fclose(tj) != 0)
		return 1;
	if (config_path != NULL && write_config(config_path, "gen-1") != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", config_path, strerror(errno));
		return 1;
	}
	return 0;
}
