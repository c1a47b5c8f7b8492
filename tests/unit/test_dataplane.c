/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backed modules with a real EAL (no hugepages): sensor lookup on DPDK's FIB,
 * port setup, and workers polling ring-backed ports while the control plane
 * swaps their shards concurrently. The counts must come out exact.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "counters_rows.h"
#include "cunit_main.h"
#include "eal_runtime.h"
#include "frames.h"
#include "tt_capture.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_port.h"
#include "tt_sensor.h"
#include "tt_worker.h"

static struct tt_prefix prefixes[6];
static struct tt_sensor_conf sensors[2] = {
	{ .name = "a", .port = 0 },
	{ .name = "b", .port = 1 },
};
static struct tt_config cfg = {
	.sensors = sensors, .n_sensors = 2, .prefixes = prefixes, .n_prefixes = 6,
};

static void
add(unsigned int i, const char *s, uint16_t sensor)
{
	CU_ASSERT_EQUAL_FATAL(tt_config_parse_prefix(s, &prefixes[i]), 0);
	prefixes[i].sensor = sensor;
}

static int
suite_init(void)
{
	struct tt_prefix p;

	if (tt_config_parse_prefix("192.0.2.0/25", &p) != 0)
		return -1;
	return 0;
}

static void
build_config(void)
{
	add(0, "192.0.2.0/25", 0);
	add(1, "10.1.2.3/32", 0);
	add(2, "2001:db8:1::/64", 0);
	add(3, "192.0.2.128/25", 1);
	add(4, "198.51.100.0/24", 1);
	add(5, "2001:db8::/48", 1);
}

