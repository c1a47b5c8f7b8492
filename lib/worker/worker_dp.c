/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker poll loop. Runs on one worker lcore; per packet it allocates
 * nothing, logs nothing, locks nothing and makes no system call.
 *
 * A burst is handled in stages, each a function (process_burst() calls
 * them in turn): parse all, look up all, key all, count all, so the FIB
 * lookups run as bulk calls and the counting overlaps its cache misses.
 */
#include "tt_worker.h"

#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#ifdef TT_BENCH_STAGES
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#endif

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_data_path.h"
#include "tt_geo.h"
#include "tt_hll.h"
#include "tt_parse.h"
#include "tt_sensor.h"
#include "worker_internal.h"

enum {
	HOUSEKEEPING_LOOPS = 16,
	REPLAY_IDLE_MS = 100,        /* empty polls this long: a pcap file is consumed */
	SECONDS_PER_MINUTE = 60,
	/*
	 * More packets than half of any pool: tt_counters_pressure() of
	 * this many is true once a table or pool is half full.
	 */
	EARLY_SWAP_PACKETS = 1 << 24,
};

_Static_assert(TT_WORKER_BURST <= UINT8_MAX,
	"struct burst and order_dark() keep a burst's packet indexes and counts in bytes");

#ifdef TT_BENCH_STAGES
/*
 * Benchmark builds only (meson -Dbench_stages=true): each burst stops after
 * the stage in force (0: receive and free only; 1, 2, 3: after that stage;
 * 4: after the counters, before the source memory; -1: the whole path), so
 * scripts/bench --stages can measure what every stage adds. Deployed builds
 * compile all of this away.
 *
 * TT_BENCH_STAGE lists the stages, in the order to run them;
 * TT_BENCH_STAGE_SECONDS, how long each runs, from the worker's first
 * burst. With a period, the worker prints each stage's packets, busy cycles
 * and elapsed cycles at its exit, and nothing after the last period counts:
 * one process measures every stage, back to back, on the same tables,
 * instead of one process per stage, each with its own start (its mbufs
 * mapped, its capture loaded: 6 of the 11 s of a run here) and its own
 * placement in memory. One worker per process: the state is the process's.
 */
enum { BENCH_MAX_STAGES = 8 };

static struct {
	int stage[BENCH_MAX_STAGES];   /* the stages to run, in order */
	unsigned int n, at;            /* how many, and the one in force */
	uint64_t period;               /* TSC cycles each; 0: the first stage only */
	uint64_t since;                /* TSC at the stage's start; 0 before the first burst */
	uint64_t pkts[BENCH_MAX_STAGES], busy[BENCH_MAX_STAGES], elapsed[BENCH_MAX_STAGES];
} bench = { .stage = { -1 } };

/* Read the environment once, on the worker, before its first burst. */
static void
bench_init(void)
{
	const char *list = getenv("TT_BENCH_STAGE"), *secs = getenv("TT_BENCH_STAGE_SECONDS");
	char *end;

	bench.n = 0;
	while (list != NULL && bench.n < BENCH_MAX_STAGES) {
		long v = strtol(list, &end, 10);

		if (end == list)
			break;
		bench.stage[bench.n++] = (int)v;
		list = end;
	}
	if (bench.n == 0)
		bench.stage[bench.n++] = -1;
	if (secs != NULL && atof(secs) > 0)
		bench.period = (uint64_t)(atof(secs) * (double)rte_get_tsc_hz());
}

/* After a burst that began at @p t0: its figures, and the next stage once a period is up. */
static void
bench_account(uint64_t t0, uint64_t busy, uint16_t n)
{
	if (bench.period == 0 || bench.at >= bench.n)
		return;
	if (bench.since == 0)
		bench.since = t0;
	bench.pkts[bench.at] += n;
	bench.busy[bench.at] += busy;
	if (t0 - bench.since >= bench.period) {
		bench.elapsed[bench.at] = t0 - bench.since;
		bench.since = t0;
		bench.at++;
	}
}

/* At the worker's exit: a line a stage measured, for scripts/bench. */
static void
bench_report(void)
{
	unsigned int i;

	if (bench.period == 0)
		return;
	for (i = 0; i < bench.n; i++)
		fprintf(stderr, "bench stage %d: pkts %" PRIu64 " busy_cycles %" PRIu64
			" elapsed_cycles %" PRIu64 " tsc_hz %" PRIu64 "%s\n", bench.stage[i],
			bench.pkts[i], bench.busy[i], bench.elapsed[i], rte_get_tsc_hz(),
			i < bench.at ? "" : " (incomplete)");
}

