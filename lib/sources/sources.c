/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source memory and per-interval source deltas.
 *
 * tt_src_update() runs per packet on the table's worker; the rest is
 * control plane. The persistent table is set-associative: a bucket of
 * TT_SRC_WAYS entries with 32-bit tags beside them, so a lookup reads one
 * cache line before touching an entry: the bucket's tags and last-seen
 * times together, so a miss picks the oldest source to evict without
 * reading the entries (a flood of new sources misses on every packet).
 * Memory is fixed at creation.
 */
#include "tt_sources.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tt_classify.h"

struct entry {
	uint8_t addr[16];
	uint8_t family;                /* 0: empty */
	uint8_t flags;                 /* TT_SRC_CONFIRMED, TT_SRC_VICTIM */
	uint8_t n_mirai;
	uint32_t first_seen;
	uint32_t last_seen;
	uint32_t bs_first;
	uint32_t bs_last;
	uint32_t bs_pkts;
	uint16_t mirai_port[TT_SRC_MIRAI_PORTS];
	uint32_t mirai_seen[TT_SRC_MIRAI_PORTS];
};

/* One cache line a bucket: what a lookup and an eviction read. */
struct bucket {
	uint32_t tag[TT_SRC_WAYS];     /* 0 = empty */
	uint32_t seen[TT_SRC_WAYS];    /* the entry's last_seen */
};

struct tt_src_table {
	struct tt_src_conf conf;
	uint32_t bucket_mask;
	struct bucket *buckets;
	struct entry *entries;
	/* owner: wo (relaxed), control: ro */
	uint64_t sources;
	uint64_t inserted;
	uint64_t evicted;
	uint64_t confirmed;
};

struct tt_src_deltas {
	uint32_t mask;
	uint32_t limit;
	uint32_t used;
	bool growable;
	uint64_t dropped;
	uint32_t *order;
	uint8_t *occupied;
	struct tt_src_delta *cells;
};

static inline uint64_t
addr_hash(const uint8_t *addr, uint8_t family)
{
	uint64_t a, b, h;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ family;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static inline void
stat_inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* --- persistent table --- */

struct tt_src_table *
tt_src_table_create(const struct tt_src_conf *conf)
{
	struct tt_src_table *t;
	uint32_t buckets;

	if (conf->entries < TT_SRC_WAYS || (conf->entries & (conf->entries - 1)) != 0 ||
			conf->mirai_min_ports == 0) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	buckets = conf->entries / TT_SRC_WAYS;
	t->conf = *conf;
	t->bucket_mask = buckets - 1;
	t->buckets = aligned_alloc(64, buckets * sizeof(*t->buckets));
	t->entries = calloc(conf->entries, sizeof(*t->entries));
	if (t->buckets == NULL || t->entries == NULL) {
		tt_src_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->buckets, 0, buckets * sizeof(*t->buckets));
	return t;
}

void
tt_src_table_free(struct tt_src_table *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t->entries);
	free(t);
}

/* The source's entry; a new one (evicting the bucket's oldest) if absent. */
static struct entry *
find_or_insert(struct tt_src_table *t, const uint8_t *addr, uint8_t family, uint32_t sec,
		bool *fresh)
{
	uint64_t h = addr_hash(addr, family);
	uint32_t index = (uint32_t)h & t->bucket_mask;
	struct bucket *b = &t->buckets[index];
	uint32_t tag = (uint32_t)(h >> 32) | 1;
	struct entry *ways = &t->entries[index * TT_SRC_WAYS], *e;
	uint32_t w, victim = 0, empty = TT_SRC_WAYS;

	for (w = 0; w < TT_SRC_WAYS; w++) {
		if (b->tag[w] == tag && ways[w].family == family &&
				memcmp(ways[w].addr, addr, 16) == 0) {
			if (sec > b->seen[w])
				b->seen[w] = sec;
			*fresh = false;
			return &ways[w];
		}
		if (b->tag[w] == 0 && empty == TT_SRC_WAYS)
			empty = w;
		if (b->seen[w] < b->seen[victim])
			victim = w;
	}
	if (empty != TT_SRC_WAYS) {
		victim = empty;
		stat_inc(&t->sources);
	} else {
		stat_inc(&t->evicted);
	}
	stat_inc(&t->inserted);
	/* Only what is read before written: the port arrays are read up to n_mirai. */
	e = &ways[victim];
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->flags = 0;
	e->n_mirai = 0;
	e->first_seen = sec;
	e->last_seen = sec;
	e->bs_first = 0;
	e->bs_last = 0;
	e->bs_pkts = 0;
	b->tag[victim] = tag;
	b->seen[victim] = sec;
	*fresh = true;
	return e;
}