static void
test_sensor_create_invalid(void)
{
	struct tt_config empty = { 0 };

	CU_ASSERT_PTR_NULL(tt_sensor_create(NULL, 0));
	CU_ASSERT_PTR_NULL(tt_sensor_create(&empty, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tt_sensor_free(NULL);
}

static void
test_sensor_lookup(void)
{
	struct tt_sensor_table *t;
	uint32_t v4[6] = {
		IP4(192, 0, 2, 0), IP4(192, 0, 2, 127), IP4(192, 0, 2, 128),
		IP4(10, 1, 2, 3), IP4(10, 1, 2, 4), IP4(198, 51, 100, 255),
	};
	uint8_t v6[3][16];
	uint16_t out[6];
	unsigned int i;

	build_config();
	t = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* sensor 0 ("a") receives on port 0, sensor 1 ("b") on port 1 */
	tt_sensor_lookup_v4(t, 0, v4, out, 6);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(out[1], 0);
	CU_ASSERT_EQUAL(out[2], TT_SENSOR_NONE);   /* b's prefix, on a's port */
	CU_ASSERT_EQUAL(out[3], 0);                /* a /32, past the tbl24 */
	CU_ASSERT_EQUAL(out[4], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[5], TT_SENSOR_NONE);
	tt_sensor_lookup_v4(t, 1, v4, out, 6);
	CU_ASSERT_EQUAL(out[0], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[1], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[2], 1);
	CU_ASSERT_EQUAL(out[3], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[4], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[5], 1);
	tt_sensor_lookup_v4(t, 2, v4, out, 6);     /* a port no sensor receives on */
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(out[i], TT_SENSOR_NONE);
	inet_pton(AF_INET6, "2001:db8:1::ff", v6[0]);
	inet_pton(AF_INET6, "2001:db8:0:7::1", v6[1]);
	inet_pton(AF_INET6, "2001:db8:2::1", v6[2]);
	tt_sensor_lookup_v6(t, 0, v6, out, 3);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(out[1], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[2], TT_SENSOR_NONE);
	tt_sensor_lookup_v6(t, 1, v6, out, 3);
	CU_ASSERT_EQUAL(out[0], TT_SENSOR_NONE);
	CU_ASSERT_EQUAL(out[1], 1);
	CU_ASSERT_EQUAL(out[2], TT_SENSOR_NONE);
	tt_sensor_free(t);
}

/* The trie needs one tbl8 group more than a prefix reserves. */
static void
test_sensor_single_v6_prefix(void)
{
	struct tt_prefix one;
	struct tt_sensor_conf only = { .name = "v6", .port = 0 };
	struct tt_config c = { .sensors = &only, .n_sensors = 1, .prefixes = &one,
		.n_prefixes = 1 };
	struct tt_sensor_table *t;
	uint8_t a[1][16];
	uint16_t out;

	CU_ASSERT_EQUAL_FATAL(tt_config_parse_prefix("2001:db8:1::/64", &one), 0);
	t = tt_sensor_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	inet_pton(AF_INET6, "2001:db8:1::7", a[0]);
	tt_sensor_lookup_v6(t, 0, a, &out, 1);
	CU_ASSERT_EQUAL(out, 0);
	tt_sensor_free(t);
}

/*
 * Prefixes longer than /24 live in one-line leaves beside the FIB. Random
 * disjoint prefixes, carved out of /24s down to /32 (runs of one sensor side
 * by side, gaps, and leaves with more runs than a line holds), against the
 * longest match worked out by hand from the prefix list.
 */
enum { LEAF_SENSORS = 5, LEAF_BLOCKS = 300, LEAF_PREFIXES_MAX = LEAF_BLOCKS * 256 + 8 };

static struct tt_prefix leaf_prefixes[LEAF_PREFIXES_MAX];
static uint32_t n_leaf_prefixes;

static void
leaf_add(uint32_t base, uint8_t len, uint16_t sensor)
{
	struct tt_prefix *p = &leaf_prefixes[n_leaf_prefixes++];
	uint32_t be = htonl(base);

	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->len = len;
	memcpy(p->addr, &be, 4);
	p->sensor = sensor;
}

/* Split [base/len] in halves, or give it to a sensor, or leave it dark. */
static void
carve(uint32_t base, uint8_t len, unsigned int dense)
{
	unsigned int r = (unsigned int)rand() % 8;

	if (len == 32 || (len > 24 && r >= dense)) {
		if (r % 4 != 0)
			leaf_add(base, len, (uint16_t)(rand() % LEAF_SENSORS));
		return;
	}
	carve(base, len + 1, dense);
	carve(base | 1u << (31 - len), len + 1, dense);
}

static uint16_t
brute_sensor(uint32_t addr)
{
	uint32_t i, best_len = 0;
	uint16_t best = TT_SENSOR_NONE;

	for (i = 0; i < n_leaf_prefixes; i++) {
		const struct tt_prefix *p = &leaf_prefixes[i];
		uint32_t be, base, mask = p->len == 0 ? 0 : ~0u << (32 - p->len);

		memcpy(&be, p->addr, 4);
		base = ntohl(be);
		if ((addr & mask) == base && p->len >= best_len) {
			best_len = p->len;
			best = p->sensor;
		}
	}
	return best;
}

static void
test_sensor_lookup_leaves(void)
{
	struct tt_sensor_conf s[LEAF_SENSORS];
	struct tt_config c = { .sensors = s, .n_sensors = LEAF_SENSORS, .prefixes = leaf_prefixes };
	struct tt_sensor_table *t;
	uint32_t dst[64], i, k, round, mismatches = 0;
	uint16_t out[64];

	memset(s, 0, sizeof(s));
	for (i = 0; i < LEAF_SENSORS; i++)
		s[i].port = (uint16_t)(i % 2);       /* each round asks one port */
	srand(7);
	n_leaf_prefixes = 0;
	/* whole blocks, and one /24 routed as a plain prefix beside them */
	leaf_add(IP4(10, 0, 0, 0), 16, 0);
	leaf_add(IP4(198, 51, 100, 0), 24, 1);
	for (i = 0; i < LEAF_BLOCKS; i++)
		carve(IP4(100, 64, 0, 0) + i * 256 * 3, 24, i % 3 == 0 ? 7 : 3);
	/* a /24 of alternating single addresses: 256 runs, past any inline room */
	for (i = 0; i < 256; i++)
		leaf_add(IP4(203, 0, 113, i), 32, (uint16_t)(i % 2));
	c.n_prefixes = n_leaf_prefixes;
	t = tt_sensor_create(&c, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (round = 0; round < 2000; round++) {
		for (k = 0; k < 64; k++) {
			switch (rand() % 4) {
			case 0:
				dst[k] = IP4(203, 0, 113, 0) + (uint32_t)(rand() % 256);
				break;
			case 1:
				dst[k] = (uint32_t)rand() << 1 ^ (uint32_t)rand();
				break;
			default:
				dst[k] = IP4(100, 64, 0, 0) + (uint32_t)(rand() % (LEAF_BLOCKS * 768));
			}
		}
		dst[0] = IP4(10, 0, 255, 255);
		dst[1] = IP4(198, 51, 100, 7);
		tt_sensor_lookup_v4(t, (uint16_t)(round % 2), dst, out, 64);
		for (k = 0; k < 64; k++) {
			uint16_t want = brute_sensor(dst[k]);

			if (want != TT_SENSOR_NONE && s[want].port != round % 2)
				want = TT_SENSOR_NONE;
			mismatches += out[k] != want;
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	tt_sensor_free(t);
}

/* A /27 inside a /24 of another sensor overlaps: refused, never resolved silently. */
static void
test_sensor_leaf_overlap_refused(void)
{
	struct tt_sensor_conf s[2] = { { .name = "a" }, { .name = "b" } };
	struct tt_config c = { .sensors = s, .n_sensors = 2, .prefixes = leaf_prefixes };

	n_leaf_prefixes = 0;
	leaf_add(IP4(192, 0, 2, 0), 24, 0);
	leaf_add(IP4(192, 0, 2, 32), 27, 1);
	c.n_prefixes = n_leaf_prefixes;
	CU_ASSERT_PTR_NULL(tt_sensor_create(&c, SOCKET_ID_ANY));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
}

/* --- workers on ring ports --- */

enum {
	N_QUEUES = 2,
	RING_SIZE = 1024,
	ROUNDS = 200,
	PER_ROUND = 500,          /* per queue */
	/*
	 * How long a swap waits for a worker to hand over: long, since on a
	 * loaded machine (more lcores than cores, sanitizers) a worker may not
	 * run for a second; a fast hand-over does not wait it out.
	 */
	SWAP_WAIT_MS = 15000,
};

/* Frame kinds fed in a fixed rotation; expectations count them. */
enum kind { K_MIRAI, K_NMAP6, K_NOT_DARK, K_WRONG_PORT, K_MALFORMED, K_ARP, K_COUNT };

static void
make_frame(enum kind k, uint32_t i, struct frame *f)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff }, dst6[16] = { 0 };
	uint32_t ip, dst = IP4(192, 0, 2, i % 128);

	switch (k) {
	case K_MIRAI:       /* sensor a, port 0 */
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0, 50, 6, IP4(203, 0, 113, i % 200), dst);
		tcp(f, 1000, (i / K_COUNT) % 2 ? 23 : 2323, dst, 0x02, 5840, 5, NULL, 0);
		ipv4_fix_total(f, ip);
		break;
	case K_NMAP6:       /* sensor a by IPv6 */
		inet_pton(AF_INET6, "2001:db8:1::9", dst6);
		eth(f, 0x86dd);
		ip = ipv6(f, 0, 6, 60, src6, dst6);
		tcp(f, 1000, 22, i, 0x02, 2048, 6, mss, 4);
		ipv6_fix_payload(f, ip);
		break;
	case K_NOT_DARK:
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0, 50, 17, IP4(203, 0, 113, 1), IP4(8, 8, 8, 8));
		udp(f, 1, 53, 8);
		ipv4_fix_total(f, ip);
		break;
	case K_WRONG_PORT:  /* sensor b's prefix, but arriving on port 0 */
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0, 50, 17, IP4(203, 0, 113, 1), IP4(198, 51, 100, 1));
		udp(f, 1, 53, 8);
		ipv4_fix_total(f, ip);
		break;
	case K_MALFORMED:   /* sensor a, TCP cut to 8 bytes */
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0, 50, 6, IP4(203, 0, 113, 1), dst);
		put16(f, 1000);
		put16(f, 80);
		put32(f, 0);
		ipv4_fix_total(f, ip);
		break;
	default:
		eth(f, 0x0806);
		put32(f, 0x00010800);
		break;
	}
}