#define BENCH_STAGE() (bench.stage[bench.at < bench.n ? bench.at : bench.n - 1])
#define BENCH_STOP_AFTER(s) do { if (BENCH_STAGE() == (s)) return; } while (0)
#else
#define BENCH_STOP_AFTER(stage) do { } while (0)
#endif

/*
 * What one burst is, for every stage: set by tt_worker_main() before the
 * burst, on the worker's stack. Only the worker reads or writes it.
 */
struct burst_ctx {
	const struct tt_worker_conf *conf;
	const struct tt_worker_tables *t;  /* this interval's (tt_worker_set_tables()) */
	struct tt_sources_table *sources;      /* the worker's source memory */
	struct tt_shard *shard;            /* the counts the worker writes now */
	struct tt_sources_deltas *deltas;      /* and the source deltas beside them */
	struct rte_mbuf **m;
	uint16_t n;                        /* packets in m */
	uint16_t port;                     /* the rx queue's port */
	uint32_t now_sec;                  /* wall clock; 0 with the packet clock */
	uint32_t now_minute;               /* now_sec's */
	struct tt_worker_stats *acc;       /* the burst's figures, published once */
};

/*
 * What the stages hand one another, on the worker's stack. Indexes are
 * the burst's packets unless a comment says otherwise.
 */
struct burst {
	/* parse_burst() */
	struct tt_pkt pkt[TT_WORKER_BURST];
	uint32_t sec[TT_WORKER_BURST];         /* the packet clock's only (second_of()) */
	uint8_t klass[TT_WORKER_BURST];
	unsigned int n_not4, n6;               /* packets not IPv4; IPv6 packets */
	uint32_t v4_dst[TT_WORKER_BURST];      /* host order; 0 for a packet not IPv4 */
	uint32_t v4_src[TT_WORKER_BURST];
	uint8_t not4_idx[TT_WORKER_BURST];     /* of packet j not IPv4: its packet */
	uint8_t v6_idx[TT_WORKER_BURST];       /* of IPv6 packet j: its packet */
	uint8_t v6_dst[TT_WORKER_BURST][16];
	/* look_up_burst() */
	uint16_t v6_sensor[TT_WORKER_BURST];   /* of IPv6 packet j */
	uint16_t sensor[TT_WORKER_BURST];      /* or TT_SENSOR_NONE */
	uint16_t country[TT_WORKER_BURST];     /* IPv4 sources' (IPv6: key_burst()) */
	/* key_burst() */
	unsigned int n_dark;                   /* the burst's packets counted at a sensor */
	uint8_t dark[TT_WORKER_BURST];         /* of dark packet d: its packet */
	struct tt_count_pkt cp[TT_WORKER_BURST];  /* of dark packet d */
	/* count_burst() */
	const uint8_t *by_class;               /* the dark packets by class, each class in order */
	const uint8_t *fp;                     /* of fingerprinted packet f: its dark packet */
	uint8_t own_by_class[TT_WORKER_BURST]; /* what they point at, unless in_order */
	uint8_t own_fp[TT_WORKER_BURST];
	uint8_t in_order[TT_WORKER_BURST];     /* 0, 1, 2, ...: set once by tt_worker_main() */
	struct tt_sources_pkt sp[TT_WORKER_BURST];  /* of fingerprinted packet f */
};

/* Single writer: a relaxed load+store is race-free and costs a plain add. */
TT_DATA_PATH static inline void
stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

TT_DATA_PATH static inline void
stat_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

/* The source address's bytes (4 or 16, network order): the HLL element and the memory's key. */
TT_DATA_PATH static inline const uint8_t *
src_bytes(const struct tt_pkt *p)
{
	return p->family == 4 ? (const uint8_t *)&p->src.v4 : p->src.v6;
}

struct wall_clock {
	uint64_t base_sec;           /* UTC seconds at base_tsc */
	uint64_t base_tsc;
	uint64_t hz;
};

TT_DATA_PATH static inline uint32_t
wall_seconds(const struct wall_clock *wc)
{
	return (uint32_t)(wc->base_sec + (rte_rdtsc() - wc->base_tsc) / wc->hz);
}

/*
 * With the packet clock, each packet's second from its rx timestamp (now
 * without one, counted). A pass of its own, taken only with the packet
 * clock: with the wall clock every packet of a burst has the burst's
 * second (second_of(), minute_of()), and storing it a packet, then
 * dividing it into minutes a dark packet, cost the flood at one sensor
 * ~6 instructions a packet (callgrind of the worker).
 */