/* A Mirai-type packet to `port`: is the source now probing enough services? */
static void
note_mirai_port(struct tt_src_table *t, struct entry *e, uint16_t port, uint32_t sec)
{
	uint32_t i, oldest = 0, recent = 0;
	uint32_t since = sec > t->conf.horizon ? sec - t->conf.horizon : 0;

	for (i = 0; i < e->n_mirai; i++)
		if (e->mirai_port[i] == port)
			break;
	if (i == e->n_mirai) {
		if (e->n_mirai < TT_SRC_MIRAI_PORTS) {
			e->n_mirai++;
		} else {
			for (i = 1; i < TT_SRC_MIRAI_PORTS; i++)
				if (e->mirai_seen[i] < e->mirai_seen[oldest])
					oldest = i;
			i = oldest;
		}
		e->mirai_port[i] = port;
		e->mirai_seen[i] = sec;
	} else if (sec > e->mirai_seen[i]) {
		e->mirai_seen[i] = sec;
	}
	if (e->flags & TT_SRC_CONFIRMED)
		return;
	for (i = 0; i < e->n_mirai; i++)
		recent += e->mirai_seen[i] >= since;
	if (recent >= t->conf.mirai_min_ports) {
		e->flags |= TT_SRC_CONFIRMED;
		stat_inc(&t->confirmed);
	}
}

/* Backscatter from a source: @return packets it adds to the victims set. */
static uint32_t
note_backscatter(struct entry *e, uint32_t sec)
{
	uint32_t span;

	if (e->bs_pkts == 0 || sec < e->bs_first)
		e->bs_first = sec;
	if (sec > e->bs_last)
		e->bs_last = sec;
	e->bs_pkts++;
	if (e->flags & TT_SRC_VICTIM)
		return 1;
	span = e->bs_last - e->bs_first;
	if (e->bs_pkts >= TT_VICTIM_MIN_PKTS && span >= TT_VICTIM_MIN_SECONDS &&
			(uint64_t)e->bs_pkts * 60 >= (uint64_t)TT_VICTIM_MIN_PER_MINUTE * span) {
		e->flags |= TT_SRC_VICTIM;
		return e->bs_pkts;     /* all of it counts once it is a victim */
	}
	return 0;
}

/* --- deltas --- */

static int
deltas_init(struct tt_src_deltas *d, uint32_t capacity)
{
	d->mask = capacity - 1;
	d->limit = capacity / 4 * 3;
	d->used = 0;
	d->order = malloc(capacity * sizeof(*d->order));
	d->occupied = calloc(capacity, 1);
	d->cells = malloc(capacity * sizeof(*d->cells));
	if (d->order == NULL || d->occupied == NULL || d->cells == NULL) {
		free(d->order);
		free(d->occupied);
		free(d->cells);
		return -ENOMEM;
	}
	return 0;
}

