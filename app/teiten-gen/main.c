/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * teiten-gen: writes a pcap of darknet traffic, deterministically from a
 * seed, and beside it the exact ground truth of what it wrote, in the shape
 * of teiten's --summary (so a test compares the two key by key).
 *
 * Sources: a population of bots and scanners (--sources), drawn with a
 * country database (--geoip) from real allocations, a share of them at home
 * (--home, --home-share).
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
 * Offline tool: plain C and libmaxminddb, no DPDK. This file owns the
 * command line (every option's parser fills struct gen's scenario and
 * events), the order of the run (sources, then each packet's frame into the
 * pcap and the truth, then the truth file and the config), and the config;
 * gen.h says which file owns the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

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
parse_sensor(struct scenario *sc, const char *arg)
{
	struct sensor *s = &sc->sensors[sc->n_sensors];
	const char *eq = strchr(arg, '=');
	char list[512], *tok, *save = NULL;

	if (sc->n_sensors == MAX_SENSORS || eq == NULL || eq == arg || eq - arg > 32)
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
	sc->n_sensors++;
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
	int p;

	if (eq == NULL || parse_u64(eq + 1, &w) != 0 || w > 100000)
		return -EINVAL;
	p = population_by_name(arg, (size_t)(eq - arg));
	if (p < 0)
		return -EINVAL;
	weights[p] = (unsigned int)w;
	return 0;
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

/* SCOPE:PROTO/PORT:FROM:SECONDS:PERMILLE; SCOPE is a sensor given before, or "all". */
static int
parse_surge(struct gen *g, const char *arg)
{
	struct events *ev = &g->events;
	struct surge *e = &ev->surges[ev->n_surges];
	char buf[128], *f[5];
	uint64_t port;
	unsigned int s;

	if (ev->n_surges == MAX_SURGES || split_fields(arg, buf, sizeof(buf), f, 5) != 0)
		return -EINVAL;
	e->sensor = -2;
	if (strcmp(f[0], "all") == 0)
		e->sensor = -1;
	for (s = 0; s < g->sc.n_sensors; s++)
		if (strcmp(g->sc.sensors[s].name, f[0]) == 0)
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
	ev->n_surges++;
	return 0;
}

/* VICTIMS:FROM:SECONDS:PERMILLE */
static int
parse_dos(struct events *ev, const char *arg)
{
	struct attack *a = &ev->attacks[ev->n_attacks];
	char buf[128], *f[4];
	uint64_t n;

	if (ev->n_attacks == MAX_ATTACKS || split_fields(arg, buf, sizeof(buf), f, 4) != 0 ||
			parse_u64(f[0], &n) != 0 || n == 0 || n > 65536 ||
			parse_window(f + 1, &a->when) != 0)
		return -EINVAL;
	a->n_victims = (uint32_t)n;
	ev->n_attacks++;
	return 0;
}

/* FROM:SECONDS:PERMILLE */
static int
parse_home_mirai_surge(struct events *ev, const char *arg)
{
	char buf[96], *f[3];

	if (ev->home_surge_set || split_fields(arg, buf, sizeof(buf), f, 3) != 0 ||
			parse_window(f, &ev->home_surge) != 0)
		return -EINVAL;
	ev->home_surge_set = true;
	return 0;
}

/* CC:FROM:TO */
static int
parse_ramp(struct events *ev, const char *arg)
{
	char buf[64], *f[3];
	uint64_t a, b;

	if (split_fields(arg, buf, sizeof(buf), f, 3) != 0 || country_index(f[0]) < 0 ||
			parse_u64(f[1], &a) != 0 || parse_u64(f[2], &b) != 0 || a > 1000 || b > 1000)
		return -EINVAL;
	ev->ramp.country = country_index(f[0]);
	ev->ramp.from = (uint32_t)a;
	ev->ramp.to = (uint32_t)b;
	return 0;
}

/* PORT:FROM */
static int
parse_mirai_port(struct events *ev, const char *arg)
{
	char buf[64], *f[2];
	uint64_t port, from;

	if (split_fields(arg, buf, sizeof(buf), f, 2) != 0 || parse_u64(f[0], &port) != 0 ||
			port == 0 || port > 65535 || parse_u64(f[1], &from) != 0)
		return -EINVAL;
	ev->mirai_port = (int)port;
	ev->mirai_port_from = from;
	return 0;
}

/* The defaults of every option. */
static void
gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->sc.packets = 10000;
	g->sc.seed = 1;
	g->sc.start = 1704067200;
	g->sc.span = 3600;
	g->sc.n_bots = 256;
	memcpy(g->sc.weights, default_weights, sizeof(g->sc.weights));
	g->events.ramp.country = -1;
	g->events.mirai_port = -1;
	snprintf(g->countries.home_cc, sizeof(g->countries.home_cc), "JP");
}