TT_DATA_PATH static void
packet_seconds(const struct burst_ctx *x, struct burst *b)
{
	const struct tt_worker_conf *c = x->conf;
	unsigned int i;

	for (i = 0; i < x->n; i++) {
		const struct rte_mbuf *m = x->m[i];

		if (likely(m->ol_flags & c->timestamp_flag)) {
			b->sec[i] = (uint32_t)(*RTE_MBUF_DYNFIELD(m, c->timestamp_offset,
				rte_mbuf_timestamp_t *) / 1000000);
		} else {
			x->acc->no_timestamp++;
			b->sec[i] = x->now_sec;
		}
	}
}

/* Packet @p i's second and minute (packet_seconds()). */
TT_DATA_PATH static inline uint32_t
second_of(const struct burst_ctx *x, const struct burst *b, unsigned int i)
{
	return x->conf->packet_clock ? b->sec[i] : x->now_sec;
}

TT_DATA_PATH static inline uint32_t
minute_of(const struct burst_ctx *x, const struct burst *b, unsigned int i)
{
	return x->conf->packet_clock ? b->sec[i] / SECONDS_PER_MINUTE : x->now_minute;
}

/*
 * Stage 1: parse and classify every packet, take its time, and gather the
 * addresses the lookups want by family. Each IPv4 source's /16 country
 * entry starts loading here, for look_up_burst().
 */
TT_DATA_PATH static void
parse_burst(const struct burst_ctx *x, struct burst *b)
{
	const struct tt_worker_tables *c = x->t;
	struct rte_mbuf **m = x->m;
	uint8_t linear[TT_PARSE_MAX_HEADER];
	unsigned int n_not4 = 0, n6 = 0, i;

	for (i = 0; i < x->n; i++) {
		struct tt_pkt *p = &b->pkt[i];
		const uint8_t *data = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m[i]);

		if (i + 1 < x->n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (unlikely(len < rte_pktmbuf_pkt_len(m[i]) && len < sizeof(linear))) {
			len = RTE_MIN(rte_pktmbuf_pkt_len(m[i]), (uint32_t)sizeof(linear));
			data = rte_pktmbuf_read(m[i], 0, len, linear);
		}
		tt_parse_frame(data, len, rte_pktmbuf_pkt_len(m[i]), p);
		b->klass[i] = (uint8_t)tt_classify_class(p);
		if (p->family == 4) {
			b->v4_dst[i] = ntohl(p->dst.v4);
			b->v4_src[i] = ntohl(p->src.v4);
			if (c->geo != NULL)
				tt_geo_prefetch_v4(c->geo, b->v4_src[i]);
			continue;
		}
		b->v4_dst[i] = 0;
		b->v4_src[i] = 0;
		b->not4_idx[n_not4++] = (uint8_t)i;
		if (p->family == 6) {
			memcpy(b->v6_dst[n6], p->dst.v6, 16);
			b->v6_idx[n6++] = (uint8_t)i;
		}
	}
	b->n_not4 = n_not4;
	b->n6 = n6;
	if (x->conf->packet_clock)
		packet_seconds(x, b);
}

/*
 * Stage 2: the destinations' sensors on the burst's port and the IPv4
 * sources' countries, in bulk lookups. IPv6 sources are few in darknet
 * traffic and look up one by one in key_burst().
 *
 * The lookups take every packet of the burst, a packet that is not IPv4
 * with the address 0 (parse_burst()), and then give those theirs: their
 * answers for 0 are overwritten. Where the lookups took the IPv4 packets
 * alone, their answers were scattered back to their packets over the
 * defaults of the others, in a burst of mixed families ~20 instructions
 * a packet; a packet not IPv4 now costs a lookup of an address in cache.
 * callgrind of the worker, mixed 20,000-frame loop (5% of its packets
 * not IPv4), teiten's instructions a packet without the receive: 654.2
 * -> 641.6; the flood at one sensor, all IPv4, 534.3 -> 533.2.
 */
TT_DATA_PATH static void
look_up_burst(const struct burst_ctx *x, struct burst *b)
{
	const struct tt_worker_tables *c = x->t;
	unsigned int i;

	/*
	 * A random source's country entries are random lines of a 256 KiB
	 * table and of 4.4 MiB of /24 blocks: start loading the /16s while
	 * the burst is parsed, the /24s (tt_geo.h) before the sensor lookup.
	 */
	if (c->geo != NULL)
		tt_geo_prefetch_v4_mixed(c->geo, b->v4_src, x->n);
	tt_sensor_lookup_v4(c->sensors, x->port, b->v4_dst, b->sensor, x->n);
	if (c->geo != NULL)
		tt_geo_country_v4(c->geo, b->v4_src, b->country, x->n);
	else
		for (i = 0; i < x->n; i++)
			b->country[i] = TT_COUNTRY_ZZ;
	for (i = 0; i < b->n_not4; i++) {
		b->sensor[b->not4_idx[i]] = TT_SENSOR_NONE;
		b->country[b->not4_idx[i]] = TT_COUNTRY_ZZ;
	}
	if (b->n6 != 0) {
		tt_sensor_lookup_v6(c->sensors, x->port, b->v6_dst, b->v6_sensor, b->n6);
		for (i = 0; i < b->n6; i++)
			b->sensor[b->v6_idx[i]] = b->v6_sensor[i];
	}
}

