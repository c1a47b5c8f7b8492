/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Truth: every frame written, counted as teiten's --summary counts it, and
 * the truth JSON the tests hold teiten's figures against key by key. The
 * counts come from what each frame was built to be (its sensor, service and
 * class), never from parsing it back: the generator shares no code with
 * teiten's parser or classifier. Countries come from libmaxminddb's own
 * lookup of each frame's source, not from teiten's tables.
 *
 * struct truth owns every table here (scopes, distinct sources, DoS victims,
 * hour buckets, day rankings); main.c holds it for the run and frees it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

enum {
	VICTIM_MIN_PKTS = 25,          /* DESIGN.md section 7, dos_victim */
	VICTIM_MIN_SECONDS = 60,
	VICTIM_MIN_PER_MINUTE = 30,
};

static const char *const class_names[C_COUNT] = {
	"other", "backscatter", "mirai", "masscan", "zmap", "nmap", "unicorn",
};

/* Distinct sources of a scope: open addressing on the address. */
struct source_entry {
	uint8_t addr[16];
	uint8_t family;                /* 0: empty */
	bool home;
	bool mirai;                    /* sent a Mirai-type packet */
	bool nonmirai;                 /* sent a packet that is not Mirai-type */
	/* backscatter sent, for the victims truth (the "all" set only) */
	bool victim;
	uint32_t bs_first, bs_last, bs_pkts;
	uint32_t victim_day;           /* UTC day of its latest victims record */
	uint64_t victim_rec;           /* that record, + 1; 0: none */
};

struct source_set {
	struct source_entry *e;
	uint64_t mask;
	uint64_t used;
};

