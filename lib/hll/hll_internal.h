/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_HLL_INTERNAL_H
#define TT_HLL_INTERNAL_H

/*
 * A worker's pools of HLL sets, shared by their control side (hll.c:
 * create, reset, merge, free) and their per-packet side (hll_dp.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "tt_hll.h"

/*
 * A set's handle: 0 none yet, i + 1 sparse set i, MID_BIT | i mid set i,
 * DENSE_BIT | i dense set i.
 */
#define DENSE_BIT 0x80000000u
#define MID_BIT 0x40000000u

/*
 * A set grows sparse -> mid -> dense (sparse -> dense while few dense sets
 * are out). What a register update reads:
 *  - sparse: up to TT_HLL_POOL_SPARSE_MAX registers in a list, two lines;
 *  - mid: up to MID_LIMIT registers hashed into MID_SLOTS slots by their
 *    index's high bits, 1 KiB: one line (two when a run crosses it);
 *  - dense: every register, 16 KiB: the register's line.
 * Why the mid shape: a sensor of a flood of 2^20 sources at 4,096 sensors
 * sees ~256 of them, past any list worth scanning and far short of a dense
 * set, whose every line a random register then touches. 4,096 such
 * sensors' dense sets are 64 MiB, their mid sets 4 MiB, which stays in
 * cache far better.
 */
enum {
	/*
	 * Dense sets a pool hands out before mid ones: 32 are 512 KiB, which
	 * stay in cache, and there a dense register costs one compare where a
	 * mid one costs a probe whose length the branch predictor cannot
	 * know. Mid sets from the first, the mixed 2,000-frame loop (13 sets
	 * past 32 registers, none past 384) measured 226.8 -> 241.7 busy
	 * cycles a packet. The counters' register prefetch starts at half
	 * the L2 (counters.c, spread_register_bytes()).
	 */
	DENSE_BEFORE_MID = 32,
	MID_SLOTS = 512,
	MID_LIMIT = MID_SLOTS * 3 / 4,     /* past it a set goes dense; probes stay short */
	MID_HOME_SHIFT = TT_HLL_P - 9,     /* a register's home slot: its index's top 9 bits */
};
_Static_assert(MID_SLOTS == 1 << (TT_HLL_P - MID_HOME_SHIFT), "a home slot for every index");
_Static_assert((int)MID_LIMIT > (int)TT_HLL_POOL_SPARSE_MAX, "a full sparse set fits a mid set, with one more");

struct sparse_set {
	uint16_t index[TT_HLL_POOL_SPARSE_MAX];
	uint8_t rank[TT_HLL_POOL_SPARSE_MAX];
	uint8_t n;
};

/*
 * A mid set's slot, 16 bits: how far past its register's home slot it sits
 * (up to MID_DISP_MAX), the index's low MID_HOME_SHIFT bits, and the rank;
 * 0 when free (a set register has a rank of at least 1). The home slot is
 * the index's high bits, so the slot's place and its distance give them
 * back (mid_word()). Half the 32-bit slots' size: a flood's sensors each
 * keep a mid set, 4,096 of them 4 MiB instead of 8. A register that would
 * sit farther than MID_DISP_MAX slots from home (a probe that long means a
 * crowded set, or sources picked to crowd one) does not fit: the set then
 * moves to a dense one, as when full.
 */
enum {
	MID_RANK_BITS = 6,
	MID_RANK_MASK = (1 << MID_RANK_BITS) - 1,
	MID_LOW_SHIFT = MID_RANK_BITS,
	MID_DISP_SHIFT = MID_LOW_SHIFT + MID_HOME_SHIFT,
	MID_DISP_MAX = (1 << (16 - MID_DISP_SHIFT)) - 1,
};
_Static_assert(TT_HLL_Q + 1 <= MID_RANK_MASK, "a mid slot keeps a rank in 6 bits");
_Static_assert(MID_DISP_MAX >= 31, "a mid slot keeps a distance of 31 or more");

struct mid_set {
	uint16_t slot[MID_SLOTS];
};

/* A mid slot: register @p index of @p rank, @p disp slots past its home. */
static inline uint16_t
mid_slot(uint32_t disp, uint16_t index, uint8_t rank)
{
	return (uint16_t)(disp << MID_DISP_SHIFT |
		(index & ((1u << MID_HOME_SHIFT) - 1)) << MID_LOW_SHIFT | rank);
}

/* The register in use slot @p e at place @p i, as index << 8 | rank (a sparse entry's word). */
static inline uint32_t
mid_word(uint32_t i, uint16_t e)
{
	uint32_t home = (i - ((uint32_t)e >> MID_DISP_SHIFT)) & (MID_SLOTS - 1);
	uint32_t index = home << MID_HOME_SHIFT | ((uint32_t)e >> MID_LOW_SHIFT &
		((1u << MID_HOME_SHIFT) - 1));

	return index << 8 | (e & MID_RANK_MASK);
}

/*
 * Every pool is allocated and prefaulted at create; sets are taken by bump
 * allocation and all returned at reset. Mid sets are as many as dense ones
 * (a sixteenth of their memory): a sensor's busiest variant takes one, and
 * when they run out a set goes from sparse to dense as it would without
 * them.
 */
struct tt_hll_pool {
	uint32_t n_sparse;
	uint32_t n_mid;
	uint32_t n_dense;
	uint32_t used_sparse;          /* bump allocation; reset returns all */
	uint32_t used_mid;
	uint32_t used_dense;
	uint64_t dropped;
	struct sparse_set *sparse;
	struct mid_set *mid;           /* n_mid */
	uint16_t *mid_n;               /* of mid set i: its registers */
	uint8_t *dense;                /* n_dense * TT_HLL_REGISTERS */
};

static inline struct mid_set *
mid_of(const struct tt_hll_pool *p, uint32_t handle)
{
	return &p->mid[handle & ~MID_BIT];
}

static inline uint8_t *
dense_of(const struct tt_hll_pool *p, uint32_t handle)
{
	return p->dense + (size_t)(handle & ~DENSE_BIT) * TT_HLL_REGISTERS;
}

#endif /* TT_HLL_INTERNAL_H */