/* What the counters see of a dark packet: its keys and HLL position. */
TT_DATA_PATH static inline void
fill_count_key(const struct burst_ctx *x, const struct burst *b, unsigned int i,
		uint16_t sensor, uint32_t bytes, struct tt_count_pkt *cp)
{
	const struct tt_worker_tables *c = x->t;
	const struct tt_pkt *p = &b->pkt[i];
	uint16_t country = b->country[i];
	uint32_t svc = tt_classify_service(p), bit = tt_classify_watch_bit(svc);

	/*
	 * The HLL element is the source's raw address bytes (constant
	 * lengths inline the hash). A dark packet is IPv4 or IPv6.
	 */
	if (p->family == 4) {
		tt_hll_position(&p->src.v4, 4, &cp->hll_index, &cp->hll_rank);
	} else {
		if (c->geo != NULL)
			country = tt_geo_country_v6(c->geo, p->src.v6);
		tt_hll_position(p->src.v6, 16, &cp->hll_index, &cp->hll_rank);
	}
	/* From locals: cp's byte stores may alias what they were read from, so it is not reread. */
	cp->minute = minute_of(x, b, i);
	cp->svc = svc;
	cp->bytes = bytes;
	cp->sensor = sensor;
	cp->country = country;
	cp->klass = b->klass[i];
	cp->home = country == c->home_country;
	cp->v6 = p->family != 4;
	cp->malformed = (p->flags & TT_PKT_MALFORMED) != 0;
	cp->watched = (c->watched[bit / 8] >> (bit % 8)) & 1;
}

/*
 * The burst's earliest and latest second of a dark packet, into its
 * figures; 0 is "none" to publish_stats(). With the wall clock every
 * packet of a burst has the burst's second: tests of each packet's, a
 * load and a store of acc's fields each, cost the flood at one sensor ~9
 * instructions a dark packet (callgrind).
 */
TT_DATA_PATH static inline void
dark_seconds(const struct burst_ctx *x, const struct burst *b)
{
	uint32_t first_before = UINT32_MAX, last = 0, sec;
	unsigned int d;

	if (b->n_dark == 0)
		return;
	if (!x->conf->packet_clock) {
		x->acc->first_sec = x->now_sec;
		x->acc->last_sec = x->now_sec;
		return;
	}
	/* first_before: the earliest less one, where a second of 0 wraps past every other */
	for (d = 0; d < b->n_dark; d++) {
		sec = b->sec[b->dark[d]];
		first_before = RTE_MIN(first_before, sec - 1);
		last = RTE_MAX(last, sec);
	}
	x->acc->first_sec = (uint32_t)(first_before + 1);
	x->acc->last_sec = last;
}

/*
 * Stage 3: account every packet, pick the dark ones (a sensor's prefix on
 * that sensor's port), and build what the counters see of them.
 */
TT_DATA_PATH static void
key_burst(const struct burst_ctx *x, struct burst *b)
{
	struct tt_worker_stats *acc = x->acc;
	/* summed here, stored once: cp's byte stores would have made acc's fields reloads */
	uint64_t rx_bytes = 0, malformed_pkts = 0, non_ip = 0, not_dark = 0;
	unsigned int n_dark = 0, i;

	for (i = 0; i < x->n; i++) {
		const struct tt_pkt *p = &b->pkt[i];
		bool malformed = (p->flags & TT_PKT_MALFORMED) != 0;
		uint16_t sensor = b->sensor[i];
		uint32_t bytes = rte_pktmbuf_pkt_len(x->m[i]);

		rx_bytes += bytes;
		malformed_pkts += malformed;
		if (!(p->flags & TT_PKT_HAS_ADDR)) {
			non_ip += !malformed;
			continue;
		}
		if (sensor == TT_SENSOR_NONE) {
			not_dark++;
			continue;
		}
		fill_count_key(x, b, i, sensor, bytes, &b->cp[n_dark]);
		b->dark[n_dark++] = (uint8_t)i;
	}
	b->n_dark = n_dark;
	acc->rx_bytes += rx_bytes;
	acc->malformed += malformed_pkts;
	acc->non_ip += non_ip;
	acc->not_dark += not_dark;
	acc->dark_pkts += n_dark;
	dark_seconds(x, b);
}