static struct tt_worker *workers[N_QUEUES];

/*
 * Enqueue frame @p f on @p rx in an mbuf of @p pool, waiting (up to 20 s
 * each) for a buffer the worker has freed and for room in the ring: a
 * feed of more packets than either holds.
 */
static void
enqueue_waiting(struct rte_ring *rx, struct rte_mempool *pool, const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	unsigned int waited;

	for (waited = 0; m == NULL && waited < 200000; waited++) {
		rte_delay_us_sleep(100);
		m = rte_pktmbuf_alloc(pool);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)f->len), f->b, f->len);
	for (waited = 0; rte_ring_enqueue(rx, m) != 0 && waited < 2000000; waited++)
		rte_delay_us_sleep(10);
	CU_ASSERT_FATAL(waited < 2000000);
}

/*
 * @p w's stats once it has received @p pkts packets, or after 10 s: an empty
 * ring is not yet counted, the stats follow the worker's burst.
 */
static void
read_stats_at(struct tt_worker *w, uint64_t pkts, struct tt_worker_stats *st)
{
	unsigned int waited;

	for (waited = 0; waited < 20000; waited++) {
		tt_worker_read_stats(w, st);
		if (st->rx_pkts == pkts)
			return;
		rte_delay_us_sleep(500);
	}
}

static void
collect_all(struct tt_merged *run, unsigned int timeout_ms)
{
	unsigned int w;

	for (w = 0; w < N_QUEUES; w++) {
		const struct tt_worker_interval *iv = tt_worker_swap(workers[w], timeout_ms);

		CU_ASSERT_PTR_NOT_NULL_FATAL(iv);
		CU_ASSERT_EQUAL(tt_counters_merge(run, iv->counts, 0, true), 0);
		tt_worker_interval_reset(iv);
	}
}

static uint64_t
cell_sum(const struct tt_merged *run, uint16_t sensor, unsigned int col, uint32_t svc)
{
	struct table t = port_table(run);
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < cells(t); i++) {
		struct tt_counters_row k = key(t, i);

		if (k.sensor == sensor && (svc == 0 || k.item == svc))
			sum += values(t, i)[col];
	}
	return sum;
}