/* What gen_init(), the options and the run left open. */
static void
gen_fini(struct gen *g)
{
	sources_free(g);
	if (g->countries.open)
		MMDB_close(&g->countries.db);
	g->countries.open = false;
}

/*
 * The options into @p g, each checked as it comes, then together.
 * @return 0, or 2 (the exit status) after saying what is wrong.
 */
static int
parse_options(struct gen *g, int argc, char **argv)
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
	struct scenario *sc = &g->sc;
	struct countries *cn = &g->countries;
	uint64_t v;
	unsigned int p;
	int c, rc, li = 0;

	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		rc = 0;
		switch (c) {
		case 'n':
			if (parse_sensor(sc, optarg) != 0) {
				fprintf(stderr, "teiten-gen: --sensor %s: expected NAME=PREFIX[+PREFIX] "
					"with an IPv4 prefix of /8 or longer\n", optarg);
				return 2;
			}
			break;
		case 'o': sc->out_path = optarg; break;
		case 't': sc->truth_path = optarg; break;
		case 'c': sc->config_path = optarg; break;
		case 'p': rc = parse_u64(optarg, &sc->packets); break;
		case 's': rc = parse_u64(optarg, &sc->seed); break;
		case 'b': rc = parse_u64(optarg, &sc->start); break;
		case 'd': rc = parse_u64(optarg, &sc->span); break;
		case 'S':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && (v == 0 || v > 1000000))
				rc = -EINVAL;
			sc->n_bots = (uint32_t)v;
			break;
		case 'g':
			if (cn->open)           /* the last --geoip given counts */
				MMDB_close(&cn->db);
			cn->open = false;
			/* a buffer of its own: the config written at the end names it */
			sc->geoip_path = realpath(optarg, sc->geoip_buf);
			if (sc->geoip_path == NULL || MMDB_open(sc->geoip_path, MMDB_MODE_MMAP,
					&cn->db) != MMDB_SUCCESS) {
				fprintf(stderr, "teiten-gen: --geoip %s: not a readable MaxMind DB\n",
					optarg);
				return 2;
			}
			cn->open = true;
			break;
		case 'H':
			if (country_index(optarg) < 0) {
				fprintf(stderr, "teiten-gen: --home %s: expected a two-letter "
					"upper-case country code\n", optarg);
				return 2;
			}
			snprintf(cn->home_cc, sizeof(cn->home_cc), "%s", optarg);
			break;
		case 'm':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && v > 1000)
				rc = -EINVAL;
			sc->home_share = (uint32_t)v;
			break;
		case 'w': rc = parse_weight(optarg, sc->weights); break;
		case 'u': rc = parse_surge(g, optarg); break;
		case 'r': rc = parse_ramp(&g->events, optarg); break;
		case 'M': rc = parse_mirai_port(&g->events, optarg); break;
		case 'D': rc = parse_dos(&g->events, optarg); break;
		case 'E': rc = parse_home_mirai_surge(&g->events, optarg); break;
		case 'J':
			rc = parse_u64(optarg, &v);
			if (rc == 0 && v > 900)
				rc = -EINVAL;
			sc->diurnal = (double)v / 1000;
			break;
		case 'f': sc->flood = true; break;
		case 'F': sc->flood = sc->flood_mirai = true; break;
		case 'y': sc->day_truth = true; break;
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
		sc->weight_total += sc->weights[p];
	if (sc->n_sensors == 0 || sc->out_path == NULL || sc->truth_path == NULL ||
			sc->packets == 0 || sc->span == 0 || sc->weight_total == 0) {
		usage();
		return 2;
	}
	if ((sc->home_share != 0 || g->events.ramp.country >= 0 || g->events.home_surge_set) &&
			!cn->open) {
		fprintf(stderr, "teiten-gen: --home-share, --ramp and --home-mirai-surge need "
			"--geoip\n");
		return 2;
	}
	return 0;
}

/* --- the run --- */

