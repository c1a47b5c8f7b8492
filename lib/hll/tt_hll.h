/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_HLL_H
#define TT_HLL_H

/*
 * Redis-compatible HyperLogLog registers (DESIGN.md section 5, srcs keys).
 *
 * Workers set registers; the publisher writes them to Redis as a dense HLL
 * string and PFMERGEs it, so the cost of unique counting does not grow with
 * the number of distinct sources. Same hash (MurmurHash64A, seed 0xadc83b19),
 * same 16384 registers, same estimator as Redis 7, so PFCOUNT of what we
 * write equals tt_hll_estimate() of the same registers. Written by hand:
 * no library offers Redis's register layout. Elements are the raw 4 or 16
 * address bytes of a source.
 *
 * Two shapes:
 *  - struct tt_hll, control plane: sparse (sorted) then dense, malloc'd;
 *  - struct tt_hll_pool, worker: a set per srcs variant per key, drawn from
 *    preallocated sparse, mid and dense pools, so adding allocates nothing.
 * Pure module.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_schema.h"

enum {
	TT_HLL_P = 14,
	TT_HLL_REGISTERS = 1 << TT_HLL_P,
	TT_HLL_Q = 64 - TT_HLL_P,
	TT_HLL_REDIS_HDR = 16,
	TT_HLL_REDIS_DENSE_SIZE = TT_HLL_REDIS_HDR + TT_HLL_REGISTERS * 6 / 8,
	TT_HLL_POOL_SPARSE_MAX = 32,   /* registers a worker keeps before going dense */
};

/* The variants of a srcs key, enum tt_hll_variant: tt_schema.h. */

/*
 * MurmurHash2, 64-bit, reading little-endian words as Redis does. Inline:
 * the data path hashes every packet's source, and with a constant length
 * (4 for IPv4) the compiler drops the loop and the tail switch.
 */
static inline uint64_t
tt_hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
	const uint64_t m = 0xc6a4a7935bd1e995ull;
	const int r = 47;
	const uint8_t *data = (const uint8_t *)key;
	const uint8_t *end = data + (len - (len & 7));
	uint64_t h = seed ^ (len * m);

	while (data != end) {
		uint64_t k = (uint64_t)data[0] | (uint64_t)data[1] << 8 |
			(uint64_t)data[2] << 16 | (uint64_t)data[3] << 24 |
			(uint64_t)data[4] << 32 | (uint64_t)data[5] << 40 |
			(uint64_t)data[6] << 48 | (uint64_t)data[7] << 56;

		k *= m;
		k ^= k >> r;
		k *= m;
		h ^= k;
		h *= m;
		data += 8;
	}
	switch (len & 7) {
	case 7: h ^= (uint64_t)data[6] << 48; /* fall through */
	case 6: h ^= (uint64_t)data[5] << 40; /* fall through */
	case 5: h ^= (uint64_t)data[4] << 32; /* fall through */
	case 4: h ^= (uint64_t)data[3] << 24; /* fall through */
	case 3: h ^= (uint64_t)data[2] << 16; /* fall through */
	case 2: h ^= (uint64_t)data[1] << 8;  /* fall through */
	case 1:
		h ^= (uint64_t)data[0];
		h *= m;
		break;
	default:
		break;
	}
	h ^= h >> r;
	h *= m;
	h ^= h >> r;
	return h;
}

/** Register index and rank of an element, as Redis's hllPatLen(). */
static inline void
tt_hll_position(const void *ele, size_t len, uint16_t *index, uint8_t *rank)
{
	uint64_t h = tt_hll_murmur64a(ele, len, 0xadc83b19ull);

	*index = (uint16_t)(h & (TT_HLL_REGISTERS - 1));
	h >>= TT_HLL_P;
	h |= (uint64_t)1 << TT_HLL_Q;
	*rank = (uint8_t)(__builtin_ctzll(h) + 1);
}

/** Redis's cardinality estimate of 16384 one-byte registers. */
uint64_t tt_hll_estimate_registers(const uint8_t *registers);

/** Pack one-byte registers into Redis's dense string (TT_HLL_REDIS_DENSE_SIZE). */
void tt_hll_encode_redis(const uint8_t *registers, uint8_t *out);

/**
 * The smaller of Redis's sparse and dense strings for these registers
 * (sparse needs every register <= 32). @p out holds TT_HLL_REDIS_DENSE_SIZE.
 * @return the length written.
 */