static void
test_workers_count_exactly_while_swapped(void)
{
	struct rte_ring *rx[N_QUEUES], *tx;
	struct rte_mempool *pool;
	struct tt_sensor_table *table;
	struct tt_port_info port;
	struct tt_merged *run;
	struct tt_counters_losses lost;
	struct tt_worker_stats st, total = { 0 };
	struct frame f;
	unsigned int lcore, w = 0, q, r, swaps = 0;
	int port_id;
	uint32_t i;

	build_config();
	table = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(table);
	for (q = 0; q < N_QUEUES; q++) {
		char name[32];

		snprintf(name, sizeof(name), "ut_rx%u", q);
		rx[q] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rx[q]);
	}
	tx = rte_ring_create("ut_tx", 64, SOCKET_ID_ANY, 0);
	port_id = rte_eth_from_rings("ut_ring0", rx, N_QUEUES, &tx, 1, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(port_id >= 0);
	CU_ASSERT_EQUAL_FATAL(port_id, 0);
	pool = rte_pktmbuf_pool_create("ut_pool", 8191, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL_FATAL(tt_port_probe((uint16_t)port_id, N_QUEUES, &port), 0);
	CU_ASSERT_EQUAL(port.n_rxq, N_QUEUES);
	CU_ASSERT_FALSE(port.replay);
	CU_ASSERT_EQUAL_FATAL(tt_port_start(&port, pool, 512), 0);

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct tt_worker_conf wc = {
			.lcore_id = lcore, .index = (uint16_t)w, .sensors = table,
			.n_rxq = 1, .timestamp_offset = -1,
			.home_country = (uint16_t)tt_classify_country_index("JP"),
			.counters = { .port_cells = 1024, .country_cells = 1024, .hll_cells = 1024,
				.hll_sparse = 1024, .hll_dense = 16 },
			.source_deltas = 1024,
			.sources = { .entries = 1024, .mirai_min_ports = 2, .horizon = 86400 },
		};

		if (w == N_QUEUES)
			break;
		wc.rxq[0].port = (uint16_t)port_id;
		wc.rxq[0].queue = (uint16_t)w;
		workers[w] = tt_worker_create(&wc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(workers[w]);
		CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, workers[w], lcore), 0);
		w++;
	}
	CU_ASSERT_EQUAL_FATAL(w, N_QUEUES);
	run = tt_counters_merged_create(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);

	/* Feed while swapping: every round enqueues, then takes the shards. */
	for (r = 0; r < ROUNDS; r++) {
		for (q = 0; q < N_QUEUES; q++) {
			for (i = 0; i < PER_ROUND; i++) {
				make_frame((enum kind)(i % K_COUNT), i, &f);
				enqueue_waiting(rx[q], pool, &f);
			}
		}
		collect_all(run, SWAP_WAIT_MS);
		swaps++;
	}
	for (q = 0; q < N_QUEUES; q++)
		while (!rte_ring_empty(rx[q]))
			rte_delay_us_sleep(100);
	for (w = 0; w < N_QUEUES; w++)
		tt_worker_stop(workers[w]);
	rte_eal_mp_wait_lcore();
	collect_all(run, 0);      /* returned workers: no wait */

	for (w = 0; w < N_QUEUES; w++) {
		tt_worker_read_stats(workers[w], &st);
		total.rx_pkts += st.rx_pkts;
		total.not_dark += st.not_dark;
		total.malformed += st.malformed;
		total.non_ip += st.non_ip;
		total.dark_pkts += st.dark_pkts;
		total.hll_record_off += st.hll_record_off;
	}
	{
		/* i % 6 over 500 per round: kinds 0,1 get 84 each, kinds 2..5 get 83. */
		uint64_t n = (uint64_t)ROUNDS * N_QUEUES;
		uint64_t mirai = n * 84, nmap6 = n * 84, other = n * 83;

		CU_ASSERT_EQUAL(total.rx_pkts, n * PER_ROUND);
		CU_ASSERT_EQUAL(total.not_dark, 2 * other);
		CU_ASSERT_EQUAL(total.non_ip, other);
		CU_ASSERT_EQUAL(total.malformed, other);
		CU_ASSERT_EQUAL(total.dark_pkts, mirai + nmap6 + other);
		/* 200 sources, over and over: the record of registers stays on */
		CU_ASSERT_EQUAL(total.hll_record_off, 0);
		CU_ASSERT_EQUAL(cell_sum(run, 0, TT_PORT_COL_PKTS, 0), mirai + nmap6 + other);
		CU_ASSERT_EQUAL(cell_sum(run, TT_SCOPE_ALL, TT_PORT_COL_PKTS, 0), mirai + nmap6 + other);
		CU_ASSERT_EQUAL(cell_sum(run, 1, TT_PORT_COL_PKTS, 0), 0);
		CU_ASSERT_EQUAL(cell_sum(run, 0, tt_schema_class_col(TT_CLASS_MIRAI), 0), mirai);
		CU_ASSERT_EQUAL(cell_sum(run, 0, TT_PORT_COL_PKTS, TT_SVC(TT_SVC_TCP, 23)), mirai / 2);
		CU_ASSERT_EQUAL(cell_sum(run, 0, tt_schema_class_col(TT_CLASS_NMAP), 0), nmap6);
		CU_ASSERT_EQUAL(cell_sum(run, 0, TT_PORT_COL_V6, 0), nmap6);
		CU_ASSERT_EQUAL(cell_sum(run, 0, TT_PORT_COL_MALFORMED, TT_SVC(TT_SVC_TCP, 80)), other);
		CU_ASSERT_EQUAL(cell_sum(run, 0, TT_PORT_COL_HOME, 0), 0);
		tt_counters_merged_losses(run, &lost);
		CU_ASSERT_EQUAL(lost.overflowed + lost.lost, 0);
	}
	CU_ASSERT(swaps == ROUNDS);
	for (w = 0; w < N_QUEUES; w++)
		tt_worker_free(workers[w]);
	tt_counters_merged_free(run);
	tt_port_stop(&port);
	tt_sensor_free(table);
	rte_mempool_free(pool);
}

/*
 * A started one-queue ring port (named @p name) whose 192.0.2.0/24 is its
 * one sensor's, with the sensor table and an mbuf pool: what a test of one
 * live worker needs.
 */
