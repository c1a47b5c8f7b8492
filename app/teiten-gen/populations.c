/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Populations: who sends what from where. The countries of addresses (the
 * --geoip database through libmaxminddb), public-looking sources and darknet
 * destinations, the bots of struct sources (drawn once, before the first
 * packet), and the frame each population sends: Mirai-type bots, connect
 * scanners, masscan, ZMap, Nmap, Unicorn, backscatter, UDP and ICMP probes,
 * IPv6 scans, not-dark, non-IP and malformed frames.
 *
 * Every frame is built so that it matches exactly one class of DESIGN.md
 * section 4 (e.g. a non-Mirai scanner never has seq == dst by chance).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

enum {
	SOURCE_TRIES = 1000000,        /* random addresses tried for one country */
};

const unsigned int default_weights[P_COUNT] = {
	[P_MIRAI] = 300, [P_CONNECT_SCAN] = 150, [P_MASSCAN] = 60, [P_ZMAP] = 60,
	[P_NMAP] = 50, [P_UNICORN] = 10, [P_BACKSCATTER] = 120, [P_UDP_PROBE] = 90,
	[P_ICMP_ECHO] = 40, [P_IPV6_SCAN] = 40, [P_NOT_DARK] = 40, [P_NON_IP] = 10,
	[P_MALFORMED] = 30,
};

static const char *const population_names[P_COUNT] = {
	[P_MIRAI] = "mirai", [P_CONNECT_SCAN] = "connect", [P_MASSCAN] = "masscan",
	[P_ZMAP] = "zmap", [P_NMAP] = "nmap", [P_UNICORN] = "unicorn",
	[P_BACKSCATTER] = "backscatter", [P_UDP_PROBE] = "udp", [P_ICMP_ECHO] = "icmp",
	[P_IPV6_SCAN] = "ipv6", [P_NOT_DARK] = "not-dark", [P_NON_IP] = "non-ip",
	[P_MALFORMED] = "malformed",
};

int
population_by_name(const char *name, size_t len)
{
	unsigned int p;

	for (p = 0; p < P_COUNT; p++)
		if (strlen(population_names[p]) == len &&
				strncmp(population_names[p], name, len) == 0)
			return (int)p;
	return -1;
}

/* --- countries (libmaxminddb) --- */