/* A teiten config for the capture: every sensor on port 0. */
static int
write_config(const struct gen *g, const char *path, const char *id)
{
	FILE *f = fopen(path, "w");
	unsigned int s, k;

	if (f == NULL)
		return -errno;
	fprintf(f, "; written by teiten-gen for the capture it generated\n"
		"[appliance]\nid = %s\nhome_country = %s\nclock = auto\n", id,
		g->countries.home_cc);
	if (g->sc.geoip_path != NULL)
		fprintf(f, "geoip_db = %s\n", g->sc.geoip_path);
	for (s = 0; s < g->sc.n_sensors; s++) {
		const struct sensor *x = &g->sc.sensors[s];

		fprintf(f, "\n[sensor %s]\nport = 0\n", x->name);
		for (k = 0; k < x->n_prefixes; k++) {
			char a[INET6_ADDRSTRLEN];
			const struct prefix *p = &x->prefixes[k];

			inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
			fprintf(f, "prefixes = %s/%u\n", a, p->len);
		}
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

/*
 * Packet @p i's frame, @p sec seconds after --start: a flood's, an event's
 * when one takes the packet, else its population's. The population is drawn
 * for every packet, taken by an event or not.
 */
static void
build_packet(struct gen *g, uint64_t i, uint64_t sec, struct frame *f)
{
	struct packet_events now;
	enum population pop;

	events_at(g, sec, &now);
	pop = population_draw(g);
	if (g->sc.flood)
		build_flood(g, i, f);
	else if (now.surge != NULL)
		build_surge(g, now.surge, &now, f);
	else if (now.attack != NULL)
		build_attack(g, now.attack, f);
	else if (now.home_mirai)
		build_home_mirai(g, f);
	else
		population_build(g, pop, &now, f);
}

/* Every packet into the pcap and the truth. @return 0, or 1 after saying why. */
static int
write_capture(struct gen *g, struct truth *truth)
{
	const struct scenario *sc = &g->sc;
	struct frame f;
	FILE *pcap;
	uint64_t i;

	pcap = fopen(sc->out_path, "wb");
	if (pcap == NULL || pcap_header(pcap) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", sc->out_path, strerror(errno));
		if (pcap != NULL)
			fclose(pcap);
		return 1;
	}
	for (i = 0; i < sc->packets; i++) {
		uint64_t usec = packet_usec(sc, i);

		build_packet(g, i, usec / 1000000 - sc->start, &f);
		if (pcap_record(pcap, usec, &f) != 0 ||
				truth_account(truth, g, &f, usec / 1000000) != 0) {
			fprintf(stderr, "teiten-gen: %s: write failed\n", sc->out_path);
			fclose(pcap);
			return 1;
		}
	}
	if (fclose(pcap) != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", sc->out_path, strerror(errno));
		return 1;
	}
	return 0;
}

/* @return the exit status: 0, or 1 after saying what failed. */
static int
run(struct gen *g)
{
	const struct scenario *sc = &g->sc;
	struct truth *truth;
	FILE *truth_out;
	int rc = 1;

	g->rng.state = sc->seed;
	if (sources_draw(g) != 0)
		return 1;
	truth = truth_create(g);
	if (truth == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	if (write_capture(g, truth) != 0)
		goto out_free_truth;
	truth_out = fopen(sc->truth_path, "w");
	if (truth_out == NULL) {
		fprintf(stderr, "teiten-gen: %s: %s\n", sc->truth_path, strerror(errno));
		goto out_free_truth;
	}
	if (truth_write(truth, g, truth_out) != 0) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		fclose(truth_out);
		goto out_free_truth;
	}
	if (fclose(truth_out) != 0)
		goto out_free_truth;
	if (sc->config_path != NULL && write_config(g, sc->config_path, "gen-1") != 0) {
		fprintf(stderr, "teiten-gen: %s: %s\n", sc->config_path, strerror(errno));
		goto out_free_truth;
	}
	rc = 0;

out_free_truth:
	truth_free(truth);
	return rc;
}

int
main(int argc, char **argv)
{
	struct gen *g = malloc(sizeof(*g));
	int rc;

	if (g == NULL) {
		fprintf(stderr, "teiten-gen: out of memory\n");
		return 1;
	}
	gen_init(g);
	rc = parse_options(g, argc, argv);
	if (rc == 0)
		rc = run(g);
	gen_fini(g);
	free(g);
	return rc;
}