struct ring_port {
	struct tt_prefix prefix;
	struct tt_sensor_conf sensor;
	struct tt_config cfg;
	struct rte_ring *rx, *tx;
	struct rte_mempool *pool;
	struct tt_sensor_table *table;
	struct tt_port_info port;
	uint16_t port_id;
};

static void
ring_port_start(struct ring_port *r, const char *name)
{
	char ring[32];
	int id;

	memset(r, 0, sizeof(*r));
	snprintf(r->sensor.name, sizeof(r->sensor.name), "%s", name);
	r->cfg.sensors = &r->sensor;
	r->cfg.n_sensors = 1;
	r->cfg.prefixes = &r->prefix;
	r->cfg.n_prefixes = 1;
	snprintf(ring, sizeof(ring), "%s_rx", name);
	r->rx = rte_ring_create(ring, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(ring, sizeof(ring), "%s_tx", name);
	r->tx = rte_ring_create(ring, 64, SOCKET_ID_ANY, 0);
	CU_ASSERT_FATAL(r->rx != NULL && r->tx != NULL);
	id = rte_eth_from_rings(name, &r->rx, 1, &r->tx, 1, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(id >= 0);
	r->port_id = (uint16_t)id;
	CU_ASSERT_EQUAL_FATAL(tt_config_parse_prefix("192.0.2.0/24", &r->prefix), 0);
	r->prefix.sensor = 0;
	r->sensor.port = r->port_id;
	r->table = tt_sensor_create(&r->cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->table);
	snprintf(ring, sizeof(ring), "%s_pool", name);
	r->pool = rte_pktmbuf_pool_create(ring, 1023, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->pool);
	CU_ASSERT_EQUAL_FATAL(tt_port_probe(r->port_id, 1, &r->port), 0);
	CU_ASSERT_FALSE_FATAL(r->port.replay);
	CU_ASSERT_EQUAL_FATAL(tt_port_start(&r->port, r->pool, 256), 0);
}

/*
 * A worker of @p r's one queue on @p lcore, not launched: its counters as
 * @p counters says, @p deltas source deltas an interval, 1,024 remembered
 * sources, and @p readers for a capture's end (or NULL).
 */
static struct tt_worker *
ring_port_worker(const struct ring_port *r, unsigned int lcore, struct tt_counters_conf counters,
		uint32_t deltas, struct rte_rcu_qsbr *readers)
{
	struct tt_worker_conf wc = {
		.lcore_id = lcore, .sensors = r->table, .n_rxq = 1, .timestamp_offset = -1,
		.counters = counters, .source_deltas = deltas,
		.sources = { .entries = 1024, .mirai_min_ports = 2, .horizon = 86400 },
		.readers = readers,
	};
	struct tt_worker *w;

	wc.rxq[0].port = r->port_id;
	w = tt_worker_create(&wc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	return w;
}

static void
ring_port_stop(struct ring_port *r)
{
	tt_port_stop(&r->port);
	tt_sensor_free(r->table);
	rte_mempool_free(r->pool);
}

/*
 * A live queue never waits for a swap; it asks for one once its counting cells
 * are half full, and goes on counting until the control plane takes it. Full
 * source deltas (a spoofed Mirai-type flood fills any table) are no reason:
 * past their table they are dropped and counted.
 */
static void
test_live_worker_asks_for_early_swap(void)
{
	enum { SERVICES = 40, PORT_CELLS = 64, MIRAI_SOURCES = 20 };   /* ordinary cells stop at 48 */
	struct ring_port r;
	struct rte_ring *rx;
	struct rte_mempool *pool;
	struct tt_worker *w;
	struct tt_worker_stats st;
	const struct tt_worker_interval *retired;
	struct frame f;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0), waited;
	uint32_t i;

	ring_port_start(&r, "ut_live");
	rx = r.rx;
	pool = r.pool;
	w = ring_port_worker(&r, lcore, (struct tt_counters_conf){ .port_cells = PORT_CELLS,
		.country_cells = 1024, .hll_cells = 1024, .hll_sparse = 1024, .hll_dense = 16 },
		16, NULL);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, w, lcore), 0);

	/* Mirai-type SYNs to tcp/23 from more sources than the deltas hold: no request. */
	for (i = 0; i < MIRAI_SOURCES; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t ip;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		eth(&f, 0x0800);
		ip = ipv4(&f, 5, 0, 1, 0, 50, 6, IP4(203, 0, 113, 10 + i), IP4(192, 0, 2, 9));
		tcp(&f, 1000, 23, IP4(192, 0, 2, 9), 0x02, 5840, 5, NULL, 0);
		ipv4_fix_total(&f, ip);
		memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rx, m), 0);
	}
	for (waited = 0; waited < 20000 && !rte_ring_empty(rx); waited++)
		rte_delay_us_sleep(500);
	rte_delay_us_sleep(20000);     /* many housekeeping ticks */
	CU_ASSERT_FALSE(tt_worker_wants_swap(w));

	/* Each frame to a service of its own: one port cell each. */
	for (i = 0; i < SERVICES + 10; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t ip;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		eth(&f, 0x0800);
		ip = ipv4(&f, 5, 0, 1, 0, 50, 6, IP4(203, 0, 113, 1), IP4(192, 0, 2, 9));
		tcp(&f, 40000, (uint16_t)(1000 + i), 7, 0x02, 1024, 5, NULL, 0);
		ipv4_fix_total(&f, ip);
		memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rx, m), 0);
		if (i + 1 == SERVICES) {
			/* half full (24 cells) is passed: the worker asks, and keeps polling */
			for (waited = 0; waited < 20000 && !tt_worker_wants_swap(w); waited++)
				rte_delay_us_sleep(500);
			CU_ASSERT_TRUE(tt_worker_wants_swap(w));
		}
	}
	read_stats_at(w, MIRAI_SOURCES + SERVICES + 10, &st);
	CU_ASSERT_EQUAL(st.rx_pkts, MIRAI_SOURCES + SERVICES + 10);
	CU_ASSERT_EQUAL(st.dark_pkts, MIRAI_SOURCES + SERVICES + 10);
	retired = tt_worker_swap(w, SWAP_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(retired);
	/* tcp/23 and 47 services in cells of their own, the last 3 under the overflow key */
	CU_ASSERT_EQUAL(cells(port_table(retired->counts)), 48 + 1);
	CU_ASSERT_EQUAL(tt_counters_overflowed(retired->counts), 1 + SERVICES + 10 - 48);
	CU_ASSERT(tt_sources_deltas_dropped(retired->sources) > 0);
	/* and the worker's figure, which telemetry shows live, is the same */
	CU_ASSERT_EQUAL(st.source_deltas_dropped, tt_sources_deltas_dropped(retired->sources));
	/* the fresh shard is empty: the request ends with the swap */
	for (waited = 0; waited < 20000 && tt_worker_wants_swap(w); waited++)
		rte_delay_us_sleep(500);
	CU_ASSERT_FALSE(tt_worker_wants_swap(w));

	tt_worker_stop(w);
	rte_eal_wait_lcore(lcore);
	tt_worker_free(w);
	ring_port_stop(&r);
}