/* What the source memory sees of dark packet @p d (a fingerprinted one). */
TT_DATA_PATH static inline void
fill_source(const struct burst_ctx *x, const struct burst *b, unsigned int d,
		struct tt_sources_pkt *sp)
{
	const struct tt_pkt *p = &b->pkt[b->dark[d]];
	const struct tt_count_pkt *cp = &b->cp[d];

	sp->addr = src_bytes(p);
	sp->family = p->family;
	sp->klass = cp->klass;
	sp->home = cp->home;
	sp->country = cp->country;
	sp->sensor = cp->sensor;
	sp->sport = p->sport;
	sp->dport = (p->flags & TT_PKT_HAS_PORTS) ? p->dport : 0;
	sp->svc = cp->svc;
	sp->sec = second_of(x, b, b->dark[d]);
}

/*
 * Dark packet @p d into the list of fingerprinted ones, which holds
 * @p n_fp: written at the next place, kept only if it is one (no branch
 * on its class). @return the list's new count.
 */
TT_DATA_PATH static inline unsigned int
list_fingerprinted(struct burst *b, unsigned int d, unsigned int n_fp)
{
	b->own_fp[n_fp] = (uint8_t)d;
	return n_fp + (b->cp[d].klass != TT_CLASS_OTHER);
}

/*
 * The dark packets in the two orders stage 4 takes them: by class (each
 * class in arrival order), and the fingerprinted ones in arrival order.
 * @return the fingerprinted packets.
 *
 * Each class's count, then its next place in by_class, is a byte of one
 * register: a burst of one class (a flood) then adds to a register packet
 * after packet, where a byte array on the stack made every packet wait for
 * the store of the one before (a store-to-load forward, some 5 cycles, in
 * each of the two loops).
 *
 * A burst of one class, as a flood's are, is in both orders already:
 * both point at in_order, and the second loop (a load, two stores and
 * the byte arithmetic a packet) is skipped.
 *
 * With @p any_order (the counters' flows take the burst: they branch on
 * no class) by_class is arrival order too, and only the fingerprinted
 * packets are listed. A darknet's ordinary traffic (the mixed capture:
 * 10,635 flows a second, of 12,288 a shard holds, tt_counters.h) is
 * counted that way until its flows fill; floods fill them
 * at once and keep the sort. callgrind of the worker, mixed 20,000-frame
 * loop, teiten's instructions a packet (the receive's left out): 671.7
 * -> 654.2.
 */
TT_DATA_PATH static unsigned int
order_dark(struct burst *b, bool any_order)
{
	uint64_t next = 0;             /* byte k: class k's count, then its next place */
	unsigned int n_fp = 0, first_class, i;

	b->by_class = b->in_order;
	b->fp = b->in_order;
	if (b->n_dark == 0)
		return 0;
	if (any_order) {
		for (i = 0; i < b->n_dark; i++)
			n_fp = list_fingerprinted(b, i, n_fp);
		b->fp = b->own_fp;
		return n_fp;
	}
	for (i = 0; i < b->n_dark; i++)
		next += 1ull << (8 * b->cp[i].klass);
	first_class = b->cp[0].klass;
	if ((next >> (8 * first_class) & 0xff) == b->n_dark)
		return first_class != TT_CLASS_OTHER ? b->n_dark : 0;
	/* byte k becomes the sum of bytes 0..k-1: no byte carries, each sum is a burst at most */
	next = (next * 0x0101010101010101ull) << 8;
	for (i = 0; i < b->n_dark; i++) {
		unsigned int shift = 8 * b->cp[i].klass;

		b->own_by_class[next >> shift & 0xff] = (uint8_t)i;
		next += 1ull << shift;
		n_fp = list_fingerprinted(b, i, n_fp);
	}
	b->by_class = b->own_by_class;
	b->fp = b->own_fp;
	return n_fp;
}
_Static_assert(TT_CLASS_COUNT <= 8, "order_dark() keeps a class's count in a byte of 64 bits");

/*
 * Stage 4: count the dark packets, then update the fingerprinted ones'
 * source memory, each pass a prefetch pipeline (tt_counters_add_burst(),
 * tt_sources_update_burst()).
 *
 * Counting takes the packets by class, unless the shard's flows take
 * them (order_dark()). What a packet counts depends on its class at every
 * turn (its class column, its HLL variants, whether it has a source to
 * remember), and in a burst of mixed traffic those branches mispredicted
 * packet after packet; in runs they mostly do not. Counts are sums and
 * register maxima, the same in any order. The memory pass keeps
 * arrival order: which source a full bucket evicts depends on it.
 * Interleaved medians of 4, busy cycles a packet, against one pass in
 * arrival order: mixed 20,000-frame loop 276.4 -> 260.8 (by class and home
 * 257.9, and watched too 253.5: noise); Mirai-type flood 231.0 -> 232.4,
 * flood at one sensor 100.4 -> 100.7, at 64 sensors 137.1 -> 137.2. The
 * same capture sorted by protocol and port measured 210: the parse and
 * key stages branch on the frame too. Sorting the burst by protocol
 * before parsing cost more than it saved (259.7 -> 269.0): it reads each
 * frame earlier than the parse's own prefetch allows.
 */
