/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-packet part of source memory: runs on the table's worker; no
 * allocation, no atomics but the owner's relaxed statistics stores.
 */
#include "tt_sources.h"

#include <stdlib.h>
#include <string.h>

#include "tt_classify.h"
#include "tt_data_path.h"
#include "sources_internal.h"

TT_DATA_PATH static inline void
stat_inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/*
 * A source's bucket and its tag there (never 0, which marks an empty way):
 * one rule for the update and for prefetch_entry(), which must find the
 * same way.
 */
TT_DATA_PATH static inline uint32_t
bucket_index(const struct tt_sources_table *t, uint64_t h)
{
	return (uint32_t)h & t->bucket_mask;
}

TT_DATA_PATH static inline uint32_t
bucket_tag(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;
}

/*
 * A bucket's ways, each a bit, in way order: those whose tag is @p tag
 * (0: the empty ones), and those last seen earliest, for a new source's
 * victim. On SSE2 (every x86-64) each is a few compares of the bucket's
 * two halves. As a loop over the 8 ways, with a branch a way, the victim
 * (asked twice a new source: its entry's prefetch and its insert) was
 * ~120 of a Mirai-type flood's 934 instructions a packet (callgrind of
 * the worker). The entry's prefetch finds the source's tag with these
 * compares too, and leaves its way in the packet for the update to try
 * first (find_or_insert()). Both had looped over the tags, so a new
 * source paid 16 compares and branches: callgrind of the worker, the
 * source memory's instructions a packet, Mirai-type flood 308.8 -> 261.7,
 * mixed capture 189.2 -> 197.7; 193.1 with way 0 tried alone first, as
 * the loops did (a found source's way was mostly their first), and the
 * flood's unchanged by that. Every way searched by these compares in
 * the update too, without the prefetch's way, had measured 1.018 and
 * 1.042 times the busy cycles a packet on the mixed captures (pair
 * ratios, scripts/bench --baseline 78a08a8 3 5) against 0.897 for the
 * flood. The victim is now asked once where no packet updated in between
 * can have changed the bucket (bucket_kept_until_update()).
 */
_Static_assert(TT_SOURCES_WAYS == 8,
	"a bucket's tags and seconds are 8 words: words8_equal()'s, two vectors of 4");

TT_DATA_PATH static inline uint32_t
ways_tagged(const struct bucket *b, uint32_t tag)
{
	return words8_equal(b->tag, tag);
}

#ifdef __SSE2__
/*
 * Lane by lane, the smaller of two vectors of seconds, each biased by 2^31
 * so that SSE2's signed compare orders them as unsigned.
 */
TT_DATA_PATH static inline __m128i
min_biased(__m128i a, __m128i b)
{
	__m128i b_less = _mm_cmplt_epi32(b, a);

	return _mm_or_si128(_mm_and_si128(b_less, b), _mm_andnot_si128(b_less, a));
}