/*
 * A flood of new sources turns the shard's record of registers off, and the
 * worker counts the packets it then counts without it (telemetry's
 * hll_record_off_pkts); the registers are the same either way. Every source
 * here sets a register at a rank no earlier one did, so every look of the
 * record is a miss, and past its 32,768 entries each one gives up another.
 */
static void
test_worker_counts_packets_with_the_record_off(void)
{
	enum { SOURCES = 45000 };
	static uint64_t taken[TT_HLL_REGISTERS];   /* a bit per rank */
	static uint8_t got[TT_HLL_REGISTERS], want[TT_HLL_REGISTERS];
	struct tt_hll ref = { 0 }, all = { 0 };
	struct ring_port r;
	struct tt_worker *w;
	struct tt_worker_stats st;
	const struct tt_worker_interval *retired;
	struct tt_merged *run;
	struct table t;
	struct frame f;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	uint32_t sent = 0, src = IP4(11, 0, 0, 0), i;

	ring_port_start(&r, "ut_flood");
	w = ring_port_worker(&r, lcore, (struct tt_counters_conf){ .port_cells = 64,
		.country_cells = 64, .hll_cells = 64, .hll_sparse = 64, .hll_dense = 16 }, 16, NULL);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, w, lcore), 0);
	memset(taken, 0, sizeof(taken));
	while (sent < SOURCES) {
		uint32_t be = htonl(++src), ip;
		uint16_t index;
		uint8_t rank;

		tt_hll_position(&be, 4, &index, &rank);
		if (taken[index] >> rank & 1)
			continue;
		taken[index] |= 1ull << rank;
		CU_ASSERT_EQUAL(tt_hll_add(&ref, index, rank), 0);
		eth(&f, 0x0800);
		ip = ipv4(&f, 5, 0, 1, 0, 50, 17, src, IP4(192, 0, 2, 9));
		udp(&f, 40000, 53, 8);
		ipv4_fix_total(&f, ip);
		enqueue_waiting(r.rx, r.pool, &f);
		sent++;
	}
	read_stats_at(w, SOURCES, &st);
	CU_ASSERT_EQUAL(st.rx_pkts, SOURCES);
	CU_ASSERT_EQUAL(st.dark_pkts, SOURCES);
	/* on for the first half of the record's entries at least (off after ~21,500 here) */
	CU_ASSERT(st.hll_record_off > 0);
	CU_ASSERT(st.hll_record_off <= SOURCES - 16384);
	retired = tt_worker_swap(w, SWAP_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(retired);
	run = tt_counters_merged_create(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	CU_ASSERT_EQUAL(tt_counters_merge(run, retired->counts, 0, true), 0);
	/* the sensor's sets of every minute the flood took, as one */
	t = hll_table(run);
	for (i = 0; i < cells(t); i++)
		if (key(t, i).sensor == 0)
			CU_ASSERT_EQUAL(tt_hll_merge(&all, &hll_values(t, i)[TT_HLL_ALL]), 0);
	tt_hll_registers(&ref, want);
	tt_hll_registers(&all, got);
	CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);

	tt_worker_stop(w);
	rte_eal_wait_lcore(lcore);
	tt_worker_free(w);
	tt_counters_merged_free(run);
	tt_hll_fini(&ref);
	tt_hll_fini(&all);
	ring_port_stop(&r);
}