TT_DATA_PATH static void
count_burst(const struct burst_ctx *x, struct burst *b)
{
	unsigned int n_fp = order_dark(b, tt_counters_flows_on(x->shard)), f;

	if (!tt_counters_add_burst(x->shard, b->cp, b->by_class, b->n_dark))
		x->acc->hll_record_off += b->n_dark;
	BENCH_STOP_AFTER(4);
	if (n_fp == 0)
		return;
	for (f = 0; f < n_fp; f++)
		fill_source(x, b, b->fp[f], &b->sp[f]);
	x->acc->source_deltas_dropped +=
		tt_sources_update_burst(x->sources, x->deltas, b->sp, n_fp);
}

/* One burst, stage after stage; a bench build may stop after any of them. */
TT_DATA_PATH static void
process_burst(const struct burst_ctx *x, struct burst *b)
{
	BENCH_STOP_AFTER(0);
	parse_burst(x, b);
	BENCH_STOP_AFTER(1);
	look_up_burst(x, b);
	BENCH_STOP_AFTER(2);
	key_burst(x, b);
	BENCH_STOP_AFTER(3);
	count_burst(x, b);
}

/*
 * Give a burst's mbufs back. A burst of plain mbufs, as a receive hands
 * them over (one segment, one reference, direct, one pool), goes back to
 * its pool in one put: what rte_pktmbuf_free_bulk() would do for them
 * after testing and resetting each one (rte_pktmbuf_prefree_seg()), and
 * its tests are these, without the branches between them. Any other
 * burst is its to free. callgrind of the worker, instructions a packet
 * of the free: 39.4 -> 19.2, nearly all of it the tests (the put copies
 * pointers); the flood at one sensor 634.6 -> 622.0 with a first
 * version of the tests (23 a packet, compares). Not inlined: one call a
 * burst, and a profile shows the free apart (scripts/bench --instructions).
 *
 * The reference count and the segment count are read as one word, the
 * 8 bytes a receive rearms (data_off, refcnt, nb_segs, port in
 * rte_mbuf_core.h). The next pointer is not read: a single segment's is
 * NULL (the mbuf's contract), and it lies on the mbuf's second line,
 * which nothing else here touches. Flood at one sensor, the free's
 * own lines: 19.2 -> 15.2 instructions a packet.
 */
#define REARM_REFCNT_SEGS (0xffffffffull << 16)   /* refcnt, nb_segs of the rearm word */
#define REARM_PLAIN (1ull << 16 | 1ull << 32)      /* refcnt 1, nb_segs 1 */
_Static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN &&
	offsetof(struct rte_mbuf, refcnt) == offsetof(struct rte_mbuf, rearm_data) + 2 &&
	offsetof(struct rte_mbuf, nb_segs) == offsetof(struct rte_mbuf, rearm_data) + 4,
	"free_burst() reads refcnt and nb_segs as bits 16..47 of the rearm word");

TT_DATA_PATH static __rte_noinline void
free_burst(struct rte_mbuf **m, uint16_t n)
{
	struct rte_mempool *pool = m[0]->pool;
	uint64_t other = 0, rearm;
	uint16_t i;

	/* Differences or'ed together, not compares: one test for the burst (23 -> 19 a packet). */
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *b = m[i];     /* the worker's alone: plain reads */

		memcpy(&rearm, &b->rearm_data, sizeof(rearm));
		other |= ((uintptr_t)b->pool ^ (uintptr_t)pool) |
			((rearm & REARM_REFCNT_SEGS) ^ REARM_PLAIN) |
			(b->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
	}
	if (likely(other == 0))
		rte_mempool_put_bulk(pool, (void **)m, n);
	else
		rte_pktmbuf_free_bulk(m, n);
}