/* A victim's packets on one UTC day, as the day's victims set scores them. */
struct victim_rec {
	uint8_t addr[16];
	uint8_t family;
	uint32_t day;
	uint64_t pkts;
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

/* One scope (a sensor, or all of them): its totals, countries, services, sources. */
struct scope {
	const char *name;
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

struct truth {
	uint64_t packets, not_dark, malformed, non_ip;     /* every frame written */
	struct scope *sensors;         /* [n_sensors] */
	unsigned int n_sensors;
	struct source_set *all_srcs;   /* the "all" scope's, with the backscatter senders */
	struct victim_rec *victims;    /* in time order, so by day */
	uint64_t n_victims, cap_victims;
	struct hour_truth *hours;      /* [hour * (n_sensors + 1) + scope], scope 0 = all */
	uint64_t n_hours, first_hour;  /* first_hour: UTC seconds of the first bucket */
	bool day_truth;                /* --day-truth: the day tables below are kept */
	struct day_cell *day_cells;    /* open addressing, grown at half full */
	uint64_t day_mask, day_used;
	/*
	 * Distinct sources per UTC day over every sensor, [day - first_day]: all
	 * of them, and those with a 23/TCP packet (the Telnet figures' unique
	 * sources).
	 */
	struct source_set **day_srcs, **day_telnet;
	uint64_t n_days, first_day;
};

/* --- scopes --- */

static struct service_count *
service_of(struct scope *s, uint32_t index)
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

/* --- distinct sources --- */

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
		*setp = set;
		set->mask = 1023;
		set->e = calloc(set->mask + 1, sizeof(*set->e));
		if (set->e == NULL)
			return -ENOMEM;
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
	e->nonmirai |= !mirai;
	return 0;
}

static void
source_set_free(struct source_set *set)
{
	if (set == NULL)
		return;
	free(set->e);
	free(set);
}

/*
 * The srcs variants teiten publishes (its lib/schema TT_SCHEMA_VARIANTS),
 * by key suffix, in the order source_counts() counts them. A home source
 * that sent both Mirai-type and other packets counts in both :home:mirai
 * and :home:nonmirai, as it does in teiten's HyperLogLogs.
 */
enum { SOURCE_VARIANTS = 5 };
static const char *const source_variants[SOURCE_VARIANTS] = {
	"", ":home", ":mirai", ":home:mirai", ":home:nonmirai",
};

/* A set's distinct sources per variant: all, home, Mirai-type, home and each kind. */
static void
source_counts(const struct source_set *set, uint64_t n[SOURCE_VARIANTS])
{
	uint64_t k;

	memset(n, 0, SOURCE_VARIANTS * sizeof(*n));
	for (k = 0; set != NULL && k <= set->mask; k++) {
		const struct source_entry *e = &set->e[k];

		if (e->family == 0)
			continue;
		n[0]++;
		n[1] += e->home;
		n[2] += e->mirai;
		n[3] += e->home && e->mirai;
		n[4] += e->home && e->nonmirai;
	}
}

/* --- hour buckets --- */

static void
hour_add(struct truth *t, uint64_t sec, unsigned int scope, const struct frame *f, bool home)
{
	uint64_t h = (sec - t->first_hour) / 3600;
	struct hour_truth *ht;

	if (h >= t->n_hours)
		return;
	ht = &t->hours[h * (t->n_sensors + 1) + scope];
	ht->pkts++;
	ht->home += home;
	ht->home_mirai += home && f->klass == C_MIRAI;
	ht->by_class[f->klass]++;
}

/* --- DoS victims --- */

/*
 * A backscatter packet from a source: DESIGN.md's DoS rule, applied as the
 * packets arrive. Once a sender qualifies, all its backscatter so far counts
 * on that day, and each later packet on its own day.
 */
static int
victim_note(struct truth *t, const uint8_t *addr, uint8_t family, uint32_t sec)
{
	struct source_entry *e = source_slot(t->all_srcs->e, t->all_srcs->mask, addr, family);
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
		if (t->n_victims == t->cap_victims) {
			uint64_t cap = t->cap_victims ? t->cap_victims * 2 : 64;

			r = realloc(t->victims, cap * sizeof(*r));
			if (r == NULL)
				return -ENOMEM;
			t->victims = r;
			t->cap_victims = cap;
		}
		r = &t->victims[t->n_victims++];
		memcpy(r->addr, addr, 16);
		r->family = family;
		r->day = day;
		r->pkts = 0;
		e->victim_day = day;
		e->victim_rec = t->n_victims;
	}
	t->victims[e->victim_rec - 1].pkts += add;
	return 0;
}

/* Did @p b pass the DoS rule (is it among the truth's victims)? */
static bool
is_victim(const struct truth *t, const struct bot *b)
{
	uint8_t a[4] = {
		(uint8_t)(b->src >> 24), (uint8_t)(b->src >> 16), (uint8_t)(b->src >> 8),
		(uint8_t)b->src,
	};
	uint64_t i;

	for (i = 0; i < t->n_victims; i++)
		if (t->victims[i].family == 4 && memcmp(t->victims[i].addr, a, 4) == 0)
			return true;
	return false;
}

/* --- day rankings and day sources (--day-truth) --- */

static struct day_cell *
day_slot(struct day_cell *cells, uint64_t mask, uint32_t day, uint16_t sensor, uint8_t dim,
		uint32_t member)
{
	uint64_t h = ((uint64_t)day << 40 ^ (uint64_t)sensor << 32 ^ (uint64_t)dim << 29 ^ member) *
		0x9e3779b97f4a7c15ull;
	uint64_t i = (h ^ (h >> 31)) & mask;

	while (cells[i].day != 0 && !(cells[i].day == day && cells[i].sensor == sensor &&
			cells[i].dim == dim && cells[i].member == member))
		i = (i + 1) & mask;
	return &cells[i];
}

