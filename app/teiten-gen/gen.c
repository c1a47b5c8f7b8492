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
 * Sources: a population of bots and scanners (--sources), drawn with a
 * country database (--geoip) from real allocations, a share of them at home
 * (--home, --home-share). Countries in the truth come from libmaxminddb's
 * own lookup of each packet's source, not from teiten's tables.
 *
 * Events on the timeline (offsets from --start): --surge puts a share of the
 * packets on one service at one sensor (or all), --ramp grows one country's
 * share over the span, --mirai-port adds a Mirai-type port from a moment on,
 * --dos has hosts under attack send backscatter for a while,
 * --home-mirai-surge has extra home-country Mirai-type bots probe for a
 * while. The truth's DoS victims apply DESIGN.md's rule (>= 25 packets,
 * >= 60 s, >= 30 a minute) to every backscatter sender, the attacked ones and
 * the others. The truth's "events" list each injected event as the alert it
 * should raise (kind, scope, subject, breadth) with its start and end, so a
 * test holds teiten's alerts against them.
 * With --day-truth, "days" has per UTC day and sensor the day buckets'
 * service and country rankings, for the tables and daily series of a
 * report, and "day_sources" the day's distinct sources over every sensor.
 *
 * Offline tool: plain C and libmaxminddb, no DPDK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <maxminddb.h>

enum {
	MAX_SENSORS = 64,
	MAX_SURGES = 8,
	MAX_ATTACKS = 8,
	VICTIM_MIN_PKTS = 25,          /* DESIGN.md section 7, dos_victim */
	VICTIM_MIN_SECONDS = 60,
	VICTIM_MIN_PER_MINUTE = 30,
	COUNTRIES = 26 * 26,           /* AA..ZZ; ZZ is "unknown" */
	COUNTRY_ZZ = COUNTRIES - 1,
	RAMP_BOTS = 32,
	HOME_SURGE_BOTS = 2048,        /* --home-mirai-surge: extra home Mirai-type bots */
	SOURCE_TRIES = 1000000,        /* random addresses tried for one country */
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

/* Distinct sources of a scope: open addressing on the address. */
struct source_entry {
	uint8_t addr[16];
	uint8_t family;                /* 0: empty */
	bool home;
	bool mirai;                    /* sent a Mirai-type packet */
	/* backscatter sent, for the victims truth (the "all" set only) */
	bool victim;
	uint32_t bs_first, bs_last, bs_pkts;
	uint32_t victim_day;           /* UTC day of its latest victims record */
	uint64_t victim_rec;           /* that record, + 1; 0: none */
};

/* A victim's packets on one UTC day, as the day's victims set scores them. */
struct victim_rec {
	uint8_t addr[16];
	uint8_t family;
	uint32_t day;
	uint64_t pkts;
};

struct source_set {
	struct source_entry *e;
	uint64_t mask;
	uint64_t used;
};

/* One hour of one scope, for the per-bucket truth. */
struct hour_truth {
	uint64_t pkts, home, home_mirai;
	uint64_t by_class[C_COUNT];
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
	uint64_t home, home_mirai;
	uint64_t *country_pkts;        /* [COUNTRIES] */
	uint64_t *country_mirai;
	struct source_set *srcs;       /* distinct sources */
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
	uint8_t src[16];               /* the outer IP header's source */
	uint8_t src_family;            /* 0: none (not IP) */
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

	if (f->src_family == 0) {       /* the outer header, not a quoted one */
		f->src_family = 4;
		f->src[0] = (uint8_t)(src >> 24);
		f->src[1] = (uint8_t)(src >> 16);
		f->src[2] = (uint8_t)(src >> 8);
		f->src[3] = (uint8_t)src;
	}
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

	if (f->src_family == 0) {
		f->src_family = 6;
		memcpy(f->src, src, 16);
	}
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
static const uint8_t mss_1460[4] = { 2, 4, 0x05, 0xb4 };   /* TCP option MSS 1460 */

static struct bot *bots;           /* --sources of them */
static uint32_t n_bots = 256;
static struct bot ramp_bots[RAMP_BOTS];

/* --- countries (libmaxminddb) --- */

static MMDB_s geo;
static bool have_geo;
static char home_cc[3] = "JP";
static uint32_t home_share = 0;    /* permille of the bots at home (with --geoip) */

static int
country_index(const char *cc)
{
	if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

/* The source's country as the database has it; ZZ without one. */
static int
country_of(int family, const uint8_t *addr)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	char cc[3];
	int err;

	if (!have_geo || family == 0)
		return COUNTRY_ZZ;
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, addr, 16);
	}
	r = MMDB_lookup_sockaddr(&geo, (struct sockaddr *)&ss, &err);
	if (err != MMDB_SUCCESS || !r.found_entry)
		return COUNTRY_ZZ;
	if ((MMDB_get_value(&r.entry, &d, "country_code", NULL) != MMDB_SUCCESS ||
			!d.has_data) &&
			(MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS ||
			!d.has_data))
		return COUNTRY_ZZ;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return COUNTRY_ZZ;
	cc[0] = (char)(d.utf8_string[0] & ~0x20);
	cc[1] = (char)(d.utf8_string[1] & ~0x20);
	cc[2] = '\0';
	err = country_index(cc);
	return err < 0 ? COUNTRY_ZZ : err;
}

/*
 * A source in country @p want (>= 0), or anywhere known but home (-1), by
 * drawing addresses until the database agrees: real allocations, so the
 * countries and their address blocks look as on a real telescope.
 * @return 0, or -ENOENT when the database seems to have no such address.
 */
static int
source_in(int want, uint32_t *out)
{
	int home = country_index(home_cc);
	uint32_t tries;

	for (tries = 0; tries < SOURCE_TRIES; tries++) {
		uint32_t a = random_source4();
		uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
			(uint8_t)a };
		int c = country_of(4, b);

		if (want >= 0 ? c == want : c != home && c != COUNTRY_ZZ) {
			*out = a;
			return 0;
		}
	}
	return -ENOENT;
}

static int
init_bot(struct bot *b, int want)
{
	if (have_geo) {
		if (source_in(want, &b->src) != 0)
			return -ENOENT;
	} else {
		b->src = random_source4();
	}
	b->sport = (uint16_t)(1024 + rnd_below(60000));
	b->window = (uint16_t)(5000 + rnd_below(60000));
	b->ttl = (uint8_t)(30 + rnd_below(35));
	return 0;
}

/* --- events --- */

/* When an event lasts, and its share of the packets meanwhile. */
struct window {
	uint64_t from, to;             /* seconds after --start */
	uint32_t permille;
};

struct surge {
	int sensor;                    /* -1: every sensor */
	bool udp;
	uint16_t port;
	struct window when;
};
static struct surge surges[MAX_SURGES];
static unsigned int n_surges;

/* --dos: hosts under attack, whose replies to spoofed traffic reach the darknet */
struct attack {
	struct bot *victims;
	uint32_t n_victims;
	struct window when;
};
static struct attack attacks[MAX_ATTACKS];
static unsigned int n_attacks;