int
country_index(const char *cc)
{
	if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

int
country_of(const struct countries *c, int family, const uint8_t *addr)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	char cc[3];
	int err;

	if (!c->open || family == 0)
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
	r = MMDB_lookup_sockaddr(&c->db, (struct sockaddr *)&ss, &err);
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

/* --- addresses --- */

static void
random_in_prefix(struct rng *rng, const struct prefix *p, uint8_t *out)
{
	unsigned int bytes = p->family == 4 ? 4 : 16, i;

	for (i = 0; i < bytes; i++) {
		uint8_t r = (uint8_t)rng_next(rng);
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

static bool
is_dark(const struct scenario *sc, int family, const uint8_t *a)
{
	unsigned int s, k;

	for (s = 0; s < sc->n_sensors; s++)
		for (k = 0; k < sc->sensors[s].n_prefixes; k++)
			if (prefix_contains(&sc->sensors[s].prefixes[k], family, a))
				return true;
	return false;
}

int
dark_destination(struct gen *g, int family, uint8_t *out)
{
	const struct scenario *sc = &g->sc;
	unsigned int tries, s, k;

	for (tries = 0; tries < 64; tries++) {
		s = rng_below(&g->rng, sc->n_sensors);
		if ((family == 4 && !sc->sensors[s].has_v4) ||
				(family == 6 && !sc->sensors[s].has_v6))
			continue;
		do {
			k = rng_below(&g->rng, sc->sensors[s].n_prefixes);
		} while (sc->sensors[s].prefixes[k].family != family);
		random_in_prefix(&g->rng, &sc->sensors[s].prefixes[k], out);
		return (int)s;
	}
	return -1;
}

void
destination_in(struct gen *g, int s, uint8_t *out)
{
	const struct sensor *x = &g->sc.sensors[s];
	unsigned int k;

	do {
		k = rng_below(&g->rng, x->n_prefixes);
	} while (x->prefixes[k].family != 4);
	random_in_prefix(&g->rng, &x->prefixes[k], out);
}

/* A public-looking IPv4 source outside every darknet and outside 0/8, 10/8, 127/8. */
static uint32_t
random_source4(struct gen *g)
{
	for (;;) {
		uint32_t a = (uint32_t)rng_next(&g->rng);
		uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a };

		if (b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224)
			continue;
		if (!is_dark(&g->sc, 4, b))
			return a;
	}
}

/* --- sources --- */

/*
 * A source in country @p want (>= 0), or anywhere known but home (-1), by
 * drawing addresses until the database agrees: real allocations, so the
 * countries and their address blocks look as on a real telescope.
 * @return 0, or -ENOENT when the database seems to have no such address.
 */
static int
source_in(struct gen *g, int want, uint32_t *out)
{
	int home = country_index(g->countries.home_cc);
	uint32_t tries;

	for (tries = 0; tries < SOURCE_TRIES; tries++) {
		uint32_t a = random_source4(g);
		uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
			(uint8_t)a };
		int c = country_of(&g->countries, 4, b);

		if (want >= 0 ? c == want : c != home && c != COUNTRY_ZZ) {
			*out = a;
			return 0;
		}
	}
	return -ENOENT;
}

static int
init_bot(struct gen *g, struct bot *b, int want)
{
	if (g->countries.open) {
		if (source_in(g, want, &b->src) != 0)
			return -ENOENT;
	} else {
		b->src = random_source4(g);
	}
	b->sport = (uint16_t)(1024 + rng_below(&g->rng, 60000));
	b->window = (uint16_t)(5000 + rng_below(&g->rng, 60000));
	b->ttl = (uint8_t)(30 + rng_below(&g->rng, 35));
	return 0;
}

/* Home with --home-share's odds (a draw only with --geoip), else anywhere but home. */
static int
home_or_abroad(struct gen *g)
{
	return g->countries.open && rng_below(&g->rng, 1000) < g->sc.home_share ?
		country_index(g->countries.home_cc) : -1;
}

int
sources_draw(struct gen *g)
{
	const char *cc = g->countries.home_cc, *db = g->sc.geoip_path;
	struct sources *src = &g->sources;
	struct events *ev = &g->events;
	unsigned int s, p;

	src->bots = calloc(g->sc.n_bots, sizeof(*src->bots));
	if (src->bots == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return -ENOMEM;
	}
	for (s = 0; s < g->sc.n_bots; s++) {
		int want = home_or_abroad(g);

		if (init_bot(g, &src->bots[s], want) != 0) {
			fprintf(stderr, "teiten-gen: no %s source found in %s\n",
				want >= 0 ? cc : "foreign", db);
			return -ENOENT;
		}
	}
	for (s = 0; ev->ramp.country >= 0 && s < RAMP_BOTS; s++)
		if (init_bot(g, &src->ramp_bots[s], ev->ramp.country) != 0) {
			fprintf(stderr, "teiten-gen: --ramp: no source of that country in %s\n",
				db);
			return -ENOENT;
		}
	/* after every other draw, so scenarios without --dos stay as they were */
	for (p = 0; p < ev->n_attacks; p++) {
		struct attack *a = &ev->attacks[p];

		a->victims = calloc(a->n_victims, sizeof(*a->victims));
		if (a->victims == NULL) {
			fprintf(stderr, "teiten-gen: out of memory\n");
			return -ENOMEM;
		}
		for (s = 0; s < a->n_victims; s++) {
			int want = home_or_abroad(g);

			if (init_bot(g, &a->victims[s], want) != 0) {
				fprintf(stderr, "teiten-gen: --dos: no %s source found in %s\n",
					want >= 0 ? cc : "foreign", db);
				return -ENOENT;
			}
		}
	}
	/* after every other draw, so scenarios without it stay as they were */
	if (ev->home_surge_set) {
		src->home_bots = calloc(HOME_SURGE_BOTS, sizeof(*src->home_bots));
		if (src->home_bots == NULL) {
			fprintf(stderr, "teiten-gen: out of memory\n");
			return -ENOMEM;
		}
		for (s = 0; s < HOME_SURGE_BOTS; s++)
			if (init_bot(g, &src->home_bots[s], country_index(cc)) != 0) {
				fprintf(stderr, "teiten-gen: --home-mirai-surge: no %s source found "
					"in %s\n", cc, db);
				return -ENOENT;
			}
	}
	return 0;
}

void
sources_free(struct gen *g)
{
	unsigned int p;

	for (p = 0; p < g->events.n_attacks; p++) {
		free(g->events.attacks[p].victims);
		g->events.attacks[p].victims = NULL;
	}
	free(g->sources.bots);
	free(g->sources.home_bots);
	g->sources.bots = NULL;
	g->sources.home_bots = NULL;
}

const struct bot *
pick_bot(struct gen *g, const struct packet_events *now)
{
	if (g->events.ramp.country >= 0 && rng_below(&g->rng, 1000) < now->ramp_permille)
		return &g->sources.ramp_bots[rng_below(&g->rng, RAMP_BOTS)];
	return &g->sources.bots[rng_below(&g->rng, g->sc.n_bots)];
}

/* --- what each population sends --- */

/*
 * Backscatter from @p b: a SYN-ACK or RST from a web port, or an ICMP port
 * unreachable quoting the spoofed packet.
 */
void
build_backscatter(struct gen *g, struct frame *f, const struct bot *b, bool vlan)
{
	struct rng *rng = &g->rng;
	uint8_t dst[16];
	uint32_t d4, ip;
	uint16_t dport;

	f->sensor = dark_destination(g, 4, dst);
	d4 = be32(dst);
	f->klass = C_BACKSCATTER;
	ethernet(f, rng, 0x0800, vlan);
	if (rng_below(rng, 5) == 0) {
		/* ICMP port unreachable quoting the spoofed packet */
		ip = ipv4_header(f, (uint16_t)rng_next(rng), 60, 1, b->src, d4);
		put8(f, 3);
		put8(f, 3);
		put16(f, 0);
		put32(f, 0);
		ipv4_header(f, (uint16_t)rng_next(rng), 50, 17, d4, b->src);
		f->bytes[f->len - 18] = 0;
		f->bytes[f->len - 17] = 28;  /* quoted total length */
		put16(f, (uint16_t)rng_next(rng));
		put16(f, 53);
		put16(f, 8);
		put16(f, 0);
		ipv4_finish(f, ip);
		set_service(f, "icmp", 0);
	} else {
		bool rst = rng_below(rng, 4) == 0;

		dport = (uint16_t)(1024 + rng_below(rng, 60000));
		ip = ipv4_header(f, (uint16_t)rng_next(rng), 55, 6, b->src, d4);
		/*
		 * Three draws in one call's arguments: their order is the
		 * compiler's, and the captures' bytes depend on it.
		 */
		tcp_header(f, rng_below(rng, 2) ? 80 : 443, dport, (uint32_t)rng_next(rng),
			(uint32_t)rng_next(rng), rst ? 0x14 : 0x12, rst ? 0 : 29200,
			rst ? NULL : mss_1460, rst ? 0 : 4);
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		set_service(f, "tcp", dport);
	}
}

/* The population of the next packet, by --weight. One draw. */
enum population
population_draw(struct gen *g)
{
	uint32_t r = rng_below(&g->rng, g->sc.weight_total);
	unsigned int p;

	for (p = 0; r >= g->sc.weights[p]; p++)
		r -= g->sc.weights[p];
	return (enum population)p;
}

void
population_build(struct gen *g, enum population pop, const struct packet_events *now,
		struct frame *f)
{
	static const uint16_t telnet_ports[] = { 23, 23, 23, 22, 2323, 80, 8080 };
	static const uint16_t scan_ports[] = { 80, 443, 3389, 6379, 8080, 445, 5555, 8728 };
	static const uint16_t udp_ports[] = { 53, 123, 161, 5060 };
	static const uint8_t os_opts[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
	};
	static const uint16_t nmap_windows[] = { 1024, 2048, 3072, 4096 };
	struct rng *rng = &g->rng;
	const struct bot *b = pick_bot(g, now);
	bool vlan = rng_below(rng, 10) == 0;
	uint8_t dst[16], src6[16];
	uint32_t d4, seq, ip;
	uint16_t id, dport;

	memset(f, 0, sizeof(*f));
	f->sensor = -1;
	f->klass = C_OTHER;
	switch (pop) {
	case P_MIRAI:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		/* 9 of 10 to 23/TCP, 1 to 2323/TCP; seq is the destination */
		dport = rng_below(rng, 10) == 0 ? 2323 : 23;
		if (now->mirai_port && rng_below(rng, 5) == 0)
			dport = (uint16_t)g->events.mirai_port;
		id = (uint16_t)rng_next(rng);
		build_syn4(f, rng, b, d4, dport, d4, id, b->window, NULL, 0, b->ttl, vlan);
		f->klass = C_MIRAI;
		break;
	case P_CONNECT_SCAN:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		dport = telnet_ports[rng_below(rng, 7)];
		build_plain_syn4(f, rng, b, d4, dport, os_opts, 20, vlan);
		break;
	case P_MASSCAN:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		dport = scan_ports[rng_below(rng, 8)];
		do {
			seq = (uint32_t)rng_next(rng);
		} while (seq == d4);
		id = (uint16_t)((d4 ^ dport ^ seq) & 0xffff);
		build_syn4(f, rng, b, d4, dport, seq, id, 1024, NULL, 0, 250, vlan);
		f->klass = C_MASSCAN;
		break;
	case P_ZMAP:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		f->klass = C_ZMAP;
		switch (rng_below(rng, 3)) {
		case 0:
			dport = scan_ports[rng_below(rng, 8)];
			seq = (uint32_t)rng_next(rng);
			id = ZMAP_IP_ID;
			avoid_syn_fingerprints(rng, d4, dport, &seq, &id, true);
			build_syn4(f, rng, b, d4, dport, seq, id, 65535, NULL, 0, 255, vlan);
			break;
		case 1:
			ethernet(f, rng, 0x0800, vlan);
			ip = ipv4_header(f, ZMAP_IP_ID, 255, 17, b->src, d4);
			dport = udp_ports[rng_below(rng, 4)];
			put16(f, b->sport);
			put16(f, dport);
			put16(f, 8 + 4);
			put16(f, 0);
			put32(f, (uint32_t)rng_next(rng));
			ipv4_finish(f, ip);
			pad_to_minimum(f);
			set_service(f, "udp", dport);
			break;
		default:
			ethernet(f, rng, 0x0800, vlan);
			ip = ipv4_header(f, ZMAP_IP_ID, 255, 1, b->src, d4);
			put8(f, 8);
			put8(f, 0);
			put16(f, 0);
			put32(f, (uint32_t)rng_next(rng));
			ipv4_finish(f, ip);
			pad_to_minimum(f);
			set_service(f, "icmp", 0);
			break;
		}
		break;
	case P_NMAP:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		dport = scan_ports[rng_below(rng, 8)];
		seq = (uint32_t)rng_next(rng);
		id = (uint16_t)rng_next(rng);
		avoid_syn_fingerprints(rng, d4, dport, &seq, &id, false);
		/* two draws in one call's arguments, in the compiler's order */
		build_syn4(f, rng, b, d4, dport, seq, id, nmap_windows[rng_below(rng, 4)],
			mss_1460, 4, (uint8_t)(37 + rng_below(rng, 23)), vlan);
		f->klass = C_NMAP;
		break;
	case P_UNICORN:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		dport = scan_ports[rng_below(rng, 8)];
		seq = (uint32_t)rng_next(rng);
		id = (uint16_t)rng_next(rng);
		avoid_syn_fingerprints(rng, d4, dport, &seq, &id, false);
		build_syn4(f, rng, b, d4, dport, seq, id, 4128, mss_1460, 4,
			(uint8_t)(200 + rng_below(rng, 56)), vlan);
		f->klass = C_UNICORN;
		break;
	case P_BACKSCATTER:
		build_backscatter(g, f, b, vlan);
		break;
	case P_UDP_PROBE:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		dport = udp_ports[rng_below(rng, 4)];
		build_udp4(f, rng, b, d4, dport, 4, vlan);
		break;
	case P_ICMP_ECHO:
		f->sensor = dark_destination(g, 4, dst);
		d4 = be32(dst);
		ethernet(f, rng, 0x0800, vlan);
		ip = ipv4_header(f, non_zmap_id(rng), 50, 1, b->src, d4);
		put8(f, 8);
		put8(f, 0);
		put16(f, 0);
		put32(f, (uint32_t)rng_next(rng));
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		set_service(f, "icmp", 0);
		break;
	case P_IPV6_SCAN:
		f->sensor = dark_destination(g, 6, dst);
		if (f->sensor < 0) {
			population_build(g, P_CONNECT_SCAN, now, f);
			return;
		}
		f->v6 = true;
		src6[0] = 0x24;
		src6[1] = 0x0e;
		for (ip = 2; ip < 16; ip++)
			src6[ip] = (uint8_t)rng_next(rng);
		ethernet(f, rng, 0x86dd, vlan);
		ip = ipv6_header(f, 6, 57, src6, dst);
		dport = telnet_ports[rng_below(rng, 7)];
		tcp_header(f, b->sport, dport, (uint32_t)rng_next(rng), 0, 0x02, 28800, os_opts, 20);
		ipv6_finish(f, ip);
		set_service(f, "tcp", dport);
		break;
	case P_NOT_DARK:
		d4 = random_source4(g);
		ethernet(f, rng, 0x0800, vlan);
		ip = ipv4_header(f, (uint16_t)rng_next(rng), 50, 17, b->src, d4);
		put16(f, b->sport);
		put16(f, 53);
		put16(f, 8);
		put16(f, 0);
		ipv4_finish(f, ip);
		pad_to_minimum(f);
		break;
	case P_NON_IP:
		ethernet(f, rng, 0x0806, false);
		put32(f, 0x00010800);
		put32(f, 0x06040001);
		pad_to_minimum(f);
		f->non_ip = true;
		break;
	case P_MALFORMED:
		f->malformed = true;
		switch (rng_below(rng, 4)) {
		case 0:         /* under 14 bytes: not attributable */
			ethernet(f, rng, 0x0800, false);
			f->len = 12;
			f->non_ip = true;
			break;
		case 1:         /* TCP cut to 8 bytes: ports, no fingerprint */
			f->sensor = dark_destination(g, 4, dst);
			d4 = be32(dst);
			ethernet(f, rng, 0x0800, false);
			ip = ipv4_header(f, (uint16_t)rng_next(rng), 50, 6, b->src, d4);
			put16(f, b->sport);
			put16(f, 23);
			put32(f, d4);
			ipv4_finish(f, ip);
			set_service(f, "tcp", 23);
			break;
		case 2:         /* IHL 4: protocol known, no port */
			f->sensor = dark_destination(g, 4, dst);
			d4 = be32(dst);
			ethernet(f, rng, 0x0800, false);
			ip = ipv4_header(f, (uint16_t)rng_next(rng), 50, 17, b->src, d4);
			put16(f, 1);
			put16(f, 53);
			put16(f, 8);
			put16(f, 0);
			ipv4_finish(f, ip);
			f->bytes[ip] = 0x44;
			set_service(f, "udp", 70000);
			break;
		default:        /* Mirai with a data offset past the payload */
			f->sensor = dark_destination(g, 4, dst);
			d4 = be32(dst);
			build_syn4(f, rng, b, d4, 23, d4, (uint16_t)rng_next(rng), b->window, NULL,
				0, b->ttl, false);
			f->bytes[14 + 20 + 12] = 0x60; /* data offset 24 bytes, 20 present */
			f->klass = C_MIRAI;
			break;
		}
		break;
	default:
		break;
	}
}