/* Fold the burst's local figures into the shared stats, once per burst. */
TT_DATA_PATH static void
publish_stats(struct tt_worker_stats *s, const struct tt_worker_stats *acc)
{
	stat_add(&s->rx_pkts, acc->rx_pkts);
	stat_add(&s->rx_bytes, acc->rx_bytes);
	stat_add(&s->dark_pkts, acc->dark_pkts);
	stat_add(&s->not_dark, acc->not_dark);
	stat_add(&s->malformed, acc->malformed);
	stat_add(&s->non_ip, acc->non_ip);
	stat_add(&s->no_timestamp, acc->no_timestamp);
	stat_add(&s->busy_cycles, acc->busy_cycles);
	stat_add(&s->bursts, acc->bursts);
	stat_add(&s->hll_record_off, acc->hll_record_off);
	stat_add(&s->source_deltas_dropped, acc->source_deltas_dropped);
	if (acc->first_sec != 0 && (s->first_sec == 0 || acc->first_sec < s->first_sec))
		stat_set(&s->first_sec, acc->first_sec);
	if (acc->last_sec > s->last_sec)
		stat_set(&s->last_sec, acc->last_sec);
}

/*
 * Might the interval not keep @p packets more: its counts (tables, pools)
 * or its source deltas. A few compares.
 */
TT_DATA_PATH static inline bool
interval_pressure(const struct tt_worker_interval *i, uint32_t packets)
{
	return tt_counters_pressure(i->counts, packets) ||
		tt_sources_deltas_pressure(i->sources, packets);
}

/*
 * A swap was taken (swap_take_request()): the interval to write, and the
 * tables to count it with, the control thread's last
 * tt_worker_set_tables() (ordered by the request's acquire load).
 */
TT_DATA_PATH static struct tt_worker_interval *
swapped(struct tt_worker *w, uint32_t ack, struct burst_ctx *x)
{
	x->t = __atomic_load_n(&w->next_tables, __ATOMIC_RELAXED);
	return swap_written(w, ack);
}

/*
 * Up to TT_WORKER_BURST packets from one queue. The vector receive paths
 * of common NICs' drivers return at most 32 a call, so ask again while a
 * call brings packets; at line rate every burst then fills, and an idle
 * queue costs one empty call, as before.
 */
TT_DATA_PATH static inline uint16_t
receive_burst(const struct tt_worker_rxq *rq, struct rte_mbuf **pkts)
{
	uint16_t n = 0, got;

	do {
		got = rte_eth_rx_burst(rq->port, rq->queue, pkts + n, TT_WORKER_BURST - n);
		n += got;
	} while (got != 0 && n < TT_WORKER_BURST);
	return n;
}

/*
 * Between bursts: a capture's end may wait for this (tt_worker_conf.readers).
 * A load, and a store when a waiter has started a new grace period.
 */
TT_DATA_PATH static inline void
report_quiescent(const struct tt_worker_conf *c)
{
	if (c->readers != NULL)
		rte_rcu_qsbr_quiescent(c->readers, c->index);
}

/*
 * Ask for a swap and wait for it (a replay's interval is nearly full);
 * @return the interval to write: the fresh one, or the old one when asked
 * to stop.
 */
TT_DATA_PATH static struct tt_worker_interval *
wait_for_swap(struct tt_worker *w, uint32_t *ack, struct burst_ctx *x)
{
	struct tt_worker_interval *cur = swap_written(w, *ack);

	/* the control thread reads cells only (tt_counters_drain()) */
	tt_counters_drain(cur->counts);
	__atomic_store_n(&w->wants_swap, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		if (swap_take_request(w, ack)) {
			cur = swapped(w, *ack, x);
			break;
		}
		report_quiescent(&w->conf);
		rte_pause();
	}
	__atomic_store_n(&w->wants_swap, 0, __ATOMIC_RELEASE);
	return cur;
}