struct ramp {
	int country;                   /* -1: none */
	uint32_t from, to;             /* permille of the packets, start and end */
};
static struct ramp ramp = { .country = -1 };
static uint32_t ramp_now;          /* permille for the packet being built */

/* --home-mirai-surge: home-country Mirai-type bots join for a while */
static struct window home_surge;
static bool home_surge_set;
static struct bot *home_bots;

static int mirai_new_port = -1;    /* --mirai-port: port, or -1 */
static uint64_t mirai_new_from;
static bool mirai_new_now;         /* in effect for the packet being built */

/* The bot of the next packet: a ramping country's, while it ramps. */
static const struct bot *
pick_bot(void)
{
	if (ramp.country >= 0 && rnd_below(1000) < ramp_now)
		return &ramp_bots[rnd_below(RAMP_BOTS)];
	return &bots[rnd_below(n_bots)];
}

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

/* A UDP probe from a bot: @p words random 32-bit words of payload. */
static void
build_udp4(struct built *f, const struct bot *b, uint32_t dst, uint16_t dport,
		unsigned int words, bool vlan)
{
	uint32_t ip;

	ethernet(f, 0x0800, vlan);
	ip = ipv4_header(f, non_zmap_id(), 50, 17, b->src, dst);
	p16(f, b->sport);
	p16(f, dport);
	p16(f, (uint16_t)(8 + 4 * words));
	p16(f, 0);
	while (words-- > 0)
		p32(f, (uint32_t)rnd());
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "udp", dport);
}

/* A connect()-style SYN that matches no scanner fingerprint. */
static void
build_plain_syn4(struct built *f, const struct bot *b, uint32_t dst, uint16_t dport,
		const uint8_t *opts, uint32_t optlen, bool vlan)
{
	uint32_t seq = (uint32_t)rnd();
	uint16_t id = (uint16_t)rnd();

	avoid_syn_fingerprints(dst, dport, &seq, &id, false);
	build_syn4(f, b, dst, dport, seq, id, 29200, opts, optlen, b->ttl, vlan);
}

/*
 * Backscatter from @p b: a SYN-ACK or RST from a web port, or an ICMP port
 * unreachable quoting the spoofed packet.
 */
static void
build_backscatter(struct built *f, const struct bot *b, bool vlan)
{
	uint8_t dst[16];
	uint32_t d4, ip;
	uint16_t dport;

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
	static const uint16_t nmap_windows[] = { 1024, 2048, 3072, 4096 };
	const struct bot *b = pick_bot();
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
		if (mirai_new_now && rnd_below(5) == 0)
			dport = (uint16_t)mirai_new_port;
		id = (uint16_t)rnd();
		build_syn4(f, b, d4, dport, d4, id, b->window, NULL, 0, b->ttl, vlan);
		f->klass = C_MIRAI;
		break;
	case P_CONNECT_SCAN:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = telnet_ports[rnd_below(7)];
		build_plain_syn4(f, b, d4, dport, os_opts, 20, vlan);
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
		build_backscatter(f, b, vlan);
		break;
	case P_UDP_PROBE:
		f->sensor = dark_destination(4, dst);
		d4 = be32(dst);
		dport = udp_ports[rnd_below(4)];
		build_udp4(f, b, d4, dport, 4, vlan);
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
static bool flood_mirai;           /* --flood-mirai: the flood's SYNs are Mirai-type */
static double diurnal;             /* --diurnal: the day's swing of the packet rate, 0..0.9 */

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
	if (flood_mirai) {
		seq = d4;
		f->klass = C_MIRAI;
	} else {
		avoid_syn_fingerprints(d4, 80, &seq, &id, false);
	}
	ethernet(f, 0x0800, false);
	ip = ipv4_header(f, id, 64, 6, src, d4);
	tcp_header(f, (uint16_t)(1024 + (i % 60000)), flood_mirai ? 23 : 80, seq, 0, 0x02, 1024,
		NULL, 0);
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "tcp", flood_mirai ? 23 : 80);
}

/* An address in one of sensor @p s's IPv4 prefixes. */
static void
destination_in(int s, uint8_t *out)
{
	unsigned int k;

	do {
		k = rnd_below(sensors[s].n_prefixes);
	} while (sensors[s].prefixes[k].family != 4);
	random_in_prefix(&sensors[s].prefixes[k], out);
}

/* A surge packet: a plain SYN or UDP probe to the surging service. */
static void
build_surge(const struct surge *e, struct built *f)
{
	const struct bot *b = pick_bot();
	uint8_t dst[16];
	uint32_t d4;

	memset(f, 0, sizeof(*f));
	f->klass = C_OTHER;
	if (e->sensor >= 0) {
		f->sensor = e->sensor;
		destination_in(e->sensor, dst);
	} else {
		f->sensor = dark_destination(4, dst);
	}
	d4 = be32(dst);
	if (e->udp)
		build_udp4(f, b, d4, e->port, 1, false);
	else
		build_plain_syn4(f, b, d4, e->port, NULL, 0, false);
}

/* A Mirai-type SYN from one of the home bots of --home-mirai-surge. */
static void
build_home_mirai(struct built *f)
{
	const struct bot *b = &home_bots[rnd_below(HOME_SURGE_BOTS)];
	bool vlan = rnd_below(10) == 0;
	uint8_t dst[16];
	uint32_t d4;
	uint16_t dport;

	memset(f, 0, sizeof(*f));
	f->sensor = dark_destination(4, dst);
	d4 = be32(dst);
	dport = rnd_below(10) == 0 ? 2323 : 23;
	build_syn4(f, b, d4, dport, d4, (uint16_t)rnd(), b->window, NULL, 0, b->ttl, vlan);
	f->klass = C_MIRAI;
}

