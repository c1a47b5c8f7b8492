/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HyperLogLog registers against a real redis-server: the same elements give
 * the same registers byte for byte, the same estimate, and what we write is
 * a HyperLogLog Redis accepts for PFCOUNT and PFMERGE.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "redis_server.h"
#include "tt_hll.h"
#include "hll_internal.h"    /* DENSE_BEFORE_MID, MID_LIMIT, struct mid_set */

static struct test_redis server;
static redisContext *rc;

static void
element(uint32_t i, uint8_t out[4])
{
	uint32_t v = i * 2654435761u;

	memcpy(out, &v, 4);
}

static void
test_invalid(void)
{
	uint8_t regs[TT_HLL_REGISTERS], junk[TT_HLL_REDIS_DENSE_SIZE] = { 'H', 'Y', 'L', 'L', 1 };

	CU_ASSERT_EQUAL(tt_hll_decode_redis(junk, sizeof(junk), regs), -EINVAL);
	CU_ASSERT_EQUAL(tt_hll_decode_redis(junk, 20, regs), -EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(tt_hll_pool_create(0, 4));
	CU_ASSERT_EQUAL(errno, EINVAL);
	tt_hll_pool_free(NULL);
}

static void
test_encode_round_trip(void)
{
	uint8_t regs[TT_HLL_REGISTERS], back[TT_HLL_REGISTERS];
	static uint8_t enc[TT_HLL_REDIS_DENSE_SIZE];
	uint32_t i;

	for (i = 0; i < TT_HLL_REGISTERS; i++)
		regs[i] = (uint8_t)((i * 7) % 52);
	tt_hll_encode_redis(regs, enc);
	CU_ASSERT_EQUAL(tt_hll_decode_redis(enc, sizeof(enc), back), 0);
	CU_ASSERT_EQUAL(memcmp(regs, back, sizeof(regs)), 0);
}

/* Sparse strings decode back to the same registers; dense when they must. */
static void
test_sparse_encoding(void)
{
	static uint8_t regs[TT_HLL_REGISTERS], back[TT_HLL_REGISTERS];
	static uint8_t enc[TT_HLL_REDIS_DENSE_SIZE];
	size_t n;

	memset(regs, 0, sizeof(regs));
	n = tt_hll_encode_redis_compact(regs, enc);
	CU_ASSERT_EQUAL(n, TT_HLL_REDIS_HDR + 2);            /* one XZERO of 16384 */
	regs[0] = 1;
	regs[1] = 1;
	regs[100] = 32;
	regs[16383] = 7;
	n = tt_hll_encode_redis_compact(regs, enc);
	CU_ASSERT(n < 40);
	CU_ASSERT_EQUAL(enc[4], 1);
	CU_ASSERT_EQUAL(tt_hll_decode_redis(enc, n, back), 0);
	CU_ASSERT_EQUAL(memcmp(regs, back, sizeof(regs)), 0);
	CU_ASSERT_EQUAL(tt_hll_decode_redis(enc, n - 1, back), -EINVAL);   /* cut */
	regs[5] = 33;                                        /* too big for sparse */
	CU_ASSERT_EQUAL(tt_hll_encode_redis_compact(regs, enc), TT_HLL_REDIS_DENSE_SIZE);
	CU_ASSERT_EQUAL(enc[4], 0);
}

/* Redis reads our sparse strings as the same registers. */
static void
test_redis_reads_sparse(void)
{
	static uint8_t regs[TT_HLL_REGISTERS], theirs[TT_HLL_REGISTERS];
	static uint8_t enc[TT_HLL_REDIS_DENSE_SIZE];
	struct tt_hll h = { 0 };
	redisReply *r;
	size_t n;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	for (i = 0; i < 700; i++) {
		uint8_t e[4];
		uint16_t idx;
		uint8_t rank;

		element(i + 900000, e);
		tt_hll_position(e, 4, &idx, &rank);
		tt_hll_add(&h, idx, rank);
	}
	tt_hll_registers(&h, regs);
	n = tt_hll_encode_redis_compact(regs, enc);
	CU_ASSERT_EQUAL_FATAL(enc[4], 1);
	freeReplyObject(redisCommand(rc, "CONFIG SET hll-sparse-max-bytes 0"));
	freeReplyObject(redisCommand(rc, "DEL s d"));
	freeReplyObject(redisCommand(rc, "SET s %b", enc, n));
	r = redisCommand(rc, "PFCOUNT s");
	CU_ASSERT_EQUAL(r->integer, (long long)tt_hll_estimate(&h));
	freeReplyObject(r);
	/* merged into an empty key with dense forced, Redis's registers are ours */
	freeReplyObject(redisCommand(rc, "PFADD d"));
	freeReplyObject(redisCommand(rc, "PFMERGE d s"));
	r = redisCommand(rc, "GET d");
	CU_ASSERT_EQUAL_FATAL(tt_hll_decode_redis((uint8_t *)r->str, r->len, theirs), 0);
	CU_ASSERT_EQUAL(memcmp(regs, theirs, sizeof(regs)), 0);
	freeReplyObject(r);
	tt_hll_fini(&h);
}

/* Registers built by Redis from PFADD equal ours, byte for byte. */
static void
test_same_registers_as_redis(void)
{
	static uint8_t ours[TT_HLL_REGISTERS], theirs[TT_HLL_REGISTERS];
	struct tt_hll h = { 0 };
	redisReply *r;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	freeReplyObject(redisCommand(rc, "CONFIG SET hll-sparse-max-bytes 0"));
	freeReplyObject(redisCommand(rc, "DEL a"));
	for (i = 0; i < 50000; i++) {
		uint8_t e[4];
		uint16_t idx;
		uint8_t rank;

		element(i, e);
		redisAppendCommand(rc, "PFADD a %b", e, (size_t)4);
		tt_hll_position(e, 4, &idx, &rank);
		CU_ASSERT_EQUAL_FATAL(tt_hll_add(&h, idx, rank), 0);
	}
	for (i = 0; i < 50000; i++) {
		CU_ASSERT_EQUAL_FATAL(redisGetReply(rc, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	r = redisCommand(rc, "GET a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->type, REDIS_REPLY_STRING);
	CU_ASSERT_EQUAL_FATAL(tt_hll_decode_redis((uint8_t *)r->str, r->len, theirs), 0);
	freeReplyObject(r);
	tt_hll_registers(&h, ours);
	CU_ASSERT_EQUAL(memcmp(ours, theirs, sizeof(ours)), 0);

	r = redisCommand(rc, "PFCOUNT a");
	CU_ASSERT_EQUAL(r->integer, (long long)tt_hll_estimate(&h));
	CU_ASSERT(llabs(r->integer - 50000) < 50000 / 50);    /* 2% */
	freeReplyObject(r);
	tt_hll_fini(&h);
}

/* What we encode, Redis counts and merges as its own. */
static void
test_redis_accepts_ours(void)
{
	static uint8_t regs[TT_HLL_REGISTERS], enc[TT_HLL_REDIS_DENSE_SIZE];
	struct tt_hll h = { 0 };
	redisReply *r;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	for (i = 100000; i < 103000; i++) {
		uint8_t e[4];
		uint16_t idx;
		uint8_t rank;

		element(i, e);
		tt_hll_position(e, 4, &idx, &rank);
		tt_hll_add(&h, idx, rank);
	}
	CU_ASSERT_PTR_NOT_NULL(h.dense);                     /* 3000 registers: dense */
	tt_hll_registers(&h, regs);
	tt_hll_encode_redis(regs, enc);
	freeReplyObject(redisCommand(rc, "DEL b c"));
	freeReplyObject(redisCommand(rc, "SET b %b", enc, sizeof(enc)));
	r = redisCommand(rc, "PFCOUNT b");
	CU_ASSERT_EQUAL(r->type, REDIS_REPLY_INTEGER);
	CU_ASSERT_EQUAL(r->integer, (long long)tt_hll_estimate(&h));
	freeReplyObject(r);
	r = redisCommand(rc, "PFMERGE c a b");
	CU_ASSERT_EQUAL(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = redisCommand(rc, "PFCOUNT c");
	CU_ASSERT(llabs(r->integer - 53000) < 53000 / 50);
	freeReplyObject(r);
	tt_hll_fini(&h);
}

static void
test_sparse_and_dense_agree(void)
{
	struct tt_hll a = { 0 }, b = { 0 }, m = { 0 };
	uint32_t i;

	for (i = 0; i < 1000; i++) {
		uint8_t e[4];
		uint16_t idx;
		uint8_t rank;

		element(i, e);
		tt_hll_position(e, 4, &idx, &rank);
		tt_hll_add(&a, idx, rank);
		element(i + 500, e);
		tt_hll_position(e, 4, &idx, &rank);
		tt_hll_add(&b, idx, rank);
	}
	CU_ASSERT_PTR_NULL(a.dense);
	CU_ASSERT(tt_hll_estimate(&a) > 980 && tt_hll_estimate(&a) < 1020);
	CU_ASSERT_EQUAL(tt_hll_merge(&m, &a), 0);
	CU_ASSERT_EQUAL(tt_hll_merge(&m, &b), 0);
	CU_ASSERT(tt_hll_estimate(&m) > 1470 && tt_hll_estimate(&m) < 1530);
	CU_ASSERT_FALSE(tt_hll_empty(&m));
	tt_hll_fini(&a);
	tt_hll_fini(&b);
	tt_hll_fini(&m);
	CU_ASSERT_TRUE(tt_hll_empty(&m));
}

/* n random registers into h and into the reference bytes r. */
static void
fill_random(struct tt_hll *h, uint8_t *r, uint32_t n, uint32_t *seed)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint16_t idx;
		uint8_t rank;

		*seed = *seed * 1103515245u + 12345u;
		idx = (uint16_t)((*seed >> 8) % TT_HLL_REGISTERS);
		rank = (uint8_t)(1 + (*seed >> 24) % 20);
		CU_ASSERT_EQUAL_FATAL(tt_hll_add(h, idx, rank), 0);
		if (rank > r[idx])
			r[idx] = rank;
	}
}

/*
 * A merge is the register-wise max, whatever the two sides hold: sparse or
 * dense, overlapping, on either side of the sparse limit (2048). A union that
 * fits stays sparse, even from a dense set.
 */
static void
test_merge_is_register_max(void)
{
	static const uint32_t sizes[] = { 0, 1, 7, 300, 1500, 2047, 2048, 2049, 3000, 9000 };
	static uint8_t ra[TT_HLL_REGISTERS], rb[TT_HLL_REGISTERS], got[TT_HLL_REGISTERS];
	uint32_t x, y, i, seed = 11, mismatches = 0;

	for (x = 0; x < sizeof(sizes) / sizeof(sizes[0]); x++) {
		for (y = 0; y < sizeof(sizes) / sizeof(sizes[0]); y++) {
			struct tt_hll a = { 0 }, b = { 0 };
			uint32_t set = 0;

			memset(ra, 0, sizeof(ra));
			memset(rb, 0, sizeof(rb));
			fill_random(&a, ra, sizes[x], &seed);
			fill_random(&b, rb, sizes[y], &seed);
			CU_ASSERT_EQUAL_FATAL(tt_hll_merge(&a, &b), 0);
			tt_hll_registers(&a, got);
			for (i = 0; i < TT_HLL_REGISTERS; i++) {
				uint8_t want = ra[i] > rb[i] ? ra[i] : rb[i];

				mismatches += got[i] != want;
				set += want != 0;
			}
			CU_ASSERT_EQUAL(a.dense != NULL, set > 2048);
			tt_hll_fini(&a);
			tt_hll_fini(&b);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	{
		/* a dense set of 3 registers into a sparse HLL: still sparse */
		struct tt_hll a = { 0 }, d = { 0 };

		CU_ASSERT_EQUAL(tt_hll_add(&a, 5, 2), 0);
		d.dense = calloc(TT_HLL_REGISTERS, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d.dense);
		d.dense[5] = 7;
		d.dense[100] = 1;
		d.dense[16383] = 3;
		CU_ASSERT_EQUAL(tt_hll_merge(&a, &d), 0);
		CU_ASSERT_PTR_NULL(a.dense);
		CU_ASSERT_EQUAL(a.n, 3);
		tt_hll_registers(&a, got);
		CU_ASSERT(got[5] == 7 && got[100] == 1 && got[16383] == 3);
		tt_hll_fini(&a);
		tt_hll_fini(&d);
	}
}

/* Worker pools: sparse, promotion to dense, exhaustion counted, merge. */
static void
test_pool(void)
{
	struct tt_hll_pool *p = tt_hll_pool_create(2, 1);
	struct tt_hll direct = { 0 }, merged = { 0 };
	uint32_t h1 = 0, h2 = 0, h3 = 0, h4 = 0, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; i < 5000; i++) {
		uint8_t e[4];
		uint16_t idx;
		uint8_t rank;

		element(i, e);
		tt_hll_position(e, 4, &idx, &rank);
		tt_hll_pool_add(p, &h1, idx, rank);     /* goes dense after 32 registers */
		tt_hll_add(&direct, idx, rank);
		if (i < 10)
			tt_hll_pool_add(p, &h2, idx, rank);
	}
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	CU_ASSERT_EQUAL(tt_hll_pool_merge_into(p, h1, &merged), 0);
	CU_ASSERT_EQUAL(tt_hll_estimate(&merged), tt_hll_estimate(&direct));
	/* both sparse sets and the one dense set are taken: the next takes the mid set */
	tt_hll_pool_add(p, &h3, 5, 1);
	CU_ASSERT_NOT_EQUAL(h3, 0);
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	/* and the one after is dropped */
	tt_hll_pool_add(p, &h4, 5, 1);
	CU_ASSERT_EQUAL(h4, 0);
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 1);
	tt_hll_pool_reset(p);
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	h3 = 0;
	tt_hll_pool_add(p, &h3, 5, 1);
	CU_ASSERT_NOT_EQUAL(h3, 0);
	tt_hll_fini(&direct);
	tt_hll_fini(&merged);
	tt_hll_pool_free(p);
}

/*
 * Are a pool set's registers, merged out, exactly @p want? Merged into
 * each of three HLLs at once (an empty one, a sparse one and a dense one,
 * the last two holding a register of their own), each must come out as
 * the union.
 */
static bool
pool_set_is(const struct tt_hll_pool *p, uint32_t handle, const uint8_t *want)
{
	static uint8_t got[TT_HLL_REGISTERS], union_[TT_HLL_REGISTERS];
	struct tt_hll empty = { 0 }, sparse = { 0 }, dense = { 0 };
	struct tt_hll *each[] = { &empty, &sparse, &dense };
	bool same = true;
	unsigned int k;

	dense.dense = calloc(TT_HLL_REGISTERS, 1);
	if (dense.dense == NULL || tt_hll_add(&sparse, 3, 50) != 0)
		return false;
	dense.dense[9000] = 50;
	if (tt_hll_pool_merge_into_each(p, handle, each, 3) != 0)
		return false;
	for (k = 0; k < 3; k++) {
		memcpy(union_, want, TT_HLL_REGISTERS);
		if (k == 1 && union_[3] < 50)
			union_[3] = 50;
		if (k == 2 && union_[9000] < 50)
			union_[9000] = 50;
		tt_hll_registers(each[k], got);
		same = same && memcmp(got, union_, TT_HLL_REGISTERS) == 0;
		tt_hll_fini(each[k]);
	}
	return same;
}

/* Set a register in a pool set and in @p want, the registers it should have. */
static void
add_both(struct tt_hll_pool *p, uint32_t *handle, uint8_t *want, uint16_t index, uint8_t rank)
{
	tt_hll_pool_add(p, handle, index, rank);
	if (rank > want[index])
		want[index] = rank;
}

/* Take @p n sets past a sparse set's 32 registers, into @p handles. */
static void
grow_sets(struct tt_hll_pool *p, uint32_t *handles, uint32_t n)
{
	uint32_t s, i;

	for (s = 0; s < n; s++)
		for (i = 0; i < TT_HLL_POOL_SPARSE_MAX + 1; i++)
			tt_hll_pool_add(p, &handles[s], (uint16_t)(i * 301 + s), 3);
}

/*
 * The @p i th of 40 registers that crowd a mid set's last home slots, up
 * to MID_DISP_MAX past them: 24 homed in the last slot, wrapping around to
 * the first slots, 8 in the one before (pushed past the wrapped run, 25 to
 * 31 slots from home), and 8 spread from the first home slot on (the
 * first probes past the whole run).
 */
static uint16_t
crowding_index(uint32_t i)
{
	if (i < 24)
		return (uint16_t)(TT_HLL_REGISTERS - 1 - i);
	if (i < 32)
		return (uint16_t)(TT_HLL_REGISTERS - 33 - (i - 24));
	return (uint16_t)((i - 32) * 2048 + 5);
}

/*
 * Reset the pool (its registers all returned), take the DENSE_BEFORE_MID
 * dense sets again into @p first, and start set @p h and its expected
 * registers @p want empty: the next set to grow past sparse is a mid one.
 */
static void
restart_with_dense_out(struct tt_hll_pool *p, uint32_t *first, uint32_t *h, uint8_t *want)
{
	tt_hll_pool_reset(p);
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), 0);
	memset(first, 0, DENSE_BEFORE_MID * sizeof(*first));
	grow_sets(p, first, DENSE_BEFORE_MID);
	*h = 0;
	memset(want, 0, TT_HLL_REGISTERS);
}

/*
 * A set grows sparse -> mid (1 KiB) -> dense (16 KiB), keeping every
 * register through each move, and its merge is exact in each shape:
 * registers set in any order, a lower rank after a higher, and runs of
 * indexes whose home slots are the last ones, so their probes wrap around
 * to the first slots (the merge must still sort them last) and end as far
 * from home as a slot can say. Registers picked to crowd one home slot
 * further move the set to a dense one, every register kept. Mid sets come
 * only once DENSE_BEFORE_MID dense sets are out.
 */
static void
test_pool_mid(void)
{
	static uint8_t want[TT_HLL_REGISTERS];
	struct tt_hll_pool *p = tt_hll_pool_create(DENSE_BEFORE_MID + 1, DENSE_BEFORE_MID + 1);
	uint32_t first[DENSE_BEFORE_MID] = { 0 }, h = 0, i;
	const uint64_t dense_first = (uint64_t)DENSE_BEFORE_MID * TT_HLL_REGISTERS;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	grow_sets(p, first, DENSE_BEFORE_MID);
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), dense_first);   /* all dense */
	memset(want, 0, sizeof(want));
	/* 40 indexes crowding the last home slots (the top 9 of 14 bits all ones) */
	for (i = 0; i < 40; i++)
		add_both(p, &h, want, crowding_index(i), (uint8_t)(1 + i % 7));
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), dense_first + sizeof(struct mid_set));
	CU_ASSERT(pool_set_is(p, h, want));
	/* a higher rank replaces, a lower one does not */
	tt_hll_pool_add(p, &h, TT_HLL_REGISTERS - 1, 40);
	tt_hll_pool_add(p, &h, TT_HLL_REGISTERS - 1, 2);
	want[TT_HLL_REGISTERS - 1] = 40;
	/*
	 * spread registers up to the mid set's limit over the home slots the
	 * crowd left (31 to 509, each once: 7 steps through 479 slots)
	 */
	for (i = 0; i < MID_LIMIT - 40; i++)
		add_both(p, &h, want, (uint16_t)((31 + i * 7 % 479) << MID_HOME_SHIFT | i * 13 % 32),
			(uint8_t)(1 + i % 11));
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), dense_first + sizeof(struct mid_set));
	CU_ASSERT(pool_set_is(p, h, want));
	/* one register more: dense, with every register it had */
	tt_hll_pool_add(p, &h, 7777, 9);
	want[7777] = 9;
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p),
		dense_first + sizeof(struct mid_set) + TT_HLL_REGISTERS);
	CU_ASSERT(pool_set_is(p, h, want));
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	/* reset returns the mid set clean */
	restart_with_dense_out(p, first, &h, want);
	for (i = 0; i < 100; i++) {
		tt_hll_pool_add(p, &h, (uint16_t)(i * 97), 1);
		want[i * 97] = 1;
	}
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), dense_first + sizeof(struct mid_set));
	CU_ASSERT(pool_set_is(p, h, want));
	/*
	 * Registers picked to crowd two home slots: all 32 of slot 128 fill
	 * slots 128 to 159, the first of slot 129 fits 31 past its home, the
	 * second would sit 32 past it: the set goes dense there.
	 */
	restart_with_dense_out(p, first, &h, want);
	for (i = 0; i < 40; i++) {
		add_both(p, &h, want, (uint16_t)(128 * 32 + i), (uint8_t)(1 + i % 5));
		if (i == 32)
			CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p),
				dense_first + sizeof(struct mid_set));
		if (i == 33)
			CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p), dense_first +
				sizeof(struct mid_set) + TT_HLL_REGISTERS);
	}
	CU_ASSERT(pool_set_is(p, h, want));
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	tt_hll_pool_free(p);
}