/* Count one packet in a day cell, growing the table at half full. @return 0 or -ENOMEM. */
static int
day_add(struct truth *t, uint32_t day, uint16_t sensor, uint8_t dim, uint32_t member)
{
	struct day_cell *c;

	if (t->day_used * 2 >= t->day_mask) {
		uint64_t mask = t->day_mask ? t->day_mask * 2 + 1 : 65535, k;
		struct day_cell *cells = calloc(mask + 1, sizeof(*cells));

		if (cells == NULL)
			return -ENOMEM;
		for (k = 0; t->day_cells != NULL && k <= t->day_mask; k++)
			if (t->day_cells[k].day != 0)
				*day_slot(cells, mask, t->day_cells[k].day, t->day_cells[k].sensor,
					t->day_cells[k].dim, t->day_cells[k].member) =
					t->day_cells[k];
		free(t->day_cells);
		t->day_cells = cells;
		t->day_mask = mask;
	}
	c = day_slot(t->day_cells, t->day_mask, day, sensor, dim, member);
	if (c->day == 0) {
		c->day = day;
		c->sensor = sensor;
		c->dim = dim;
		c->member = member;
		t->day_used++;
	}
	c->pkts++;
	return 0;
}

static int
day_sources_note(struct truth *t, uint64_t sec, const uint8_t *src, uint8_t family, bool home,
		bool mirai, uint32_t service)
{
	uint64_t d = sec / 86400 - t->first_day;

	if (!t->day_truth || d >= t->n_days)
		return 0;
	if (source_note(&t->day_srcs[d], src, family, home, mirai) != 0 ||
			(service == 23 &&
			 source_note(&t->day_telnet[d], src, family, home, mirai) != 0))
		return -ENOMEM;
	return 0;
}

/* A packet's day cells: its service in the rankings it belongs to, its country. */
static int
day_note(struct truth *t, uint64_t sec, uint16_t sensor, uint32_t service, int country,
		bool home, bool mirai)
{
	uint32_t day = (uint32_t)(sec / 86400) + 1;   /* + 1: 0 marks an empty cell */

	if (!t->day_truth)
		return 0;
	if (day_add(t, day, sensor, DD_PORT, service) != 0 ||
			(home && day_add(t, day, sensor, DD_PORT_HOME, service) != 0) ||
			(mirai && day_add(t, day, sensor, DD_PORT_MIRAI, service) != 0) ||
			(home && mirai && day_add(t, day, sensor, DD_PORT_HOME_MIRAI, service) != 0) ||
			day_add(t, day, sensor, DD_COUNTRY, (uint32_t)country) != 0)
		return -ENOMEM;
	return 0;
}

/* --- the run --- */

struct truth *
truth_create(const struct gen *g)
{
	const struct scenario *sc = &g->sc;
	struct truth *t = calloc(1, sizeof(*t));
	unsigned int s;

	if (t == NULL)
		return NULL;
	t->n_sensors = sc->n_sensors;
	t->day_truth = sc->day_truth;
	t->sensors = calloc(sc->n_sensors, sizeof(*t->sensors));
	if (t->sensors == NULL)
		goto err_free_truth;
	for (s = 0; s < sc->n_sensors; s++)
		t->sensors[s].name = sc->sensors[s].name;
	t->first_hour = sc->start - sc->start % 3600;
	t->n_hours = (sc->start + sc->span - t->first_hour + 3599) / 3600;
	t->first_day = sc->start / 86400;
	t->n_days = (sc->start + sc->span + 86399) / 86400 - t->first_day;
	t->day_srcs = calloc(t->n_days, sizeof(*t->day_srcs));
	t->day_telnet = calloc(t->n_days, sizeof(*t->day_telnet));
	t->hours = calloc(t->n_hours * (t->n_sensors + 1), sizeof(*t->hours));
	if (t->day_srcs == NULL || t->day_telnet == NULL || t->hours == NULL)
		goto err_free_truth;
	return t;

err_free_truth:
	truth_free(t);
	return NULL;
}