/*
 * A capture's rx callback, as rte_pdump's: it runs on the worker inside
 * rte_eth_rx_burst(). While `hold` is set, a burst with packets stays in it.
 */
struct held_callback {
	uint32_t hold;
	uint32_t inside;
	const struct rte_eth_rxtx_callback *cb;
	uint16_t port;
	uint32_t removed;              /* the remover's call has returned */
	int rc;
};

static uint16_t
hold_in_callback(uint16_t port __rte_unused, uint16_t queue __rte_unused,
		struct rte_mbuf **pkts __rte_unused, uint16_t n, uint16_t max __rte_unused,
		void *arg)
{
	struct held_callback *h = arg;

	if (n == 0 || !__atomic_load_n(&h->hold, __ATOMIC_ACQUIRE))
		return n;
	__atomic_store_n(&h->inside, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->hold, __ATOMIC_ACQUIRE))
		rte_pause();
	__atomic_store_n(&h->inside, 0, __ATOMIC_RELEASE);
	return n;
}

/* What rte_pdump's server does when dpdk-dumpcap ends, on a thread of its own. */
static void *
remove_callback(void *arg)
{
	struct held_callback *h = arg;

	h->rc = rte_eth_remove_rx_callback(h->port, 0, h->cb);
	__atomic_store_n(&h->removed, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A SYN from @p src to the test's sensor, in an mbuf of @p pool. */
static struct rte_mbuf *
syn_mbuf(struct rte_mempool *pool, uint32_t src)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct frame f;
	uint32_t ip;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 50, 6, src, IP4(192, 0, 2, 9));
	tcp(&f, 40000, 23, 7, 0x02, 1024, 5, NULL, 0);
	ipv4_fix_total(&f, ip);
	memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
	return m;
}

static void
enqueue_syn(struct rte_ring *rx, struct rte_mempool *pool, uint32_t src)
{
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rx, syn_mbuf(pool, src)), 0);
}

/*
 * The end of a capture (tt_capture.h): rte_eth_remove_rx_callback() returns
 * only once the worker has left the callback, so dpdk-dumpcap cannot free
 * what the callback still writes to. Without the guard the call returns at
 * once, and the worker is still inside.
 */
static void
test_capture_end_waits_for_the_worker(void)
{
	struct held_callback h = { .hold = 1 };
	struct tt_capture_guard_stats gs;
	struct ring_port r;
	struct rte_ring *rx;
	struct rte_mempool *pool;
	struct tt_worker *w;
	struct tt_worker_stats st;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0), waited;
	pthread_t remover;

	CU_ASSERT_EQUAL_FATAL(tt_capture_guard_init(1), 0);
	ring_port_start(&r, "ut_cap");
	rx = r.rx;
	pool = r.pool;
	h.port = r.port_id;
	w = ring_port_worker(&r, lcore, (struct tt_counters_conf){ .port_cells = 1024,
		.country_cells = 1024, .hll_cells = 1024, .hll_sparse = 1024, .hll_dense = 16 },
		1024, tt_capture_guard_readers());
	h.cb = rte_eth_add_first_rx_callback(r.port_id, 0, hold_in_callback, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.cb);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, w, lcore), 0);

	/* The worker takes a packet and stays in the callback. */
	enqueue_syn(rx, pool, IP4(203, 0, 113, 1));
	for (waited = 0; waited < 20000 && !__atomic_load_n(&h.inside, __ATOMIC_ACQUIRE); waited++)
		rte_delay_us_sleep(500);
	CU_ASSERT_FATAL(__atomic_load_n(&h.inside, __ATOMIC_ACQUIRE));

	/* The capture ends: the callback is unlinked, and the call waits for the worker. */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&remover, NULL, remove_callback, &h), 0);
	for (waited = 0; waited < 20000; waited++) {
		tt_capture_guard_stats(&gs);
		if (gs.waiting == 1 || __atomic_load_n(&h.removed, __ATOMIC_ACQUIRE))
			break;
		rte_delay_us_sleep(500);
	}
	tt_capture_guard_stats(&gs);
	CU_ASSERT_EQUAL(gs.waiting, 1);
	CU_ASSERT_FALSE(__atomic_load_n(&h.removed, __ATOMIC_ACQUIRE));
	CU_ASSERT_TRUE(__atomic_load_n(&h.inside, __ATOMIC_ACQUIRE));

	/* The worker leaves the callback: the call returns, and the worker goes on. */
	__atomic_store_n(&h.hold, 0, __ATOMIC_RELEASE);
	for (waited = 0; waited < 20000 && !__atomic_load_n(&h.removed, __ATOMIC_ACQUIRE); waited++)
		rte_delay_us_sleep(500);
	CU_ASSERT_TRUE(__atomic_load_n(&h.removed, __ATOMIC_ACQUIRE));
	enqueue_syn(rx, pool, IP4(203, 0, 113, 2));
	read_stats_at(w, 2, &st);
	CU_ASSERT_EQUAL(st.rx_pkts, 2);
	CU_ASSERT_EQUAL(st.dark_pkts, 2);

	/* A worker that has stopped is waited for no more (it has gone offline). */
	tt_worker_stop(w);
	rte_eal_wait_lcore(lcore);
	CU_ASSERT_EQUAL(pthread_join(remover, NULL), 0);
	CU_ASSERT_EQUAL(h.rc, 0);
	tt_capture_guard_stats(&gs);
	CU_ASSERT_EQUAL(gs.removals, 1);
	CU_ASSERT_EQUAL(gs.waiting, 0);
	tt_worker_free(w);
	ring_port_stop(&r);
}