size_t tt_hll_encode_redis_compact(const uint8_t *registers, uint8_t *out);

/** Unpack a Redis HLL string, dense or sparse. @return 0, or -EINVAL if not one. */
int tt_hll_decode_redis(const uint8_t *in, size_t len, uint8_t *registers);

/* --- control plane: one HLL --- */

struct tt_hll {
	uint32_t n;                    /* sparse entries in use */
	uint32_t cap;
	uint32_t *sparse;              /* sorted (index << 8 | rank); NULL once dense */
	uint8_t *dense;                /* TT_HLL_REGISTERS bytes, or NULL */
};

/** Set a register to at least @p rank. @return 0 or -ENOMEM. */
int tt_hll_add(struct tt_hll *h, uint16_t index, uint8_t rank);
/** dst = union(dst, src). @return 0 or -ENOMEM. */
int tt_hll_merge(struct tt_hll *dst, const struct tt_hll *src);
/** The registers as 16384 bytes. */
void tt_hll_registers(const struct tt_hll *h, uint8_t *registers);
uint64_t tt_hll_estimate(const struct tt_hll *h);
bool tt_hll_empty(const struct tt_hll *h);
size_t tt_hll_memory(const struct tt_hll *h);
void tt_hll_fini(struct tt_hll *h);

/* --- worker: pools of register sets --- */

struct tt_hll_pool;

/** Handles of one key's variants (enum tt_hll_variant); 0 is "none yet". */
struct tt_hll_slots {
	uint32_t h[TT_HLL_VARIANTS];
};

/**
 * Create a pool. Control thread.
 * @return the pool, or NULL with errno (EINVAL, ENOMEM).
 */
struct tt_hll_pool *tt_hll_pool_create(uint32_t n_sparse, uint32_t n_dense);
void tt_hll_pool_free(struct tt_hll_pool *p);
/** Return every set to the pool. Owner only. */
void tt_hll_pool_reset(struct tt_hll_pool *p);

/**
 * Set a register of the variant's set, taking a set from the pool if needed.
 * Per packet, by the pool's owner. When no larger set is left for a full
 * one the update is counted in tt_hll_pool_dropped() (an estimate then
 * undercounts). @return false for such an update, true when the register
 * holds at least @p rank.
 */
bool tt_hll_pool_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank);

/**
 * Start loading what tt_hll_pool_add() of @p index to the set @p handle
 * will touch: the register's line of a dense set, its home slot's line of
 * a mid set, a sparse set's two lines. Nothing for a set not yet taken. By
 * the pool's owner.
 */
void tt_hll_pool_prefetch(const struct tt_hll_pool *p, uint32_t handle, uint16_t index);

/** Fold a pool set into a control-plane HLL. @return 0 or -ENOMEM. */
int tt_hll_pool_merge_into(const struct tt_hll_pool *p, uint32_t handle, struct tt_hll *dst);
/**
 * The same into each of @p n_dst HLLs, in turn: a sparse or mid set's
 * registers are put in index order once for all of them.
 * @return 0, or -ENOMEM (the HLLs before the failing one are merged).
 */
int tt_hll_pool_merge_into_each(const struct tt_hll_pool *p, uint32_t handle,
		struct tt_hll *const *dst, unsigned int n_dst);

uint64_t tt_hll_pool_dropped(const struct tt_hll_pool *p);
/**
 * Count @p n more updates as dropped: the repeats of one that
 * tt_hll_pool_add() dropped, made by packets counted together with it
 * (tt_counters_drain()). By the pool's owner.
 */
void tt_hll_pool_count_dropped(struct tt_hll_pool *p, uint64_t n);
/** Sets still free in the pools, and the pools' sizes. Owner only. */
void tt_hll_pool_free_sets(const struct tt_hll_pool *p, uint32_t *sparse, uint32_t *dense);
/** Bytes of the mid and dense sets taken: how far the registers are spread. Owner only. */
uint64_t tt_hll_pool_register_bytes(const struct tt_hll_pool *p);
uint32_t tt_hll_pool_capacity_sparse(const struct tt_hll_pool *p);
uint32_t tt_hll_pool_capacity_dense(const struct tt_hll_pool *p);
uint64_t tt_hll_pool_memory(const struct tt_hll_pool *p);

#endif /* TT_HLL_H */