void
truth_free(struct truth *t)
{
	unsigned int s;
	uint64_t d;

	if (t == NULL)
		return;
	for (s = 0; t->sensors != NULL && s < t->n_sensors; s++) {
		struct scope *x = &t->sensors[s];

		free(x->country_pkts);
		free(x->country_mirai);
		source_set_free(x->srcs);
		free(x->slot);
		free(x->services);
	}
	free(t->sensors);
	source_set_free(t->all_srcs);
	free(t->victims);
	free(t->hours);
	free(t->day_cells);
	for (d = 0; d < t->n_days; d++) {
		if (t->day_srcs != NULL)
			source_set_free(t->day_srcs[d]);
		if (t->day_telnet != NULL)
			source_set_free(t->day_telnet[d]);
	}
	free(t->day_srcs);
	free(t->day_telnet);
	free(t);
}

int
truth_account(struct truth *t, const struct gen *g, const struct frame *f, uint64_t sec)
{
	uint8_t src[16] = { 0 };
	struct scope *s;
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
	s = &t->sensors[f->sensor];
	memcpy(src, f->src, f->src_family == 4 ? 4 : 16);
	country = country_of(&g->countries, f->src_family, src);
	home = country == country_index(g->countries.home_cc);
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
			source_note(&t->all_srcs, src, f->src_family, home, mirai) != 0 ||
			(f->klass == C_BACKSCATTER &&
			 victim_note(t, src, f->src_family, (uint32_t)sec) != 0))
		return -ENOMEM;
	hour_add(t, sec, 0, f, home);
	hour_add(t, sec, (unsigned int)f->sensor + 1, f, home);
	if (day_note(t, sec, (uint16_t)f->sensor, f->service, country, home, mirai) != 0 ||
			day_sources_note(t, sec, src, f->src_family, home, mirai, f->service) != 0)
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

/*
 * The "all" scope, summed from the sensors'. Its distinct sources are
 * all_srcs, still the truth's; the rest is @p all's own (scope_release()).
 */