/*
 * The worker gives a burst's mbufs back as rte_pktmbuf_free_bulk() would,
 * whatever the burst holds. Plain mbufs go back to their pool in one put;
 * with them, one burst each: an mbuf of another pool, one still referenced
 * elsewhere, a chain of two segments (the second of another pool), and a
 * clone (an indirect mbuf of another pool). Each pool is whole again once its mbufs are back, and an
 * mbuf referenced elsewhere loses the worker's reference only. (A pool's
 * count stops at its size, so what would go astray is taken from the
 * smaller pool, where it shows as missing.)
 */
static void
test_worker_gives_every_mbuf_back(void)
{
	enum { PLAIN = 8, POOL = 1023, OTHER_POOL = 63, KINDS = 5 };
	struct rte_mbuf *burst[PLAIN + 1], *kept;
	struct rte_mempool *other;
	struct tt_worker_stats st;
	struct tt_worker *w;
	struct ring_port r;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0), kind, n;
	uint64_t sent = 0;

	ring_port_start(&r, "ut_free");
	other = rte_pktmbuf_pool_create("ut_free_other", OTHER_POOL, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	w = ring_port_worker(&r, lcore, (struct tt_counters_conf){ .port_cells = 64,
		.country_cells = 64, .hll_cells = 64, .hll_sparse = 64, .hll_dense = 16 }, 64, NULL);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, w, lcore), 0);
	for (kind = 0; kind < KINDS; kind++) {
		kept = NULL;
		for (n = 0; n < PLAIN; n++)
			burst[n] = syn_mbuf(r.pool, IP4(203, 0, 113, 1 + n));
		switch (kind) {
		case 1:                        /* another pool */
			burst[n++] = syn_mbuf(other, IP4(203, 0, 113, 100));
			break;
		case 2:                        /* referenced elsewhere too */
			kept = syn_mbuf(r.pool, IP4(203, 0, 113, 100));
			rte_mbuf_refcnt_update(kept, 1);
			burst[n++] = kept;
			break;
		case 3: {                      /* a frame and 10 bytes in a second segment */
			struct rte_mbuf *tail = rte_pktmbuf_alloc(other);

			CU_ASSERT_PTR_NOT_NULL_FATAL(tail);
			memset(rte_pktmbuf_append(tail, 10), 0, 10);
			CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_chain(burst[PLAIN - 1], tail), 0);
			break;
		}
		case 4:                        /* a clone: its buffer is kept's */
			kept = syn_mbuf(r.pool, IP4(203, 0, 113, 100));
			burst[n] = rte_pktmbuf_clone(kept, other);
			CU_ASSERT_PTR_NOT_NULL_FATAL(burst[n]);
			n++;
			break;
		default:                       /* plain mbufs only */
			break;
		}
		/* one enqueue: the worker takes them in one burst */
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_bulk(r.rx, (void **)burst, n, NULL), n);
		sent += n;
		read_stats_at(w, sent, &st);
		CU_ASSERT_EQUAL(st.rx_pkts, sent);
		CU_ASSERT_EQUAL(st.dark_pkts, sent);
		if (kept != NULL) {
			CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(kept), 1);
			rte_pktmbuf_free(kept);
		}
		CU_ASSERT_EQUAL(rte_mempool_avail_count(r.pool), POOL);
		CU_ASSERT_EQUAL(rte_mempool_avail_count(other), OTHER_POOL);
	}
	tt_worker_stop(w);
	rte_eal_wait_lcore(lcore);
	tt_worker_free(w);
	ring_port_stop(&r);
	rte_mempool_free(other);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "sensor table: invalid input", test_sensor_create_invalid },
		{ "sensor lookup, IPv4 and IPv6", test_sensor_lookup },
		{ "a single IPv6 /64", test_sensor_single_v6_prefix },
		{ "IPv4 prefixes longer than /24 agree with a brute-force match",
			test_sensor_lookup_leaves },
		{ "a long prefix overlapping a /24 is refused", test_sensor_leaf_overlap_refused },
		{ "workers count exactly while shards are swapped",
			test_workers_count_exactly_while_swapped },
		{ "a live worker asks for an early swap for its cells and keeps counting",
			test_live_worker_asks_for_early_swap },
		{ "a worker counts the packets of a flood it counts with the record of registers off",
			test_worker_counts_packets_with_the_record_off },
		{ "the end of a capture waits for the worker to leave its callback",
			test_capture_end_waits_for_the_worker },
		{ "the worker gives every kind of mbuf back, in any burst",
			test_worker_gives_every_mbuf_back },
		{ NULL, NULL },
	};
	char prefix[64];
	char *eal_argv[] = {
		"test_dataplane", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
		"--lcores", "(0-2)@(0-1)", "--log-level", "lib.eal:error", prefix,
	};
	int rc;

	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_dp_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "EAL init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	rc = run_suite("dataplane", tests, suite_init, NULL);
	eal_cleanup_and_remove_runtime_dir();
	return rc;
}