/* Mid sets run out: a full sparse set goes dense; both out: counted. */
static void
test_pool_mid_exhausted(void)
{
	enum { N = DENSE_BEFORE_MID + 1 };   /* dense sets, and as many mid ones */
	struct tt_hll_pool *p = tt_hll_pool_create(2 * N + 2, N);
	uint32_t h[2 * N + 2] = { 0 };
	struct tt_hll merged = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	grow_sets(p, h, DENSE_BEFORE_MID);          /* dense */
	grow_sets(p, &h[DENSE_BEFORE_MID], N);      /* mid, all of them */
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p),
		(uint64_t)DENSE_BEFORE_MID * TT_HLL_REGISTERS + (uint64_t)N * sizeof(struct mid_set));
	grow_sets(p, &h[DENSE_BEFORE_MID + N], 1);  /* the last dense one */
	CU_ASSERT_EQUAL(tt_hll_pool_register_bytes(p),
		(uint64_t)N * TT_HLL_REGISTERS + (uint64_t)N * sizeof(struct mid_set));
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 0);
	/* the next stays sparse; its 33rd register is dropped, the others kept */
	grow_sets(p, &h[2 * N], 1);
	CU_ASSERT_EQUAL(tt_hll_pool_dropped(p), 1);
	CU_ASSERT_EQUAL(tt_hll_pool_merge_into(p, h[2 * N], &merged), 0);
	CU_ASSERT_EQUAL(merged.n, TT_HLL_POOL_SPARSE_MAX);
	tt_hll_fini(&merged);
	tt_hll_pool_free(p);
}

static int
suite_init(void)
{
	if (test_redis_start(&server) != 0)
		return -1;
	rc = test_redis_connect(server.port);
	return rc == NULL ? -1 : 0;
}

static int
suite_fini(void)
{
	if (rc != NULL)
		redisFree(rc);
	test_redis_stop(&server);
	return 0;
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid input", test_invalid },
		{ "Redis dense encoding round-trips", test_encode_round_trip },
		{ "same registers as Redis PFADD", test_same_registers_as_redis },
		{ "sparse encoding round-trips", test_sparse_encoding },
		{ "Redis reads our sparse strings", test_redis_reads_sparse },
		{ "Redis counts and merges what we write", test_redis_accepts_ours },
		{ "sparse and dense agree; merge is a union", test_sparse_and_dense_agree },
		{ "worker pools: promote, exhaust, reset", test_pool },
		{ "worker pools: sparse, mid, dense, exact in each", test_pool_mid },
		{ "worker pools: without mid sets, sparse goes dense", test_pool_mid_exhausted },
		{ "a merge is the register-wise max, sparse while it fits",
			test_merge_is_register_max },
		{ NULL, NULL },
	};

	return run_suite("hll", tests, suite_init, suite_fini);
}
