/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEITEN_GEN_H
#define TEITEN_GEN_H

/*
 * teiten-gen's own header: the types its files share and what each file
 * offers the others. Nothing outside app/teiten-gen includes it. Who owns
 * what:
 *
 *   main.c         the command line (struct scenario, struct events as
 *                  given), the order of the run, the teiten config written
 *                  beside the capture
 *   frames.c       bytes on the wire (Ethernet, IPv4, IPv6, TCP, UDP, ICMP)
 *                  and the pcap file they go to
 *   populations.c  who sends what from where: countries, source addresses,
 *                  darknet destinations, the bots of struct sources, and the
 *                  frame each population (Mirai, scanners, backscatter, ...)
 *                  sends
 *   events.c       the timeline: which event takes a packet (surges, DoS
 *                  attacks, the ramp, the home Mirai-type surge, a new
 *                  Mirai-type port), their frames, floods, and the packets'
 *                  times (--diurnal)
 *   truth.c        what was sent, counted as teiten's --summary counts it,
 *                  and the truth JSON the tests compare against
 *
 * One thread. Every mutable thing lives in struct gen, or in truth.c's
 * struct truth, and is passed explicitly; tables at file scope are const.
 * Every random draw goes through struct gen's rng in one fixed order, so a
 * seed gives the same capture on every machine: a new draw goes after the
 * existing ones, or scenarios without the new option change.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <maxminddb.h>

enum {
	MAX_SENSORS = 64,
	MAX_PREFIXES = 8,              /* per sensor */
	MAX_SURGES = 8,
	MAX_ATTACKS = 8,
	RAMP_BOTS = 32,
	HOME_SURGE_BOTS = 2048,        /* --home-mirai-surge: extra home Mirai-type bots */
	COUNTRIES = 26 * 26,           /* AA..ZZ; ZZ is "unknown" */
	COUNTRY_ZZ = COUNTRIES - 1,
	SVC_KINDS = 6,                 /* tcp, udp, bare tcp, bare udp, icmp, icmp6 */
	SVC_SLOTS = SVC_KINDS * 65536,
	FRAME_MAX = 256,
	ZMAP_IP_ID = 54321,
};

/* DESIGN.md section 4's fingerprint classes, in its order. */
enum klass { C_OTHER, C_BACKSCATTER, C_MIRAI, C_MASSCAN, C_ZMAP, C_NMAP, C_UNICORN, C_COUNT };

/* What the scenario draws from, each with a weight in a thousand (--weight). */
enum population {
	P_MIRAI, P_CONNECT_SCAN, P_MASSCAN, P_ZMAP, P_NMAP, P_UNICORN,
	P_BACKSCATTER, P_UDP_PROBE, P_ICMP_ECHO, P_IPV6_SCAN, P_NOT_DARK, P_NON_IP,
	P_MALFORMED, P_COUNT,
};

/* splitmix64: small, fast, and the same on every machine. Seeded with --seed. */
struct rng {
	uint64_t state;
};

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

static inline uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

struct prefix {
	int family;
	uint8_t addr[16];
	unsigned int len;
};

/* One --sensor: its name and the darknet prefixes it watches. */
struct sensor {
	char name[33];
	struct prefix prefixes[MAX_PREFIXES];
	unsigned int n_prefixes;
	bool has_v4, has_v6;
};

/* A bot or scanner that sends many packets, as on a real telescope. */
struct bot {
	uint32_t src;
	uint16_t sport;
	uint16_t window;
	uint8_t ttl;
};