/* A packet of an attack: backscatter from one of its victims. */
static void
build_attack(const struct attack *a, struct built *f)
{
	const struct bot *b = &a->victims[rnd_below(a->n_victims)];
	bool vlan = rnd_below(10) == 0;

	memset(f, 0, sizeof(*f));
	build_backscatter(f, b, vlan);
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

static uint64_t
source_hash(const uint8_t *addr, uint8_t family)
{
	uint64_t a, b, h;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ family;
	return h ^ (h >> 29);
}

/* The source's entry in @p e (mask @p mask): its own, or the empty one it would take. */
static struct source_entry *
source_slot(struct source_entry *e, uint64_t mask, const uint8_t *addr, uint8_t family)
{
	uint64_t i = source_hash(addr, family) & mask;

	while (e[i].family != 0 && !(e[i].family == family && memcmp(e[i].addr, addr, 16) == 0))
		i = (i + 1) & mask;
	return &e[i];
}

/* Note a source in a scope's set, growing it at half full. @return 0 or -ENOMEM. */
static int
source_note(struct source_set **setp, const uint8_t *addr, uint8_t family, bool home,
		bool mirai)
{
	struct source_set *set = *setp;
	struct source_entry *e;

	if (set == NULL) {
		set = calloc(1, sizeof(*set));
		if (set == NULL)
			return -ENOMEM;
		set->mask = 1023;
		set->e = calloc(set->mask + 1, sizeof(*set->e));
		if (set->e == NULL)
			return -ENOMEM;
		*setp = set;
	}
	if (set->used * 2 >= set->mask) {
		struct source_set bigger = { .mask = set->mask * 2 + 1 };
		uint64_t k;

		bigger.e = calloc(bigger.mask + 1, sizeof(*bigger.e));
		if (bigger.e == NULL)
			return -ENOMEM;
		for (k = 0; k <= set->mask; k++)
			if (set->e[k].family != 0)
				*source_slot(bigger.e, bigger.mask, set->e[k].addr,
					set->e[k].family) = set->e[k];
		bigger.used = set->used;
		free(set->e);
		*set = bigger;
	}
	e = source_slot(set->e, set->mask, addr, family);
	if (e->family == 0) {
		memcpy(e->addr, addr, 16);
		e->family = family;
		e->home = home;
		set->used++;
	}
	e->mirai |= mirai;
	return 0;
}

static struct hour_truth *hours;       /* [hour * (n_sensors + 1) + scope], scope 0 = all */
static uint64_t n_hours, first_hour;   /* first_hour: UTC seconds of the first bucket */

static void
hour_add(uint64_t sec, unsigned int scope, const struct built *f, bool home)
{
	uint64_t h = (sec - first_hour) / 3600;
	struct hour_truth *ht;

	if (hours == NULL || h >= n_hours)
		return;
	ht = &hours[h * (n_sensors + 1) + scope];
	ht->pkts++;
	ht->home += home;
	ht->home_mirai += home && f->klass == C_MIRAI;
	ht->by_class[f->klass]++;
}

static struct source_set *all_srcs;
static struct victim_rec *victim_recs;  /* in time order, so by day */
static uint64_t n_victim_recs, cap_victim_recs;

/*
 * A backscatter packet from a source: DESIGN.md's DoS rule, applied as the
 * packets arrive. Once a sender qualifies, all its backscatter so far counts
 * on that day, and each later packet on its own day.
 */
static int
victim_note(const uint8_t *addr, uint8_t family, uint32_t sec)
{
	struct source_entry *e = source_slot(all_srcs->e, all_srcs->mask, addr, family);
	uint32_t day = sec / 86400, add = 1;
	struct victim_rec *r;

	if (e->bs_pkts == 0 || sec < e->bs_first)
		e->bs_first = sec;
	if (sec > e->bs_last)
		e->bs_last = sec;
	e->bs_pkts++;
	if (!e->victim) {
		uint32_t span = e->bs_last - e->bs_first;

		if (e->bs_pkts < VICTIM_MIN_PKTS || span < VICTIM_MIN_SECONDS ||
				(uint64_t)e->bs_pkts * 60 < (uint64_t)VICTIM_MIN_PER_MINUTE * span)
			return 0;
		e->victim = true;
		add = e->bs_pkts;
	}
	if (e->victim_rec == 0 || e->victim_day != day) {
		if (n_victim_recs == cap_victim_recs) {
			uint64_t cap = cap_victim_recs ? cap_victim_recs * 2 : 64;

			r = realloc(victim_recs, cap * sizeof(*r));
			if (r == NULL)
				return -ENOMEM;
			victim_recs = r;
			cap_victim_recs = cap;
		}
		r = &victim_recs[n_victim_recs++];
		memcpy(r->addr, addr, 16);
		r->family = family;
		r->day = day;
		r->pkts = 0;
		e->victim_day = day;
		e->victim_rec = n_victim_recs;
	}
	victim_recs[e->victim_rec - 1].pkts += add;
	return 0;
}

/*
 * Per UTC day and sensor, the day buckets' rankings: services (all, home,
 * Mirai-type, home Mirai-type) and countries. A report's tables and daily
 * series come from these; the "all" scope is the sum of the sensors'.
 */
enum day_dim { DD_PORT, DD_PORT_HOME, DD_PORT_MIRAI, DD_PORT_HOME_MIRAI, DD_COUNTRY, DD_COUNT };
static const char *const day_dim_names[DD_COUNT] = {
	"port", "port:home", "port:mirai", "port:home:mirai", "country",
};

struct day_cell {
	uint32_t day;                  /* UTC day number; 0: empty */
	uint16_t sensor;
	uint8_t dim;
	uint32_t member;               /* service index or country index */
	uint64_t pkts;
};

static bool day_truth;             /* --day-truth: write "days" and "day_sources" */
static struct day_cell *day_cells;
static uint64_t day_mask, day_used;

static struct day_cell *
day_slot(struct day_cell *t, uint64_t mask, uint32_t day, uint16_t sensor, uint8_t dim,
		uint32_t member)
{
	uint64_t h = ((uint64_t)day << 40 ^ (uint64_t)sensor << 32 ^ (uint64_t)dim << 29 ^ member) *
		0x9e3779b97f4a7c15ull;
	uint64_t i = (h ^ (h >> 31)) & mask;

	while (t[i].day != 0 && !(t[i].day == day && t[i].sensor == sensor &&
			t[i].dim == dim && t[i].member == member))
		i = (i + 1) & mask;
	return &t[i];
}

/* Count one packet in a day cell, growing the table at half full. @return 0 or -ENOMEM. */
static int
day_add(uint32_t day, uint16_t sensor, uint8_t dim, uint32_t member)
{
	struct day_cell *c;

	if (day_used * 2 >= day_mask) {
		uint64_t mask = day_mask ? day_mask * 2 + 1 : 65535, k;
		struct day_cell *t = calloc(mask + 1, sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		for (k = 0; day_cells != NULL && k <= day_mask; k++)
			if (day_cells[k].day != 0)
				*day_slot(t, mask, day_cells[k].day, day_cells[k].sensor,
					day_cells[k].dim, day_cells[k].member) = day_cells[k];
		free(day_cells);
		day_cells = t;
		day_mask = mask;
	}
	c = day_slot(day_cells, day_mask, day, sensor, dim, member);
	if (c->day == 0) {
		c->day = day;
		c->sensor = sensor;
		c->dim = dim;
		c->member = member;
		day_used++;
	}
	c->pkts++;
	return 0;
}

/*
 * Distinct sources per UTC day over every sensor, [day - first day]: all of
 * them, and those with a 23/TCP packet (the Telnet figures' unique sources).
 */
static struct source_set **day_srcs, **day_telnet;
static uint64_t n_days, first_day;

static int
day_sources_note(uint64_t sec, const uint8_t *src, uint8_t family, bool home, bool mirai,
		uint32_t service)
{
	uint64_t d = sec / 86400 - first_day;

	if (!day_truth || d >= n_days)
		return 0;
	if (source_note(&day_srcs[d], src, family, home, mirai) != 0 ||
			(service == 23 && source_note(&day_telnet[d], src, family, home, mirai) != 0))
		return -ENOMEM;
	return 0;
}

/* A packet's day cells: its service in the rankings it belongs to, its country. */
static int
day_note(uint64_t sec, uint16_t sensor, uint32_t service, int country, bool home, bool mirai)
{
	uint32_t day = (uint32_t)(sec / 86400) + 1;   /* + 1: 0 marks an empty cell */

	if (!day_truth)
		return 0;
	if (day_add(day, sensor, DD_PORT, service) != 0 ||
			(home && day_add(day, sensor, DD_PORT_HOME, service) != 0) ||
			(mirai && day_add(day, sensor, DD_PORT_MIRAI, service) != 0) ||
			(home && mirai && day_add(day, sensor, DD_PORT_HOME_MIRAI, service) != 0) ||
			day_add(day, sensor, DD_COUNTRY, (uint32_t)country) != 0)
		return -ENOMEM;
	return 0;
}

static int
account(struct truth *t, const struct built *f, uint64_t sec)
{
	uint8_t src[16] = { 0 };
	struct sensor *s;
	struct service_count *sc;
	int country;
	bool home, mirai = f->klass == C_MIRAI;

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
	memcpy(src, f->src, f->src_family == 4 ? 4 : 16);
	country = country_of(f->src_family, src);
	home = country == country_index(home_cc);
	if (s->country_pkts == NULL) {
		s->country_pkts = calloc(COUNTRIES, sizeof(uint64_t));
		s->country_mirai = calloc(COUNTRIES, sizeof(uint64_t));
		if (s->country_pkts == NULL || s->country_mirai == NULL)
			return -ENOMEM;
	}
	s->country_pkts[country]++;
	s->country_mirai[country] += mirai;
	s->home += home;
	s->home_mirai += home && mirai;
	if (source_note(&s->srcs, src, f->src_family, home, mirai) != 0 ||
			source_note(&all_srcs, src, f->src_family, home, mirai) != 0 ||
			(f->klass == C_BACKSCATTER &&
			 victim_note(src, f->src_family, (uint32_t)sec) != 0))
		return -ENOMEM;
	hour_add(sec, 0, f, home);
	hour_add(sec, (unsigned int)f->sensor + 1, f, home);
	if (day_note(sec, (uint16_t)f->sensor, f->service, country, home, mirai) != 0 ||
			day_sources_note(sec, src, f->src_family, home, mirai, f->service) != 0)
		return -ENOMEM;
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

/* ",\n "country": {...}" after the totals (closed by the caller's brace). */
static void
json_countries(FILE *out, const char *key, const uint64_t *counts)
{
	bool first = true;
	unsigned int c;

	fprintf(out, "},\n      \"%s\": {", key);
	for (c = 0; counts != NULL && c < COUNTRIES; c++) {
		if (counts[c] == 0)
			continue;
		fprintf(out, "%s\"%c%c\": %" PRIu64, first ? "" : ", ", 'A' + c / 26, 'A' + c % 26,
			counts[c]);
		first = false;
	}
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
	fprintf(out, ", \"home\": %" PRIu64 ", \"abroad\": %" PRIu64 ", \"home_mirai\": %"
		PRIu64, s->home, s->pkts - s->home, s->home_mirai);
	json_countries(out, "country", s->country_pkts);
	json_countries(out, "country:mirai", s->country_mirai);
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
	all->srcs = all_srcs;
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
		all->home += x->home;
		all->home_mirai += x->home_mirai;
		if (x->country_pkts != NULL) {
			if (all->country_pkts == NULL) {
				all->country_pkts = calloc(COUNTRIES, sizeof(uint64_t));
				all->country_mirai = calloc(COUNTRIES, sizeof(uint64_t));
				if (all->country_pkts == NULL || all->country_mirai == NULL)
					return -ENOMEM;
			}
			for (c = 0; c < COUNTRIES; c++) {
				all->country_pkts[c] += x->country_pkts[c];
				all->country_mirai[c] += x->country_mirai[c];
			}
		}
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
		"                  [--sources N] [--geoip FILE.mmdb] [--home CC] [--home-share PERMILLE]\n"
		"                  [--weight POPULATION=W ...] [--surge SCOPE:PROTO/PORT:FROM:SECONDS:PERMILLE ...]\n"
		"                  [--ramp CC:FROM-PERMILLE:TO-PERMILLE] [--mirai-port PORT:FROM]\n"
		"                  [--dos VICTIMS:FROM:SECONDS:PERMILLE ...]\n"
		"                  [--home-mirai-surge FROM:SECONDS:PERMILLE] [--diurnal PERMILLE]\n"
		"                  [--flood | --flood-mirai] [--day-truth]\n"
		"Writes N frames of darknet traffic (Mirai bots, scanners, backscatter,\n"
		"UDP probes, IPv6, not-dark, non-IP and malformed frames) towards the\n"
		"sensors' prefixes, and the exact truth of what was written. Each sensor\n"
		"needs an IPv4 prefix of at least /8; --config writes a matching teiten\n"
		"config (every sensor on port 0).\n"
		"  --sources N        bots and scanners sending the traffic (256)\n"
		"  --geoip FILE       draw them from the database's real allocations; the\n"
		"                     truth then has each source's country from it\n"
		"  --home CC          the home country (JP); --home-share: permille of the\n"
		"                     sources at home (0)\n"
		"  --weight P=W       a population's weight in a thousand: mirai connect masscan\n"
		"                     zmap nmap unicorn backscatter udp icmp ipv6 not-dark\n"
		"                     non-ip malformed (e.g. malformed=0, malformed=200)\n"
		"  --surge S:P:F:D:M  from F to F+D seconds after --start, M permille of the\n"
		"                     packets go to service P (tcp/N, udp/N) at sensor S (or all)\n"
		"  --ramp CC:A:B      country CC sends A permille of the packets at the start,\n"
		"                     growing to B at the end (needs --geoip)\n"
		"  --mirai-port P:F   from F seconds on, 1 in 5 Mirai-type SYNs go to tcp/P\n"
		"  --dos V:F:D:M      from F to F+D seconds after --start, M permille of the\n"
		"                     packets are backscatter from V hosts under attack; the\n"
		"                     truth's \"victims\" are every sender that passes the DoS rule\n"
		"  --home-mirai-surge F:D:M  from F to F+D seconds after --start, M permille of\n"
		"                     the packets are Mirai-type SYNs from %d extra bots in the\n"
		"                     home country (needs --geoip)\n"
		"  --diurnal A        the packet rate swings A permille (up to 900) over each\n"
		"                     UTC day, highest at 12:00, lowest at 00:00\n"
		"The truth's \"events\" list each injected event as the alert it should raise:\n"
		"kind, scope, subject, breadth, start and end (epoch seconds).\n"
		"  --flood            only 64-byte SYNs to 80/TCP, each from a source of its\n"
		"                     own (a spoofed flood)\n"
		"  --flood-mirai      the same, Mirai-type SYNs to 23/TCP (seq = destination)\n"
		"  --day-truth        add to the truth, per UTC day, each sensor's service and\n"
		"                     country rankings (\"days\") and the distinct sources of\n"
		"                     every sensor (\"day_sources\"), for a report's tables\n",
		HOME_SURGE_BOTS);
}

static const char *const population_names[P_COUNT] = {
	[P_MIRAI] = "mirai", [P_CONNECT_SCAN] = "connect", [P_MASSCAN] = "masscan",
	[P_ZMAP] = "zmap", [P_NMAP] = "nmap", [P_UNICORN] = "unicorn",
	[P_BACKSCATTER] = "backscatter", [P_UDP_PROBE] = "udp", [P_ICMP_ECHO] = "icmp",
	[P_IPV6_SCAN] = "ipv6", [P_NOT_DARK] = "not-dark", [P_NON_IP] = "non-ip",
	[P_MALFORMED] = "malformed",
};

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' ? -EINVAL : 0;
}

/* POPULATION=W */
static int
parse_weight(const char *arg, unsigned int *weights)
{
	const char *eq = strchr(arg, '=');
	uint64_t w;
	unsigned int p;

	if (eq == NULL || parse_u64(eq + 1, &w) != 0 || w > 100000)
		return -EINVAL;
	for (p = 0; p < P_COUNT; p++)
		if (strlen(population_names[p]) == (size_t)(eq - arg) &&
				strncmp(population_names[p], arg, (size_t)(eq - arg)) == 0) {
			weights[p] = (unsigned int)w;
			return 0;
		}
	return -EINVAL;
}

/* Split "a:b:c" into exactly @p n fields (copied into buf). */
static int
split_fields(const char *arg, char *buf, size_t len, char **f, unsigned int n)
{
	unsigned int i = 0;
	char *p, *save = NULL;

	snprintf(buf, len, "%s", arg);
	for (p = strtok_r(buf, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
		if (i == n)
			return -EINVAL;
		f[i++] = p;
	}
	return i == n ? 0 : -EINVAL;
}

/* FROM, SECONDS and PERMILLE fields of an event. */
static int
parse_window(char *const *f, struct window *w)
{
	uint64_t from, dur, pm;

	if (parse_u64(f[0], &from) != 0 || parse_u64(f[1], &dur) != 0 || dur == 0 ||
			parse_u64(f[2], &pm) != 0 || pm == 0 || pm > 1000)
		return -EINVAL;
	w->from = from;
	w->to = from + dur;
	w->permille = (uint32_t)pm;
	return 0;
}

/* SCOPE:PROTO/PORT:FROM:SECONDS:PERMILLE */
static int
parse_surge(const char *arg)
{
	struct surge *e = &surges[n_surges];
	char buf[128], *f[5];
	uint64_t port;
	unsigned int s;

	if (n_surges == MAX_SURGES || split_fields(arg, buf, sizeof(buf), f, 5) != 0)
		return -EINVAL;
	e->sensor = -2;
	if (strcmp(f[0], "all") == 0)
		e->sensor = -1;
	for (s = 0; s < n_sensors; s++)
		if (strcmp(sensors[s].name, f[0]) == 0)
			e->sensor = (int)s;
	if (e->sensor == -2)
		return -ENOENT;
	if (strncmp(f[1], "tcp/", 4) == 0)
		e->udp = false;
	else if (strncmp(f[1], "udp/", 4) == 0)
		e->udp = true;
	else
		return -EINVAL;
	if (parse_u64(f[1] + 4, &port) != 0 || port == 0 || port > 65535 ||
			parse_window(f + 2, &e->when) != 0)
		return -EINVAL;
	e->port = (uint16_t)port;
	n_surges++;
	return 0;
}

/* VICTIMS:FROM:SECONDS:PERMILLE */
static int
parse_dos(const char *arg)
{
	struct attack *a = &attacks[n_attacks];
	char buf[128], *f[4];
	uint64_t n;

	if (n_attacks == MAX_ATTACKS || split_fields(arg, buf, sizeof(buf), f, 4) != 0 ||
			parse_u64(f[0], &n) != 0 || n == 0 || n > 65536 ||
			parse_window(f + 1, &a->when) != 0)
		return -EINVAL;
	a->n_victims = (uint32_t)n;
	n_attacks++;
	return 0;
}

/* FROM:SECONDS:PERMILLE */
static int
parse_home_mirai_surge(const char *arg)
{
	char buf[96], *f[3];

	if (home_surge_set || split_fields(arg, buf, sizeof(buf), f, 3) != 0 ||
			parse_window(f, &home_surge) != 0)
		return -EINVAL;
	home_surge_set = true;
	return 0;
}

/* CC:FROM:TO */
static int
parse_ramp(const char *arg)
{
	char buf[64], *f[3];
	uint64_t a, b;

	if (split_fields(arg, buf, sizeof(buf), f, 3) != 0 || country_index(f[0]) < 0 ||
			parse_u64(f[1], &a) != 0 || parse_u64(f[2], &b) != 0 || a > 1000 || b > 1000)
		return -EINVAL;
	ramp.country = country_index(f[0]);
	ramp.from = (uint32_t)a;
	ramp.to = (uint32_t)b;
	return 0;
}

/* PORT:FROM */
static int
parse_mirai_port(const char *arg)
{
	char buf[64], *f[2];
	uint64_t port, from;

	if (split_fields(arg, buf, sizeof(buf), f, 2) != 0 || parse_u64(f[0], &port) != 0 ||
			port == 0 || port > 65535 || parse_u64(f[1], &from) != 0)
		return -EINVAL;
	mirai_new_port = (int)port;
	mirai_new_from = from;
	return 0;
}

static int
write_config(const char *path, const char *id, const char *geoip)
{
	FILE *f = fopen(path, "w");
	unsigned int s, k;

	if (f == NULL)
		return -errno;
	fprintf(f, "; written by teiten-gen for the capture it generated\n"
		"[appliance]\nid = %s\nhome_country = %s\nclock = auto\n", id, home_cc);
	if (geoip != NULL)
		fprintf(f, "geoip_db = %s\n", geoip);
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

/* Does an event take the packet at @p sec? A draw only while it lasts. */
static bool
window_takes(const struct window *w, uint64_t sec)
{
	return sec >= w->from && sec < w->to && rnd_below(1000) < w->permille;
}

/* The events in effect at @p sec seconds after --start (no draws outside events). */
static void
events_at(uint64_t sec, uint64_t span, const struct surge **surge,
		const struct attack **attack, bool *home_mirai)
{
	unsigned int e;

	*surge = NULL;
	*attack = NULL;
	*home_mirai = false;
	for (e = 0; e < n_surges; e++)
		if (window_takes(&surges[e].when, sec)) {
			*surge = &surges[e];
			break;
		}
	for (e = 0; *surge == NULL && e < n_attacks; e++)
		if (window_takes(&attacks[e].when, sec)) {
			*attack = &attacks[e];
			break;
		}
	/* no draw unless the option is given, so other scenarios stay as they were */
	if (home_surge_set && *surge == NULL && *attack == NULL)
		*home_mirai = window_takes(&home_surge, sec);
	if (ramp.country >= 0)
		ramp_now = (uint32_t)(ramp.from + ((int64_t)ramp.to - ramp.from) *
			(int64_t)sec / (int64_t)span);
	mirai_new_now = mirai_new_port >= 0 && sec >= mirai_new_from;
}

static void
json_counts(FILE *out, const struct hour_truth *h)
{
	unsigned int c;

	fprintf(out, "{\"pkts\": %" PRIu64 ", \"home\": %" PRIu64 ", \"home_mirai\": %" PRIu64,
		h->pkts, h->home, h->home_mirai);
	for (c = C_BACKSCATTER; c < C_COUNT; c++)
		fprintf(out, ", \"%s\": %" PRIu64, class_names[c], h->by_class[c]);
	fprintf(out, "}");
}

/* "sources": exact distinct sources per scope, beside HLL estimates. */
static void
json_sources(FILE *out, const struct sensor *all)
{
	unsigned int s;

	fprintf(out, ",\n  \"sources\": {");
	for (s = 0; s <= n_sensors; s++) {
		const struct sensor *x = s == 0 ? all : &sensors[s - 1];
		uint64_t n[4] = { 0 }, k;

		for (k = 0; x->srcs != NULL && k <= x->srcs->mask; k++) {
			const struct source_entry *e = &x->srcs->e[k];

			if (e->family == 0)
				continue;
			n[0]++;
			n[1] += e->home;
			n[2] += e->mirai;
			n[3] += e->home && e->mirai;
		}
		fprintf(out, "%s\n    \"%s\": {\"srcs\": %" PRIu64 ", \"srcs:home\": %" PRIu64
			", \"srcs:mirai\": %" PRIu64 ", \"srcs:home:mirai\": %" PRIu64 "}",
			s ? "," : "", x->name, n[0], n[1], n[2], n[3]);
	}
	fprintf(out, "\n  }");
}

/* "victims": per UTC day (YYYYMMDD, as Redis names the sets), address: packets. */
static void
json_victims(FILE *out)
{
	uint64_t i;
	uint32_t day = UINT32_MAX;

	fprintf(out, ",\n  \"victims\": {");
	for (i = 0; i < n_victim_recs; i++) {
		const struct victim_rec *r = &victim_recs[i];
		char a[INET6_ADDRSTRLEN], key[16];
		time_t t = (time_t)r->day * 86400;
		struct tm tm;

		if (r->day != day) {
			gmtime_r(&t, &tm);
			strftime(key, sizeof(key), "%Y%m%d", &tm);
			fprintf(out, "%s\n    \"%s\": {", day == UINT32_MAX ? "" : "},", key);
			day = r->day;
		} else {
			fprintf(out, ", ");
		}
		inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
		fprintf(out, "\"%s\": %" PRIu64, a, r->pkts);
	}
	fprintf(out, "%s\n  }", day == UINT32_MAX ? "" : "}");
}

static void
json_event(FILE *out, bool *first, const char *kind, const char *scope, const char *subject,
		const char *breadth, uint64_t from, uint64_t to)
{
	fprintf(out, "%s\n    {\"kind\": \"%s\", \"scope\": \"%s\", \"subject\": \"%s\", "
		"\"breadth\": \"%s\", \"start\": %" PRIu64 ", \"end\": %" PRIu64 "}",
		*first ? "" : ",", kind, scope, subject, breadth, from, to);
	*first = false;
}

/* Did @p b pass the DoS rule (is it among the truth's victims)? */
static bool
is_victim(const struct bot *b)
{
	uint8_t a[4] = {
		(uint8_t)(b->src >> 24), (uint8_t)(b->src >> 16), (uint8_t)(b->src >> 8),
		(uint8_t)b->src,
	};
	uint64_t i;

	for (i = 0; i < n_victim_recs; i++)
		if (victim_recs[i].family == 4 && memcmp(victim_recs[i].addr, a, 4) == 0)
			return true;
	return false;
}

/*
 * "events": each injected event as the alert it should raise. A surge at
 * one sensor is local, at every sensor broad (with two sensors or more); a
 * ramp is a country entering the top-N (rank); --mirai-port a
 * new_mirai_port; --dos one dos_victim per attacked host that passes the
 * rule ("home" when it is in the home country); --home-mirai-surge a
 * mirai_home_surge of the home country.
 */
static void
json_events(FILE *out, uint64_t start, uint64_t span)
{
	const char *spread = n_sensors > 1 ? "broad" : "local";
	char subject[INET6_ADDRSTRLEN];
	bool first = true;
	unsigned int e, v;

	fprintf(out, ",\n  \"events\": [");
	for (e = 0; e < n_surges; e++) {
		const struct surge *x = &surges[e];

		snprintf(subject, sizeof(subject), "%s/%u", x->udp ? "udp" : "tcp", x->port);
		json_event(out, &first, "surge", x->sensor >= 0 ? sensors[x->sensor].name : "all",
			subject, x->sensor >= 0 ? "local" : spread, start + x->when.from,
			start + x->when.to);
	}
	if (ramp.country >= 0) {
		snprintf(subject, sizeof(subject), "%c%c", 'A' + ramp.country / 26,
			'A' + ramp.country % 26);
		json_event(out, &first, "rank", "all", subject, "", start, start + span);
	}
	if (mirai_new_port >= 0) {
		snprintf(subject, sizeof(subject), "tcp/%d", mirai_new_port);
		json_event(out, &first, "new_mirai_port", "all", subject, "",
			start + mirai_new_from, start + span);
	}
	for (e = 0; e < n_attacks; e++)
		for (v = 0; v < attacks[e].n_victims; v++) {
			const struct bot *b = &attacks[e].victims[v];
			uint8_t a[16] = {
				(uint8_t)(b->src >> 24), (uint8_t)(b->src >> 16),
				(uint8_t)(b->src >> 8), (uint8_t)b->src,
			};

			if (!is_victim(b))
				continue;
			inet_ntop(AF_INET, a, subject, sizeof(subject));
			json_event(out, &first, "dos_victim", "all", subject,
				have_geo && country_of(4, a) == country_index(home_cc) ? "home" : "",
				start + attacks[e].when.from, start + attacks[e].when.to);
		}
	if (home_surge_set)
		json_event(out, &first, "mirai_home_surge", "all", home_cc, spread,
			start + home_surge.from, start + home_surge.to);
	fprintf(out, "%s]", first ? "" : "\n  ");
}

/* "buckets": per UTC hour (h:YYYYMMDDHH, as Redis names them) and scope. */
static void
json_buckets(FILE *out)
{
	uint64_t h;
	unsigned int s;

	fprintf(out, ",\n  \"buckets\": {");
	for (h = 0; h < n_hours; h++) {
		time_t t = (time_t)(first_hour + h * 3600);
		struct tm tm;
		char key[24];

		gmtime_r(&t, &tm);
		strftime(key, sizeof(key), "h:%Y%m%d%H", &tm);
		fprintf(out, "%s\n    \"%s\": {", h ? "," : "", key);
		for (s = 0; s <= n_sensors; s++) {
			fprintf(out, "%s\"%s\": ", s ? ", " : "", s ? sensors[s - 1].name : "all");
			json_counts(out, &hours[h * (n_sensors + 1) + s]);
		}
		fprintf(out, "}");
	}
	fprintf(out, "\n  }");
}

/* A set's distinct sources: all, home, Mirai-type, home and Mirai-type. */
static void
source_counts(const struct source_set *set, uint64_t n[4])
{
	uint64_t k;

	n[0] = n[1] = n[2] = n[3] = 0;
	for (k = 0; set != NULL && k <= set->mask; k++) {
		const struct source_entry *e = &set->e[k];

		if (e->family == 0)
			continue;
		n[0]++;
		n[1] += e->home;
		n[2] += e->mirai;
		n[3] += e->home && e->mirai;
	}
}

/*
 * "day_sources": per UTC day, every sensor's distinct sources, exact, as the
 * day buckets' HyperLogLogs of the all scope estimate them (srcs, and
 * srcs:tcp/23 for 23/TCP), and as {src}:d:YYYYMMDD:mirai counts them.
 */
static void
json_day_sources(FILE *out)
{
	static const char *const v[4] = { "", ":home", ":mirai", ":home:mirai" };
	uint64_t d, n[4], t[4];
	unsigned int i;
	bool first = true;

	fprintf(out, ",\n  \"day_sources\": {");
	for (d = 0; d < n_days; d++) {
		time_t when = (time_t)(first_day + d) * 86400;
		struct tm tm;
		char key[16];

		if (day_srcs[d] == NULL)
			continue;
		gmtime_r(&when, &tm);
		strftime(key, sizeof(key), "d:%Y%m%d", &tm);
		source_counts(day_srcs[d], n);
		source_counts(day_telnet[d], t);
		fprintf(out, "%s\n    \"%s\": {", first ? "" : ",", key);
		for (i = 0; i < 4; i++)
			fprintf(out, "%s\"srcs%s\": %" PRIu64, i ? ", " : "", v[i], n[i]);
		for (i = 0; i < 4; i++)
			fprintf(out, ", \"srcs:tcp/23%s\": %" PRIu64, v[i], t[i]);
		fprintf(out, "}");
		first = false;
	}
	fprintf(out, "\n  }");
}

static int
day_cell_cmp(const void *a, const void *b)
{
	const struct day_cell *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->sensor != y->sensor)
		return x->sensor < y->sensor ? -1 : 1;
	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	return x->member < y->member ? -1 : x->member > y->member;
}

/*
 * "days": per UTC day (d:YYYYMMDD, as Redis names the buckets), per sensor,
 * the rankings of day_dim_names, member: packets.
 */
static int
json_days(FILE *out)
{
	struct day_cell *v = calloc(day_used + 1, sizeof(*v));
	uint64_t k, n = 0;
	char name[16];

	if (v == NULL)
		return -ENOMEM;
	for (k = 0; day_cells != NULL && k <= day_mask; k++)
		if (day_cells[k].day != 0)
			v[n++] = day_cells[k];
	qsort(v, n, sizeof(*v), day_cell_cmp);
	fprintf(out, ",\n  \"days\": {");
	for (k = 0; k < n; k++) {
		const struct day_cell *c = &v[k], *p = k ? &v[k - 1] : NULL;
		bool new_day = p == NULL || p->day != c->day;
		bool new_sensor = new_day || p->sensor != c->sensor;
		bool new_dim = new_sensor || p->dim != c->dim;

		if (new_dim && p != NULL)
			fprintf(out, "}");
		if (new_sensor && p != NULL)
			fprintf(out, "}");
		if (new_day) {
			time_t t = (time_t)(c->day - 1) * 86400;
			struct tm tm;
			char key[16];

			gmtime_r(&t, &tm);
			strftime(key, sizeof(key), "d:%Y%m%d", &tm);
			fprintf(out, "%s\n    \"%s\": {", p != NULL ? "}," : "", key);
		}
		if (new_sensor)
			fprintf(out, "%s\"%s\": {", new_day ? "" : ", ", sensors[c->sensor].name);
		if (new_dim)
			fprintf(out, "%s\"%s\": {", new_sensor ? "" : ", ", day_dim_names[c->dim]);
		if (c->dim == DD_COUNTRY)
			snprintf(name, sizeof(name), "%c%c", 'A' + c->member / 26, 'A' + c->member % 26);
		else
			service_name(c->member, name, sizeof(name));
		fprintf(out, "%s\"%s\": %" PRIu64, new_dim ? "" : ", ", name, c->pkts);
	}
	fprintf(out, "%s\n  }", n != 0 ? "}}}" : "");
	free(v);
	return 0;
}

/*
 * --diurnal: the packet rate follows the day, 1 + a sin(...) with its peak
 * at 12:00 UTC and its trough at 00:00. Packet i of n is sent at the time
 * where the cumulative rate reaches i / n (found by bisection: the
 * cumulative rate is increasing for a < 1), so packets stay in time order.
 */
static double
swing_seconds(uint64_t start, uint64_t span, double u)
{
	const double w = 2 * M_PI / 86400;
	const double phase = w * ((double)(start % 86400) - 21600);
	double lo = 0, hi = (double)span, target;
	int k;

#define CUMULATIVE(t) ((t) - diurnal / w * (cos(phase + w * (t)) - cos(phase)))
	target = u * CUMULATIVE((double)span);
	for (k = 0; k < 48; k++) {
		double mid = (lo + hi) / 2;

		if (CUMULATIVE(mid) < target)
			lo = mid;
		else
			hi = mid;
	}
#undef CUMULATIVE
	return lo;
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
		{ "sources", required_argument, NULL, 'S' },
		{ "geoip", required_argument, NULL, 'g' },
		{ "home", required_argument, NULL, 'H' },
		{ "home-share", required_argument, NULL, 'm' },
		{ "weight", required_argument, NULL, 'w' },
		{ "surge", required_argument, NULL, 'u' },
		{ "ramp", required_argument, NULL, 'r' },
		{ "mirai-port", required_argument, NULL, 'M' },
		{ "dos", required_argument, NULL, 'D' },
		{ "home-mirai-surge", required_argument, NULL, 'E' },
		{ "diurnal", required_argument, NULL, 'J' },
		{ "flood", no_argument, NULL, 'f' },
		{ "flood-mirai", no_argument, NULL, 'F' },
		{ "day-truth", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *truth_path = NULL, *config_path = NULL;
	static char geoip_buf[PATH_MAX];
	char *geoip_path = NULL;
	uint64_t packets = 10000, seed = 1, start = 1704067200, span = 3600, i, v;
	unsigned int weights[P_COUNT];
	bool flood = false;
	unsigned int weight_total = 0, p, s;
	struct truth truth = { 0 };
	struct sensor all;
	struct built f;
	FILE *pcap, *tj;
	int c, rc, li = 0;

	memcpy(weights, default_weights, sizeof(weights));
	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		rc = 0;
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
		case 'p': rc = parse_u64(optarg, &packets); break;
		case 's': rc = parse_u64(optarg, &seed); break;
		case 'b': rc = parse_u64(optarg, &start); break;
		case 'd': rc = parse_u64(optarg, &span); break;
		case 'S':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && (v == 0 || v > 1000000))
				rc = -EINVAL;
			n_bots = (uint32_t)v;
			break;
		case 'g':
			/* a buffer of its own: every exit path leaves it behind freely */
			geoip_path = realpath(optarg, geoip_buf);
			if (geoip_path == NULL || MMDB_open(geoip_path, MMDB_MODE_MMAP, &geo) !=
					MMDB_SUCCESS) {
				fprintf(stderr, "teiten-gen: --geoip %s: not a readable MaxMind DB\n",
					optarg);
				return 2;
			}
			have_geo = true;
			break;
		case 'H':
			if (country_index(optarg) < 0) {
				fprintf(stderr, "teiten-gen: --home %s: expected a two-letter "
					"upper-case country code\n", optarg);
				return 2;
			}
			snprintf(home_cc, sizeof(home_cc), "%s", optarg);
			break;
		case 'm':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && v > 1000)
				rc = -EINVAL;
			home_share = (uint32_t)v;
			break;
		case 'w': rc = parse_weight(optarg, weights); break;
		case 'u': rc = parse_surge(optarg); break;
		case 'r': rc = parse_ramp(optarg); break;
		case 'M': rc = parse_mirai_port(optarg); break;
		case 'D': rc = parse_dos(optarg); break;
		case 'E': rc = parse_home_mirai_surge(optarg); break;
		case 'J':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && v > 900)
				rc = -1;
			diurnal = (double)v / 1000;
			break;
		case 'f': flood = true; break;
		case 'F': flood = flood_mirai = true; break;
		case 'y': day_truth = true; break;
		default:
			usage();
			return 2;
		}
		if (rc != 0) {
			fprintf(stderr, "teiten-gen: --%s %s: %s (see --help)\n", longopts[li].name,
				optarg, rc == -ENOENT ? "no such sensor (give --sensor first)" :
				"invalid");
			return 2;
		}
	}
	for (p = 0; p < P_COUNT; p++)
		weight_total += weights[p];
	if (n_sensors == 0 || out_path == NULL || truth_path == NULL || packets == 0 ||
			span == 0 || weight_total == 0) {
		usage();
		return 2;
	}
	if ((home_share != 0 || ramp.country >= 0 || home_surge_set) && !have_geo) {
		fprintf(stderr, "teiten-gen: --home-share, --ramp and --home-mirai-surge need "
			"--geoip\n");
		return 2;
	}
	rng_state = seed;
	bots = calloc(n_bots, sizeof(*bots));
	if (bots == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	for (s = 0; s < n_bots; s++) {
		int want = have_geo && rnd_below(1000) < home_share ? country_index(home_cc) : -1;

		if (init_bot(&bots[s], want) != 0) {
			fprintf(stderr, "teiten-gen: no %s source found in %s\n",
				want >= 0 ? home_cc : "foreign", geoip_path);
			return 1;
		}
	}
	for (s = 0; ramp.country >= 0 && s < RAMP_BOTS; s++)
		if (init_bot(&ramp_bots[s], ramp.country) != 0) {
			fprintf(stderr, "teiten-gen: --ramp: no source of that country in %s\n",
				geoip_path);
			return 1;
		}
	/* after every other draw, so scenarios without --dos stay as they were */
	for (p = 0; p < n_attacks; p++) {
		struct attack *a = &attacks[p];

		a->victims = calloc(a->n_victims, sizeof(*a->victims));
		if (a->victims == NULL) {
			fprintf(stderr, "teiten-gen: out of memory\n");
			return 1;
		}
		for (s = 0; s < a->n_victims; s++) {
			int want = have_geo && rnd_below(1000) < home_share ?
				country_index(home_cc) : -1;

			if (init_bot(&a->victims[s], want) != 0) {
				fprintf(stderr, "teiten-gen: --dos: no %s source found in %s\n",
					want >= 0 ? home_cc : "foreign", geoip_path);
				return 1;
			}
		}
	}
	/* after every other draw, so scenarios without it stay as they were */
	if (home_surge_set) {
		home_bots = calloc(HOME_SURGE_BOTS, sizeof(*home_bots));
		if (home_bots == NULL) {
			fprintf(stderr, "teiten-gen: out of memory\n");
			return 1;
		}
		for (s = 0; s < HOME_SURGE_BOTS; s++)
			if (init_bot(&home_bots[s], country_index(home_cc)) != 0) {
				fprintf(stderr, "teiten-gen: --home-mirai-surge: no %s source found "
					"in %s\n", home_cc, geoip_path);
				return 1;
			}
	}
	first_hour = start - start % 3600;
	n_hours = (start + span - first_hour + 3599) / 3600;
	first_day = start / 86400;
	n_days = (start + span + 86399) / 86400 - first_day;
	day_srcs = calloc(n_days, sizeof(*day_srcs));
	day_telnet = calloc(n_days, sizeof(*day_telnet));
	if (day_srcs == NULL || day_telnet == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	hours = calloc(n_hours * (n_sensors + 1), sizeof(*hours));
	if (hours == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}

	pcap = fopen(out_path, "wb");
	if (pcap == NULL || pcap_header(pcap) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	for (i = 0; i < packets; i++) {
		uint64_t usec = start * 1000000 + (diurnal > 0 ?
			(uint64_t)(swing_seconds(start, span, (double)i / (double)packets) * 1e6) :
			i * (span * 1000000 / packets));
		const struct surge *surge;
		const struct attack *attack;
		bool home_mirai;
		uint32_t r;

		events_at(usec / 1000000 - start, span, &surge, &attack, &home_mirai);
		r = rnd_below(weight_total);
		for (p = 0; r >= weights[p]; p++)
			r -= weights[p];
		if (flood)
			build_flood(i, &f);
		else if (surge != NULL)
			build_surge(surge, &f);
		else if (attack != NULL)
			build_attack(attack, &f);
		else if (home_mirai)
			build_home_mirai(&f);
		else
			build((enum population)p, &f);
		if (pcap_record(pcap, usec, &f) != 0 || account(&truth, &f, usec / 1000000) != 0) {
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
		", \"start\": %" PRIu64 ", \"span\": %" PRIu64 ", \"home\": \"%s\""
		", \"geoip\": %s},\n"
		"  \"packets\": %" PRIu64 ", \"not_dark\": %" PRIu64 ", \"malformed\": %" PRIu64
		", \"non_ip\": %" PRIu64 ",\n  \"scopes\": {\n", seed, packets, start, span,
		home_cc, have_geo ? "true" : "false",
		truth.packets, truth.not_dark, truth.malformed, truth.non_ip);
	if (merge_all(&all) != 0) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	json_scope(tj, &all, n_sensors == 0);
	for (s = 0; s < n_sensors; s++)
		json_scope(tj, &sensors[s], s + 1 == n_sensors);
	fprintf(tj, "  }");
	json_sources(tj, &all);
	json_victims(tj);
	json_events(tj, start, span);
	json_buckets(tj);
	if (day_truth)
		json_day_sources(tj);
	if (day_truth && json_days(tj) != 0) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	fprintf(tj, "\n}\n");
	/* what merge_all() allocated for the whole; srcs is all_srcs, still in use */
	free(all.country_pkts);
	free(all.country_mirai);
	free(all.slot);
	free(all.services);
	if (fclose(tj) != 0)
		return 1;
	if (config_path != NULL && write_config(config_path, "gen-1", geoip_path) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", config_path, strerror(errno));
		return 1;
	}
	if (have_geo)
		MMDB_close(&geo);
	return 0;
}