struct tt_src_deltas *
tt_src_deltas_create(uint32_t capacity, bool growable)
{
	struct tt_src_deltas *d;

	if (capacity < 16 || (capacity & (capacity - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->growable = growable;
	if (deltas_init(d, capacity) != 0) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
tt_src_deltas_free(struct tt_src_deltas *d)
{
	if (d == NULL)
		return;
	free(d->order);
	free(d->occupied);
	free(d->cells);
	free(d);
}

void
tt_src_deltas_reset(struct tt_src_deltas *d)
{
	uint32_t i;

	for (i = 0; i < d->used; i++)
		d->occupied[d->order[i]] = 0;
	d->used = 0;
	d->dropped = 0;
}

static uint32_t
delta_hash(const uint8_t *addr, uint8_t family, uint32_t day)
{
	uint64_t h = addr_hash(addr, family) ^ ((uint64_t)day * 0x9e3779b97f4a7c15ull);

	return (uint32_t)(h ^ (h >> 32));
}

static struct tt_src_delta *
delta_slot(struct tt_src_deltas *d, const uint8_t *addr, uint8_t family, uint32_t day,
		bool *fresh)
{
	uint32_t i = delta_hash(addr, family, day) & d->mask;

	while (d->occupied[i]) {
		struct tt_src_delta *c = &d->cells[i];

		if (c->day == day && c->family == family && memcmp(c->addr, addr, 16) == 0) {
			*fresh = false;
			return c;
		}
		i = (i + 1) & d->mask;
	}
	if (d->used >= d->limit)
		return NULL;
	d->occupied[i] = 1;
	d->order[d->used++] = i;
	/* The header and counts only: lists are read up to their n_* counts. */
	memset(&d->cells[i], 0, offsetof(struct tt_src_delta, ports));
	memcpy(d->cells[i].addr, addr, 16);
	d->cells[i].family = family;
	d->cells[i].day = day;
	*fresh = true;
	return &d->cells[i];
}

static int
grow(struct tt_src_deltas *d)
{
	struct tt_src_deltas n = { .growable = true };
	uint32_t i;
	bool fresh;

	if (deltas_init(&n, (d->mask + 1) * 2) != 0)
		return -ENOMEM;
	for (i = 0; i < d->used; i++) {
		const struct tt_src_delta *c = &d->cells[d->order[i]];

		*delta_slot(&n, c->addr, c->family, c->day, &fresh) = *c;
	}
	n.dropped = d->dropped;
	free(d->order);
	free(d->occupied);
	free(d->cells);
	*d = n;
	return 0;
}

/*
 * Capped sets keep their `cap` smallest members, sorted. "The k smallest of
 * a union" does not depend on the order things arrive in, so a source's
 * lists come out the same however the flush intervals cut its packets; the
 * publisher's host script keeps the same order (service keys numerically).
 */
static void
add32(uint32_t *list, uint8_t *n, uint32_t cap, uint32_t v)
{
	uint32_t i = 0;

	while (i < *n && list[i] < v)
		i++;
	if (i < *n && list[i] == v)
		return;
	if (i == cap)
		return;                 /* larger than all kept, and full */
	if (*n == cap)
		(*n)--;                 /* drop the largest */
	memmove(&list[i + 1], &list[i], (*n - i) * sizeof(*list));
	list[i] = v;
	(*n)++;
}

static void
add16(uint16_t *list, uint8_t *n, uint32_t cap, uint16_t v)
{
	uint32_t i = 0;

	while (i < *n && list[i] < v)
		i++;
	if (i < *n && list[i] == v)
		return;
	if (i == cap)
		return;
	if (*n == cap)
		(*n)--;
	memmove(&list[i + 1], &list[i], (*n - i) * sizeof(*list));
	list[i] = v;
	(*n)++;
}

void
tt_src_update(struct tt_src_table *t, struct tt_src_deltas *d, const struct tt_src_pkt *p)
{
	uint8_t addr[16] = { 0 };
	struct tt_src_delta *c;
	struct entry *e;
	uint32_t victim = 0;
	bool fresh;

	memcpy(addr, p->addr, p->family == 4 ? 4 : 16);
	e = find_or_insert(t, addr, p->family, p->sec, &fresh);
	if (p->sec > e->last_seen)
		e->last_seen = p->sec;
	if (p->klass == TT_CLASS_MIRAI)
		note_mirai_port(t, e, p->dport, p->sec);
	else if (p->klass == TT_CLASS_BACKSCATTER)
		victim = note_backscatter(e, p->sec);

	/*
	 * Only fingerprinted packets make deltas: what the publisher writes
	 * about. A packet's share then depends on the packet alone, so two
	 * appliances seeing halves of the traffic add up to one seeing it all;
	 * and a spoofed flood of "other" packets stops here.
	 */
	if (p->klass == TT_CLASS_OTHER)
		return;
	c = delta_slot(d, addr, p->family, p->sec / 86400, &fresh);
	if (c == NULL) {
		d->dropped++;
		return;
	}
	if (fresh || e->first_seen < c->first_seen)
		c->first_seen = e->first_seen;
	if (p->sec > c->last_seen)
		c->last_seen = p->sec;
	c->pkts++;
	c->mirai_pkts += p->klass == TT_CLASS_MIRAI;
	c->victim_pkts += victim;
	c->class_mask |= 1u << p->klass;
	if (p->sec > c->class_last[p->klass])
		c->class_last[p->klass] = p->sec;
	c->flags = (uint8_t)(e->flags | (p->home ? TT_SRC_HOME : 0));
	c->country = p->country;
	add32(c->ports, &c->n_ports, TT_SRC_PORTS, p->svc);
	add16(c->sensors, &c->n_sensors, TT_SRC_SENSORS, p->sensor);
	if (p->klass == TT_CLASS_BACKSCATTER)
		add16(c->attacked, &c->n_attacked, TT_SRC_ATTACKED, p->sport);
}

int
tt_src_deltas_merge(struct tt_src_deltas *dst, const struct tt_src_deltas *src)
{
	uint32_t i, k;

	for (i = 0; i < src->used; i++) {
		const struct tt_src_delta *s = &src->cells[src->order[i]];
		struct tt_src_delta *c;
		bool fresh;

		for (;;) {
			c = delta_slot(dst, s->addr, s->family, s->day, &fresh);
			if (c != NULL)
				break;
			if (!dst->growable || grow(dst) != 0)
				return -ENOMEM;
		}
		if (fresh) {
			*c = *s;
			continue;
		}
		if (s->first_seen < c->first_seen)
			c->first_seen = s->first_seen;
		if (s->last_seen >= c->last_seen) {
			c->last_seen = s->last_seen;
			c->country = s->country;
		}
		c->pkts += s->pkts;
		c->mirai_pkts += s->mirai_pkts;
		c->victim_pkts += s->victim_pkts;
		c->class_mask |= s->class_mask;
		for (k = 0; k < TT_CLASS_COUNT; k++)
			if (s->class_last[k] > c->class_last[k])
				c->class_last[k] = s->class_last[k];
		c->flags |= s->flags;
		for (k = 0; k < s->n_ports; k++)
			add32(c->ports, &c->n_ports, TT_SRC_PORTS, s->ports[k]);
		for (k = 0; k < s->n_sensors; k++)
			add16(c->sensors, &c->n_sensors, TT_SRC_SENSORS, s->sensors[k]);
		for (k = 0; k < s->n_attacked; k++)
			add16(c->attacked, &c->n_attacked, TT_SRC_ATTACKED, s->attacked[k]);
	}
	dst->dropped += src->dropped;
	return 0;
}

uint32_t
tt_src_deltas_count(const struct tt_src_deltas *d)
{
	return d->used;
}

const struct tt_src_delta *
tt_src_deltas_get(const struct tt_src_deltas *d, uint32_t i)
{
	return &d->cells[d->order[i]];
}

uint64_t
tt_src_deltas_dropped(const struct tt_src_deltas *d)
{
	return d->dropped;
}

bool
tt_src_deltas_pressure(const struct tt_src_deltas *d, uint32_t packets)
{
	uint32_t room = d->limit / 2 < packets ? d->limit / 2 : packets;

	return d->used + room > d->limit;
}

uint64_t
tt_src_deltas_memory(const struct tt_src_deltas *d)
{
	return sizeof(*d) + ((uint64_t)d->mask + 1) *
		(sizeof(*d->order) + 1 + sizeof(*d->cells));
}

void
tt_src_table_stats(const struct tt_src_table *t, struct tt_src_table_stats *out)
{
	out->sources = __atomic_load_n(&t->sources, __ATOMIC_RELAXED);
	out->inserted = __atomic_load_n(&t->inserted, __ATOMIC_RELAXED);
	out->evicted = __atomic_load_n(&t->evicted, __ATOMIC_RELAXED);
	out->confirmed = __atomic_load_n(&t->confirmed, __ATOMIC_RELAXED);
	out->memory = sizeof(*t) + (uint64_t)(t->bucket_mask + 1) * sizeof(*t->buckets) +
		(uint64_t)t->conf.entries * sizeof(*t->entries);
}