static int
merge_all(const struct truth *t, struct scope *all)
{
	unsigned int s, i, c;

	memset(all, 0, sizeof(*all));
	all->name = "all";
	all->srcs = t->all_srcs;
	for (s = 0; s < t->n_sensors; s++) {
		const struct scope *x = &t->sensors[s];

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

/* What merge_all() allocated; the sources set is the truth's. */
static void
scope_release(struct scope *all)
{
	free(all->country_pkts);
	free(all->country_mirai);
	free(all->slot);
	free(all->services);
}

/* --- the JSON --- */

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
json_scope(FILE *out, const struct scope *s, bool last)
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
json_sources(FILE *out, const struct truth *t, const struct scope *all)
{
	unsigned int s;

	fprintf(out, ",\n  \"sources\": {");
	for (s = 0; s <= t->n_sensors; s++) {
		const struct scope *x = s == 0 ? all : &t->sensors[s - 1];
		uint64_t n[SOURCE_VARIANTS];
		unsigned int i;

		source_counts(x->srcs, n);
		fprintf(out, "%s\n    \"%s\": {", s ? "," : "", x->name);
		for (i = 0; i < SOURCE_VARIANTS; i++)
			fprintf(out, "%s\"srcs%s\": %" PRIu64, i ? ", " : "", source_variants[i],
				n[i]);
		fprintf(out, "}");
	}
	fprintf(out, "\n  }");
}

/* "victims": per UTC day (YYYYMMDD, as Redis names the sets), address: packets. */
static void
json_victims(FILE *out, const struct truth *t)
{
	uint64_t i;
	uint32_t day = UINT32_MAX;

	fprintf(out, ",\n  \"victims\": {");
	for (i = 0; i < t->n_victims; i++) {
		const struct victim_rec *r = &t->victims[i];
		char a[INET6_ADDRSTRLEN], key[16];
		time_t when = (time_t)r->day * 86400;
		struct tm tm;

		if (r->day != day) {
			gmtime_r(&when, &tm);
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

/*
 * "events": each injected event as the alert it should raise. A surge at
 * one sensor is local, at every sensor broad (with two sensors or more); a
 * ramp is a country entering the top-N (rank); --mirai-port a
 * new_mirai_port; --dos one dos_victim per attacked host that passes the
 * rule ("home" when it is in the home country); --home-mirai-surge a
 * mirai_home_surge of the home country.
 */
static void
json_events(FILE *out, const struct truth *t, const struct gen *g)
{
	const struct events *ev = &g->events;
	const struct countries *cn = &g->countries;
	uint64_t start = g->sc.start, span = g->sc.span;
	const char *spread = g->sc.n_sensors > 1 ? "broad" : "local";
	char subject[INET6_ADDRSTRLEN];
	bool first = true;
	unsigned int e, v;

	fprintf(out, ",\n  \"events\": [");
	for (e = 0; e < ev->n_surges; e++) {
		const struct surge *x = &ev->surges[e];

		snprintf(subject, sizeof(subject), "%s/%u", x->udp ? "udp" : "tcp", x->port);
		json_event(out, &first, "surge",
			x->sensor >= 0 ? g->sc.sensors[x->sensor].name : "all", subject,
			x->sensor >= 0 ? "local" : spread, start + x->when.from,
			start + x->when.to);
	}
	if (ev->ramp.country >= 0) {
		snprintf(subject, sizeof(subject), "%c%c", 'A' + ev->ramp.country / 26,
			'A' + ev->ramp.country % 26);
		json_event(out, &first, "rank", "all", subject, "", start, start + span);
	}
	if (ev->mirai_port >= 0) {
		snprintf(subject, sizeof(subject), "tcp/%d", ev->mirai_port);
		json_event(out, &first, "new_mirai_port", "all", subject, "",
			start + ev->mirai_port_from, start + span);
	}
	for (e = 0; e < ev->n_attacks; e++)
		for (v = 0; v < ev->attacks[e].n_victims; v++) {
			const struct bot *b = &ev->attacks[e].victims[v];
			uint8_t a[16] = {
				(uint8_t)(b->src >> 24), (uint8_t)(b->src >> 16),
				(uint8_t)(b->src >> 8), (uint8_t)b->src,
			};

			if (!is_victim(t, b))
				continue;
			inet_ntop(AF_INET, a, subject, sizeof(subject));
			json_event(out, &first, "dos_victim", "all", subject,
				cn->open && country_of(cn, 4, a) == country_index(cn->home_cc) ?
				"home" : "",
				start + ev->attacks[e].when.from, start + ev->attacks[e].when.to);
		}
	if (ev->home_surge_set)
		json_event(out, &first, "mirai_home_surge", "all", cn->home_cc, spread,
			start + ev->home_surge.from, start + ev->home_surge.to);
	fprintf(out, "%s]", first ? "" : "\n  ");
}

/* "buckets": per UTC hour (h:YYYYMMDDHH, as Redis names them) and scope. */
static void
json_buckets(FILE *out, const struct truth *t)
{
	uint64_t h;
	unsigned int s;

	fprintf(out, ",\n  \"buckets\": {");
	for (h = 0; h < t->n_hours; h++) {
		time_t when = (time_t)(t->first_hour + h * 3600);
		struct tm tm;
		char key[24];

		gmtime_r(&when, &tm);
		strftime(key, sizeof(key), "h:%Y%m%d%H", &tm);
		fprintf(out, "%s\n    \"%s\": {", h ? "," : "", key);
		for (s = 0; s <= t->n_sensors; s++) {
			fprintf(out, "%s\"%s\": ", s ? ", " : "",
				s ? t->sensors[s - 1].name : "all");
			json_counts(out, &t->hours[h * (t->n_sensors + 1) + s]);
		}
		fprintf(out, "}");
	}
	fprintf(out, "\n  }");
}

/*
 * "day_sources": per UTC day, every sensor's distinct sources, exact, as the
 * day buckets' HyperLogLogs of the all scope estimate them (srcs, and
 * srcs:tcp/23 for 23/TCP: the F5 figure's srcs:tcp/23:home:mirai and
 * srcs:tcp/23:home:nonmirai), and as {src}:d:YYYYMMDD:mirai counts them.
 */
static void
json_day_sources(FILE *out, const struct truth *t)
{
	const char *const *v = source_variants;
	uint64_t d, n[SOURCE_VARIANTS], tn[SOURCE_VARIANTS];
	unsigned int i;
	bool first = true;

	fprintf(out, ",\n  \"day_sources\": {");
	for (d = 0; d < t->n_days; d++) {
		time_t when = (time_t)(t->first_day + d) * 86400;
		struct tm tm;
		char key[16];

		if (t->day_srcs[d] == NULL)
			continue;
		gmtime_r(&when, &tm);
		strftime(key, sizeof(key), "d:%Y%m%d", &tm);
		source_counts(t->day_srcs[d], n);
		source_counts(t->day_telnet[d], tn);
		fprintf(out, "%s\n    \"%s\": {", first ? "" : ",", key);
		for (i = 0; i < SOURCE_VARIANTS; i++)
			fprintf(out, "%s\"srcs%s\": %" PRIu64, i ? ", " : "", v[i], n[i]);
		for (i = 0; i < SOURCE_VARIANTS; i++)
			fprintf(out, ", \"srcs:tcp/23%s\": %" PRIu64, v[i], tn[i]);
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
json_days(FILE *out, const struct truth *t)
{
	struct day_cell *v = calloc(t->day_used + 1, sizeof(*v));
	uint64_t k, n = 0;
	char name[16];

	if (v == NULL)
		return -ENOMEM;
	for (k = 0; t->day_cells != NULL && k <= t->day_mask; k++)
		if (t->day_cells[k].day != 0)
			v[n++] = t->day_cells[k];
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
			time_t when = (time_t)(c->day - 1) * 86400;
			struct tm tm;
			char key[16];

			gmtime_r(&when, &tm);
			strftime(key, sizeof(key), "d:%Y%m%d", &tm);
			fprintf(out, "%s\n    \"%s\": {", p != NULL ? "}," : "", key);
		}
		if (new_sensor)
			fprintf(out, "%s\"%s\": {", new_day ? "" : ", ",
				t->sensors[c->sensor].name);
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

int
truth_write(struct truth *t, const struct gen *g, FILE *out)
{
	const struct scenario *sc = &g->sc;
	struct scope all;
	unsigned int s;
	int rc;

	fprintf(out, "{\n  \"generator\": {\"seed\": %" PRIu64 ", \"packets\": %" PRIu64
		", \"start\": %" PRIu64 ", \"span\": %" PRIu64 ", \"home\": \"%s\""
		", \"geoip\": %s},\n"
		"  \"packets\": %" PRIu64 ", \"not_dark\": %" PRIu64 ", \"malformed\": %" PRIu64
		", \"non_ip\": %" PRIu64 ",\n  \"scopes\": {\n", sc->seed, sc->packets, sc->start,
		sc->span, g->countries.home_cc, g->countries.open ? "true" : "false",
		t->packets, t->not_dark, t->malformed, t->non_ip);
	rc = merge_all(t, &all);
	if (rc != 0)
		goto out_release_all;
	json_scope(out, &all, t->n_sensors == 0);
	for (s = 0; s < t->n_sensors; s++)
		json_scope(out, &t->sensors[s], s + 1 == t->n_sensors);
	fprintf(out, "  }");
	json_sources(out, t, &all);
	json_victims(out, t);
	json_events(out, t, g);
	json_buckets(out, t);
	if (t->day_truth) {
		json_day_sources(out, t);
		rc = json_days(out, t);
		if (rc != 0)
			goto out_release_all;
	}
	fprintf(out, "\n}\n");

out_release_all:
	scope_release(&all);
	return rc;
}