/* One frame as built, with what it was built to be (truth.c counts that). */
struct frame {
	uint8_t bytes[FRAME_MAX];
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

/* When an event lasts, and its share of the packets meanwhile. */
struct window {
	uint64_t from, to;             /* seconds after --start */
	uint32_t permille;
};

/* --surge: a share of the packets to one service, at one sensor or all. */
struct surge {
	int sensor;                    /* -1: every sensor */
	bool udp;
	uint16_t port;
	struct window when;
};

/* --dos: hosts under attack, whose replies to spoofed traffic reach the darknet. */
struct attack {
	struct bot *victims;           /* drawn by sources_draw() */
	uint32_t n_victims;
	struct window when;
};

/* --ramp: one country's share of the packets, growing (or shrinking) over --span. */
struct ramp {
	int country;                   /* -1: none */
	uint32_t from, to;             /* permille of the packets, start and end */
};

/* The timeline's events as the options give them. */
struct events {
	struct surge surges[MAX_SURGES];
	unsigned int n_surges;
	struct attack attacks[MAX_ATTACKS];
	unsigned int n_attacks;
	struct ramp ramp;
	struct window home_surge;      /* --home-mirai-surge, when home_surge_set */
	bool home_surge_set;
	int mirai_port;                /* --mirai-port: port, or -1 */
	uint64_t mirai_port_from;      /* seconds after --start */
};

/* The events in effect for the packet being built (events_at()). */
struct packet_events {
	const struct surge *surge;     /* the surge that takes the packet, or NULL */
	const struct attack *attack;   /* else the attack that takes it, or NULL */
	bool home_mirai;               /* else a home Mirai-type bot sends it */
	uint32_t ramp_permille;        /* the ramping country's share (with --ramp) */
	bool mirai_port;               /* --mirai-port's port is in use */
};

/* The options, as main.c parses them; read-only once generation starts. */
struct scenario {
	struct sensor sensors[MAX_SENSORS];
	unsigned int n_sensors;
	uint64_t packets, seed, start, span;
	unsigned int weights[P_COUNT];
	unsigned int weight_total;
	uint32_t n_bots;               /* --sources */
	uint32_t home_share;           /* permille of the bots at home (with --geoip) */
	double diurnal;                /* --diurnal: the day's swing of the packet rate, 0..0.9 */
	bool flood;                    /* --flood or --flood-mirai: nothing but the flood */
	bool flood_mirai;              /* --flood-mirai: the flood's SYNs are Mirai-type */
	bool day_truth;                /* --day-truth: write "days" and "day_sources" */
	const char *out_path, *truth_path, *config_path;
	const char *geoip_path;        /* NULL, or geoip_buf */
	char geoip_buf[PATH_MAX];
};

/* The country database (--geoip) and the home country (--home). */
struct countries {
	MMDB_s db;
	bool open;
	char home_cc[3];
};

/* The sources drawn for the scenario by sources_draw(), fixed from then on. */
struct sources {
	struct bot *bots;              /* --sources of them */
	struct bot ramp_bots[RAMP_BOTS];   /* the --ramp country's */
	struct bot *home_bots;         /* HOME_SURGE_BOTS with --home-mirai-surge */
};

/* The generator: everything a run changes or reads, passed to every step. */
struct gen {
	struct scenario sc;
	struct events events;
	struct countries countries;
	struct sources sources;
	struct rng rng;
};

/* --- frames.c --- */

extern const uint8_t mss_1460[4];      /* TCP option MSS 1460 */

void put8(struct frame *f, uint8_t v);
void put16(struct frame *f, uint16_t v);
void put32(struct frame *f, uint32_t v);
/* Start @p f over with an Ethernet header (a random VLAN tag with @p vlan). */
void ethernet(struct frame *f, struct rng *rng, uint16_t type, bool vlan);
/* @return where the header starts, for ipv4_finish(). The first one is the frame's source. */
uint32_t ipv4_header(struct frame *f, uint16_t id, uint8_t ttl, uint8_t proto, uint32_t src,
		uint32_t dst);
void ipv4_finish(struct frame *f, uint32_t start);
uint32_t ipv6_header(struct frame *f, uint8_t nh, uint8_t hops, const uint8_t *src,
		const uint8_t *dst);
void ipv6_finish(struct frame *f, uint32_t start);
void tcp_header(struct frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t window, const uint8_t *opts, uint32_t optlen);
void pad_to_minimum(struct frame *f);
/* The service as teiten names it; a port above 65535 means "no port". */
void set_service(struct frame *f, const char *kind, unsigned int port);
void service_name(uint32_t index, char *buf, size_t len);
uint16_t non_zmap_id(struct rng *rng);
void avoid_syn_fingerprints(struct rng *rng, uint32_t dst, uint16_t dport, uint32_t *seq,
		uint16_t *id, bool keep_id);
void build_syn4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, uint32_t seq, uint16_t id, uint16_t window, const uint8_t *opts,
		uint32_t optlen, uint8_t ttl, bool vlan);
void build_udp4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, unsigned int words, bool vlan);
void build_plain_syn4(struct frame *f, struct rng *rng, const struct bot *b, uint32_t dst,
		uint16_t dport, const uint8_t *opts, uint32_t optlen, bool vlan);
/* @return 0 or -EIO. */
int pcap_header(FILE *out);
int pcap_record(FILE *out, uint64_t usec, const struct frame *f);

/* --- populations.c --- */

extern const unsigned int default_weights[P_COUNT];
/* The population --weight calls @p name (@p len bytes), or -1. */
int population_by_name(const char *name, size_t len);
/* "JP" -> its index below COUNTRIES, or -1. */
int country_index(const char *cc);
/* The source's country as the database has it; COUNTRY_ZZ without one. */
int country_of(const struct countries *c, int family, const uint8_t *addr);
/* A sensor with a prefix of this family and an address in it; -1 after 64 tries. */
int dark_destination(struct gen *g, int family, uint8_t *out);
/* An address in one of sensor @p s's IPv4 prefixes. */
void destination_in(struct gen *g, int s, uint8_t *out);
/* Draw every source, printing what is missing. @return 0, -ENOENT or -ENOMEM. */
int sources_draw(struct gen *g);
void sources_free(struct gen *g);
/* The bot of the next packet: a ramping country's, while it ramps. */
const struct bot *pick_bot(struct gen *g, const struct packet_events *now);
void build_backscatter(struct gen *g, struct frame *f, const struct bot *b, bool vlan);
enum population population_draw(struct gen *g);
void population_build(struct gen *g, enum population pop, const struct packet_events *now,
		struct frame *f);

/* --- events.c --- */

/* When packet @p i of --packets is sent, in microseconds since the epoch. */
uint64_t packet_usec(const struct scenario *sc, uint64_t i);
/* The events in effect @p sec seconds after --start; draws only inside events. */
void events_at(struct gen *g, uint64_t sec, struct packet_events *now);
void build_flood(struct gen *g, uint64_t i, struct frame *f);
void build_surge(struct gen *g, const struct surge *e, const struct packet_events *now,
		struct frame *f);
void build_attack(struct gen *g, const struct attack *a, struct frame *f);
void build_home_mirai(struct gen *g, struct frame *f);

/* --- truth.c --- */

struct truth;

/* @return the empty truth of @p g's scenario, or NULL (out of memory). */
struct truth *truth_create(const struct gen *g);
void truth_free(struct truth *t);      /* NULL is a no-op */
/* Count a frame sent @p sec seconds after the epoch. @return 0 or -ENOMEM. */
int truth_account(struct truth *t, const struct gen *g, const struct frame *f, uint64_t sec);
/* The truth JSON, whole. @return 0 or -ENOMEM. */
int truth_write(struct truth *t, const struct gen *g, FILE *out);

#endif /* TEITEN_GEN_H */