TT_DATA_PATH int
tt_worker_main(void *arg)
{
	struct tt_worker *w = arg;
	const struct tt_worker_conf *c = &w->conf;
	struct rte_mbuf *pkts[TT_WORKER_BURST];
	struct burst_ctx x = { .conf = c, .t = __atomic_load_n(&w->next_tables, __ATOMIC_ACQUIRE), .sources = w->sources, .m = pkts };
	struct burst b;
	struct wall_clock wc;
	struct timespec ts;
	uint32_t ack, loop = 0;
	uint64_t idle_since = 0, replay_idle;
	struct tt_worker_interval *cur;
	bool has_live = false, asked_early = false;
	uint16_t q;

#ifdef TT_BENCH_STAGES
	bench_init();
#endif
	for (q = 0; q < TT_WORKER_BURST; q++)
		b.in_order[q] = (uint8_t)q;
	clock_gettime(CLOCK_REALTIME, &ts);
	wc.base_sec = (uint64_t)ts.tv_sec;
	wc.base_tsc = rte_rdtsc();
	wc.hz = rte_get_tsc_hz();
	replay_idle = wc.hz / 1000 * REPLAY_IDLE_MS;
	for (q = 0; q < c->n_rxq; q++)
		has_live |= !c->rxq[q].replay;

	/* Online from here to the exit: a capture's end waits for this worker's bursts. */
	if (c->readers != NULL) {
		rte_rcu_qsbr_thread_register(c->readers, c->index);
		rte_rcu_qsbr_thread_online(c->readers, c->index);
	}
	ack = __atomic_load_n(&w->swap_ack, __ATOMIC_ACQUIRE);
	cur = swap_written(w, ack);
	if (c->n_rxq == 0)
		__atomic_store_n(&w->drained, 1, __ATOMIC_RELEASE);

	for (;;) {
		uint32_t got = 0;

		for (q = 0; q < c->n_rxq; q++) {
			const struct tt_worker_rxq *rq = &c->rxq[q];
			struct tt_worker_stats acc = { 0 };
			uint64_t t0;
			uint16_t n;

			/*
			 * Replays only: rather than overflow, wait for the control
			 * plane to take the interval (it checks every tick). The file
			 * keeps its packets meanwhile, so the result is exact and
			 * repeatable. A live queue never waits.
			 */
			if (unlikely(!has_live && interval_pressure(cur, TT_WORKER_BURST)))
				cur = wait_for_swap(w, &ack, &x);
			n = receive_burst(rq, pkts);
			if (n == 0)
				continue;
			t0 = rte_rdtsc();
			got += n;
			acc.rx_pkts = n;
			acc.bursts = 1;
			x.shard = cur->counts;
			x.deltas = cur->sources;
			x.n = n;
			x.port = rq->port;
			x.now_sec = c->packet_clock ? 0 : wall_seconds(&wc);
			x.now_minute = x.now_sec / SECONDS_PER_MINUTE;
			x.acc = &acc;
			process_burst(&x, &b);
			/*
			 * A replay's flows become cells at the end of each burst,
			 * so the pressure test before the next one sees every cell
			 * the packets so far have made, as it did packet by packet:
			 * a replay waits for a swap rather than overflow, and its
			 * result stays exact. Without this, a quarter's replay in
			 * 100 ms intervals overflowed 319 cells and dropped 324
			 * register updates once a drain made the group cells the
			 * pressure test had not seen. A live queue never waits, and
			 * keeps its flows for the interval.
			 */
			if (!has_live)
				tt_counters_drain(x.shard);
			free_burst(pkts, n);
			acc.busy_cycles = rte_rdtsc() - t0;
			publish_stats(&w->stats, &acc);
#ifdef TT_BENCH_STAGES
			bench_account(t0, acc.busy_cycles, n);
#endif
		}

		if (got != 0) {
			idle_since = 0;
		} else if (!has_live) {
			uint64_t now = rte_rdtsc();

			if (idle_since == 0)
				idle_since = now;
			else if (now - idle_since > replay_idle &&
					!__atomic_load_n(&w->drained, __ATOMIC_RELAXED))
				__atomic_store_n(&w->drained, 1, __ATOMIC_RELEASE);
		}

		if (unlikely(++loop == HOUSEKEEPING_LOOPS)) {
			loop = 0;
			report_quiescent(c);
			/* its flows into its cells before the shard is handed over */
			if (swap_requested(w, ack)) {
				tt_counters_drain(cur->counts);
				if (swap_take_request(w, &ack)) {
					cur = swapped(w, ack, &x);
					if (asked_early) {
						asked_early = false;
						__atomic_store_n(&w->wants_swap, 0, __ATOMIC_RELEASE);
					}
				}
			}
			/*
			 * A live queue cannot wait, so ask early: once a table or
			 * pool is half full, the control plane takes the shard at
			 * its next tick (10 ms) instead of at the flush interval,
			 * and the other half absorbs what arrives meanwhile. A few
			 * compares every HOUSEKEEPING_LOOPS polls. The source
			 * deltas do not count here: a spoofed flood's would fill
			 * any table within milliseconds, and swapping for them
			 * would hand the publisher millions of host records a
			 * second; past their table they are dropped and counted
			 * instead (tt_sources_deltas_dropped()).
			 */
			if (has_live && !asked_early &&
					tt_counters_pressure(cur->counts, EARLY_SWAP_PACKETS)) {
				asked_early = true;
				__atomic_store_n(&w->wants_swap, 1, __ATOMIC_RELEASE);
			}
			if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
				break;
		}
	}
	tt_counters_drain(cur->counts);
	if (c->readers != NULL) {
		rte_rcu_qsbr_thread_offline(c->readers, c->index);
		rte_rcu_qsbr_thread_unregister(c->readers, c->index);
	}
#ifdef TT_BENCH_STAGES
	bench_report();
#endif
	/* From here the control plane owns both intervals. */
	__atomic_store_n(&w->exited, 1, __ATOMIC_RELEASE);
	return 0;
}