TT_DATA_PATH static inline uint32_t
ways_oldest(const struct bucket *b)
{
	__m128i bias = _mm_set1_epi32(INT32_MIN);
	__m128i lo = _mm_xor_si128(_mm_loadu_si128((const __m128i *)&b->seen[0]), bias);
	__m128i hi = _mm_xor_si128(_mm_loadu_si128((const __m128i *)&b->seen[4]), bias);
	__m128i m = min_biased(lo, hi);

	/* the minimum into every lane */
	m = min_biased(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
	m = min_biased(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
	return lanes_mask(_mm_cmpeq_epi32(lo, m), _mm_cmpeq_epi32(hi, m));
}
#else
TT_DATA_PATH static inline uint32_t
ways_oldest(const struct bucket *b)
{
	uint32_t w, oldest = b->seen[0], ways = 0;

	for (w = 1; w < TT_SOURCES_WAYS; w++)
		oldest = b->seen[w] < oldest ? b->seen[w] : oldest;
	for (w = 0; w < TT_SOURCES_WAYS; w++)
		ways |= (uint32_t)(b->seen[w] == oldest) << w;
	return ways;
}
#endif

/* The way a new source takes: the first empty one, else the first of the least recently seen. */
TT_DATA_PATH static inline uint32_t
bucket_victim(const struct bucket *b)
{
	uint32_t empty = ways_tagged(b, 0);

	return (uint32_t)__builtin_ctz(empty != 0 ? empty : ways_oldest(b));
}

/* Is way @p w of the bucket at @p index the source's? */
TT_DATA_PATH static inline bool
way_holds(const struct tt_sources_table *t, uint32_t index, uint32_t w, uint32_t tag,
		struct src_key k, uint8_t family)
{
	const struct entry *e = &t->entries[index * TT_SOURCES_WAYS + w];

	return t->buckets[index].tag[w] == tag && e->family == family && src_key_equal(e->addr, k);
}

/*
 * What the entry's prefetch leaves in struct tt_sources_pkt's way for the
 * update (update_source()): the way of the source's tag (0 to
 * TT_SOURCES_WAYS - 1), tried first; WAY_NONE, search the bucket; or
 * WAY_NEW plus the victim's way, for a source whose tag the bucket did not
 * have, when no packet updated between the prefetch and the update had
 * the same bucket (bucket_kept_until_update()): the bucket is as the
 * prefetch saw it, so the source is still absent and the victim the same.
 */
enum {
	WAY_NONE = TT_SOURCES_WAYS,
	WAY_NEW = 2 * TT_SOURCES_WAYS,
};
_Static_assert(WAY_NEW + TT_SOURCES_WAYS - 1 <= UINT8_MAX, "a packet keeps its way in a byte");

/* A new source in way @p victim of the bucket at @p index, evicting whatever it held. */
TT_DATA_PATH static inline struct entry *
insert_source(struct tt_sources_table *t, uint32_t index, uint32_t tag, uint32_t victim,
		struct src_key k, uint8_t family, uint32_t sec)
{
	struct bucket *b = &t->buckets[index];
	struct entry *e = &t->entries[index * TT_SOURCES_WAYS + victim];

	if (b->tag[victim] == 0)
		stat_inc(&t->sources);
	else
		stat_inc(&t->evicted);
	stat_inc(&t->inserted);
	/* Only what is read before written: the port arrays are read up to n_mirai. */
	src_key_store(e->addr, k);
	e->family = family;
	e->flags = 0;
	e->n_mirai = 0;
	e->first_seen = sec;
	e->bs_first = 0;
	e->bs_last = 0;
	e->bs_pkts = 0;
	b->tag[victim] = tag;
	b->seen[victim] = sec;
	return e;
}

/*
 * The source's entry; a new one (evicting the bucket's oldest) if absent.
 * @p way is where its entry's prefetch found its tag (WAY_NONE:
 * nowhere), tried first: the packets updated since may have changed the
 * bucket, so a miss there looks at every way whose tag is the source's.
 * At most one way holds a source, so the result is the one a search in
 * way order gives.
 */
TT_DATA_PATH static struct entry *
find_or_insert(struct tt_sources_table *t, uint64_t h, struct src_key k, uint8_t family,
		uint32_t sec, uint32_t way, bool *fresh)
{
	uint32_t index = bucket_index(t, h);
	struct bucket *b = &t->buckets[index];
	uint32_t tag = bucket_tag(h);
	uint32_t w, tagged;

	if (way < TT_SOURCES_WAYS && way_holds(t, index, way, tag, k, family)) {
		w = way;
		goto found;
	}
	for (tagged = ways_tagged(b, tag); tagged != 0; tagged &= tagged - 1) {
		w = (uint32_t)__builtin_ctz(tagged);
		if (way_holds(t, index, w, tag, k, family))
			goto found;
	}
	*fresh = true;
	return insert_source(t, index, tag, bucket_victim(b), k, family, sec);
found:
	if (sec > b->seen[w])
		b->seen[w] = sec;
	*fresh = false;
	return &t->entries[index * TT_SOURCES_WAYS + w];
}

/* A source's Mirai-type port slot @p i, and when it was last seen: in its entry, or its tail. */
TT_DATA_PATH static inline uint16_t *
mirai_port(struct entry *e, struct entry_tail *tail, uint32_t i)
{
	return i < HEAD_PORTS ? &e->mirai_port[i] : &tail->mirai_port[i - HEAD_PORTS];
}

TT_DATA_PATH static inline uint32_t *
mirai_seen(struct entry *e, struct entry_tail *tail, uint32_t i)
{
	return i < HEAD_PORTS ? &e->mirai_seen[i] : &tail->mirai_seen[i - HEAD_PORTS];
}

/*
 * note_mirai_port() for a source's first packet, its entry new: its one
 * port, seen now, is recent, so one port confirms it only where one is
 * enough. A spoofed Mirai-type flood makes every packet a new source,
 * which paid note_mirai_port()'s loops and its tail's address for that:
 * callgrind of the worker, the source memory's instructions a packet
 * 261.7 -> 231.3.
 */
TT_DATA_PATH static inline void
first_mirai_port(struct tt_sources_table *t, struct entry *e, uint16_t port, uint32_t sec)
{
	e->n_mirai = 1;
	e->mirai_port[0] = port;
	e->mirai_seen[0] = sec;
	if (t->conf.mirai_min_ports <= 1) {
		e->flags |= TT_SOURCES_CONFIRMED;
		stat_inc(&t->confirmed);
	}
}

/*
 * A Mirai-type packet to `port` from a source not yet confirmed: is it now
 * probing enough services? Its ports are read for that alone, and a
 * confirmed source stays confirmed while it is remembered, so
 * update_source() does not call this for one.
 */
TT_DATA_PATH static void
note_mirai_port(struct tt_sources_table *t, struct entry *e, uint16_t port, uint32_t sec)
{
	struct entry_tail *tail = &t->tails[e - t->entries];  /* touched past HEAD_PORTS only */
	uint32_t i, oldest = 0, recent = 0;
	uint32_t since = sec > t->conf.horizon ? sec - t->conf.horizon : 0;

	for (i = 0; i < e->n_mirai; i++)
		if (*mirai_port(e, tail, i) == port)
			break;
	if (i == e->n_mirai) {
		if (e->n_mirai < TT_SOURCES_MIRAI_PORTS) {
			e->n_mirai++;
		} else {
			for (i = 1; i < TT_SOURCES_MIRAI_PORTS; i++)
				if (*mirai_seen(e, tail, i) < *mirai_seen(e, tail, oldest))
					oldest = i;
			i = oldest;
		}
		*mirai_port(e, tail, i) = port;
		*mirai_seen(e, tail, i) = sec;
	} else if (sec > *mirai_seen(e, tail, i)) {
		*mirai_seen(e, tail, i) = sec;
	}
	for (i = 0; i < e->n_mirai; i++)
		recent += *mirai_seen(e, tail, i) >= since;
	if (recent >= t->conf.mirai_min_ports) {
		e->flags |= TT_SOURCES_CONFIRMED;
		stat_inc(&t->confirmed);
	}
}

/* Backscatter from a source: @return packets it adds to the victims set. */
TT_DATA_PATH static uint32_t
note_backscatter(struct entry *e, uint32_t sec)
{
	uint32_t span;

	if (e->bs_pkts == 0 || sec < e->bs_first)
		e->bs_first = sec;
	if (sec > e->bs_last)
		e->bs_last = sec;
	e->bs_pkts++;
	if (e->flags & TT_SOURCES_VICTIM)
		return 1;
	span = e->bs_last - e->bs_first;
	if (e->bs_pkts >= TT_VICTIM_MIN_PKTS && span >= TT_VICTIM_MIN_SECONDS &&
			(uint64_t)e->bs_pkts * 60 >= (uint64_t)TT_VICTIM_MIN_PER_MINUTE * span) {
		e->flags |= TT_SOURCES_VICTIM;
		return e->bs_pkts;     /* all of it counts once it is a victim */
	}
	return 0;
}

/*
 * The distances of the pipeline, in packets of the burst: packet i
 * updates its source while the bucket and delta of packet i + BUCKET_AHEAD
 * and the entry of packet i + ENTRY_AHEAD are on their way. They are the
 * counters' CELLS_AHEAD and SETS_AHEAD (counters_dp.c), measured with them
 * and their figures there: a source's bucket and delta as a packet's
 * cells, the entry the bucket's tags locate as the registers its group
 * cell names.
 */
enum {
	BUCKET_AHEAD = 4,
	ENTRY_AHEAD = 2,
};
_Static_assert(ENTRY_AHEAD > 0 && ENTRY_AHEAD < BUCKET_AHEAD,
	"the entry is asked for after its bucket, before the packet updates its source");

/*
 * A packet's delta_slot when its delta is dropped (prefetch_bucket()): no
 * slot, as a capacity is a power of two in 32 bits.
 */
enum { NO_DELTA = UINT32_MAX };

/*
 * Step 1 of a packet (tt_sources_update_burst()): its source's hash, and
 * that source's bucket of tags and delta slot on their way; the slot is
 * kept in the packet for step 3.
 *
 * A deltas table at its limit makes no delta more until the swap, and its
 * filter's bits are set only as it makes one, so a source it drops now is
 * dropped at its update too (delta_drop_unprobed()): the packet's slot is
 * then NO_DELTA, and the delta's two lines, which a spoofed flood would
 * only have fetched to drop, are not asked for. callgrind of the worker,
 * the source memory's instructions a packet, Mirai-type flood (74% of its
 * packets dropped there) 199.3 -> 182.8; one replay of the mixed capture
 * 201.0 -> 198.7 (the update no longer hashes for the slot). Mirai-type
 * flood, busy cycles a packet, 8 interleaved pairs of 3 s on hugepages:
 * pair ratios 0.831 to 1.028, median 0.971.
 */
TT_DATA_PATH static inline void
prefetch_bucket(const struct tt_sources_table *t, const struct tt_sources_deltas *d,
		struct tt_sources_pkt *p)
{
	uint64_t h = src_key_hash(src_key_of(p->addr, p->family), p->family);
	uint32_t day = p->sec / 86400, slot;

	tt_prefetch(&t->buckets[bucket_index(t, h)]);
	if (delta_drop_unprobed(d, h, day)) {
		slot = NO_DELTA;
	} else {
		slot = delta_hash_of(h, day) & d->mask;
		tt_prefetch(&d->occupied[slot]);
		tt_prefetch(&d->cells[slot]);
	}
	p->delta_slot = slot;
	p->hash = h;
}

/*
 * Will packet @p j's update find its bucket as its entry's prefetch sees
 * it: does none of the packets updated in between (the ENTRY_AHEAD
 * before it in the burst) have that bucket? Their hashes are known, so
 * the prefetch can tell. A new source then finds its victim once, where
 * the update searched the bucket again and found the same one:
 * callgrind of the worker, the source memory's instructions a packet,
 * Mirai-type flood 231.7 -> 199.3; one replay of the mixed capture, the
 * same 20,000 packets, 200.0 -> 201.0 (the test of the way a packet).
 */
TT_DATA_PATH static inline bool
bucket_kept_until_update(const struct tt_sources_table *t, const struct tt_sources_pkt *pkts,
		int j)
{
	int i;

	for (i = j - ENTRY_AHEAD; i < j; i++)
		if (i >= 0 && ((pkts[i].hash ^ pkts[j].hash) & t->bucket_mask) == 0)
			return false;
	return true;
}

/*
 * Step 2, once the bucket step 1 asked for has arrived: the entry the
 * update will write, the source's own or, for a new source, the one it
 * will take, and in p->way the way of the source's tag, where step 3
 * looks first, or the victim's (WAY_NEW). Its address depends on the
 * bucket's tags, so it cannot be asked for in step 1. Mirai-type flood of 2^20
 * new sources: 709 -> 466 busy cycles a packet; the mixed captures
 * unchanged.
 */
TT_DATA_PATH static inline void
prefetch_entry(const struct tt_sources_table *t, struct tt_sources_pkt *pkts, int j)
{
	struct tt_sources_pkt *p = &pkts[j];
	uint32_t index = bucket_index(t, p->hash);
	const struct bucket *b = &t->buckets[index];
	uint32_t tag = bucket_tag(p->hash);
	/* way 0 first, alone: a bucket of ordinary traffic mostly holds one source */
	uint32_t tagged = b->tag[0] == tag ? 1 : ways_tagged(b, tag);
	uint32_t w;

	/* where step 3 looks first: the way of its tag, else the victim's (WAY_NEW) */
	if (tagged != 0) {
		w = (uint32_t)__builtin_ctz(tagged);
		p->way = (uint8_t)w;
	} else {
		w = bucket_victim(b);
		p->way = (uint8_t)(bucket_kept_until_update(t, pkts, j) ? WAY_NEW + w : WAY_NONE);
	}
	/* Its one line; a tail is rare and is left to load when read. */
	tt_prefetch_write(&t->entries[index * TT_SOURCES_WAYS + w]);
}

/* Step 3: update the source's memory and delta (p->hash set by step 1). */
TT_DATA_PATH static inline void
update_source(struct tt_sources_table *t, struct tt_sources_deltas *d,
		const struct tt_sources_pkt *p)
{
	struct src_key k;
	struct tt_sources_delta *c;
	struct entry *e;
	uint32_t victim = 0;
	uint64_t h = p->hash;
	bool fresh, new_source;

	if (p->klass == TT_CLASS_OTHER)
		return;
	k = src_key_of(p->addr, p->family);
	if (p->way >= WAY_NEW) {
		e = insert_source(t, bucket_index(t, h), bucket_tag(h), p->way - WAY_NEW, k,
			p->family, p->sec);
		new_source = true;
	} else {
		e = find_or_insert(t, h, k, p->family, p->sec, p->way, &new_source);
	}
	if (p->klass == TT_CLASS_MIRAI) {
		if (new_source)
			first_mirai_port(t, e, p->dport, p->sec);
		else if (!(e->flags & TT_SOURCES_CONFIRMED))
			note_mirai_port(t, e, p->dport, p->sec);
	} else if (p->klass == TT_CLASS_BACKSCATTER) {
		victim = note_backscatter(e, p->sec);
	}

	/*
	 * A packet's delta depends on the packet alone, so two appliances
	 * seeing halves of the traffic add up to one seeing it all.
	 */
	c = p->delta_slot == NO_DELTA ? NULL :
		delta_slot_from(d, p->delta_slot, h, k, p->family, p->sec / 86400, &fresh);
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
	/* note_backscatter() gives more than one only at the packet that passes the rule */
	if (victim > 1) {
		c->victim_since = p->sec;
		c->victim_rule_pkts = victim;
	}
	c->class_mask |= 1u << p->klass;
	if (p->sec > c->class_last[p->klass])
		c->class_last[p->klass] = p->sec;
	c->flags = (uint8_t)(e->flags | (p->home ? TT_SOURCES_HOME : 0));
	c->country = p->country;
	add_capped(c->ports, &c->n_ports, TT_SOURCES_PORTS, p->svc);
	add_capped(c->sensors, &c->n_sensors, TT_SOURCES_SENSORS, p->sensor);
	if (p->klass == TT_CLASS_BACKSCATTER)
		add_capped(c->attacked, &c->n_attacked, TT_SOURCES_ATTACKED, p->sport);
}

/*
 * One function a burst, its steps inline, where the worker made three
 * calls a packet (two prefetches and the update), each with its entry,
 * exit and reloads of the tables' fields: callgrind of the worker, mixed
 * 2,000-frame loop, the worker's own lines and the source memory's 386.3
 * -> 368.4 instructions a packet.
 */
TT_DATA_PATH unsigned int
tt_sources_update_burst(struct tt_sources_table *t, struct tt_sources_deltas *d,
		struct tt_sources_pkt *pkts, unsigned int n)
{
	uint64_t dropped_before = d->dropped;
	int count = (int)n, i;

	for (i = -BUCKET_AHEAD; i < count; i++) {
		if (i + BUCKET_AHEAD < count)
			prefetch_bucket(t, d, &pkts[i + BUCKET_AHEAD]);
		if (i + ENTRY_AHEAD >= 0 && i + ENTRY_AHEAD < count)
			prefetch_entry(t, pkts, i + ENTRY_AHEAD);
		if (i >= 0)
			update_source(t, d, &pkts[i]);
	}
	return (unsigned int)(d->dropped - dropped_before);
}

TT_DATA_PATH void
tt_sources_update(struct tt_sources_table *t, struct tt_sources_deltas *d,
		const struct tt_sources_pkt *p)
{
	struct tt_sources_pkt one = *p;

	(void)tt_sources_update_burst(t, d, &one, 1);
}

TT_DATA_PATH bool
tt_sources_deltas_pressure(const struct tt_sources_deltas *d, uint32_t packets)
{
	uint32_t room = d->limit / 2 < packets ? d->limit / 2 : packets;

	return d->used + room > d->limit;
}
