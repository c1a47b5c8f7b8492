/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis-compatible HyperLogLog: hash, estimator, encoding (any thread), the
 * control plane's growable HLL, and the control side of the workers' pools
 * (their per-packet side is hll_dp.c).
 */
#include "tt_hll.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hll_internal.h"
#include "tt_mem.h"

enum {
	SPARSE_LIMIT = 2048,           /* past it a control-plane HLL goes dense (16 KiB) */
	REGISTER_MAX = 63,
};

/* Redis 7's estimator (Otmar Ertl's improved raw estimate). */
static double
sigma(double x)
{
	double y = 1, z = x, z_prev;

	if (x == 1.)
		return INFINITY;
	do {
		x *= x;
		z_prev = z;
		z += x * y;
		y += y;
	} while (z_prev != z);
	return z;
}

static double
tau(double x)
{
	double y = 1.0, z, z_prev;

	if (x == 0. || x == 1.)
		return 0.;
	z = 1 - x;
	do {
		x = sqrt(x);
		z_prev = z;
		y *= 0.5;
		z -= pow(1 - x, 2) * y;
	} while (z_prev != z);
	return z / 3;
}

static uint64_t
estimate_histogram(const int *histo)
{
	const double m = TT_HLL_REGISTERS, alpha_inf = 0.721347520444481703680;
	double z = m * tau((m - histo[TT_HLL_Q + 1]) / m);
	int j;

	for (j = TT_HLL_Q; j >= 1; --j) {
		z += histo[j];
		z *= 0.5;
	}
	z += m * sigma(histo[0] / m);
	return (uint64_t)llroundl(alpha_inf * m * m / z);
}

uint64_t
tt_hll_estimate_registers(const uint8_t *registers)
{
	int histo[64] = { 0 };
	uint32_t i;

	for (i = 0; i < TT_HLL_REGISTERS; i++)
		histo[registers[i] & REGISTER_MAX]++;
	return estimate_histogram(histo);
}

void
tt_hll_encode_redis(const uint8_t *registers, uint8_t *out)
{
	uint8_t *p = out + TT_HLL_REDIS_HDR;
	uint32_t i;

	memset(out, 0, TT_HLL_REDIS_DENSE_SIZE);
	memcpy(out, "HYLL", 4);                /* encoding 0: dense */
	out[15] = 0x80;                        /* cached cardinality: invalid */
	for (i = 0; i < TT_HLL_REGISTERS; i++) {
		uint32_t bit = i * 6, byte = bit / 8, fb = bit & 7;
		uint32_t v = registers[i] & REGISTER_MAX;

		p[byte] |= (uint8_t)(v << fb);
		if (fb > 2)
			p[byte + 1] |= (uint8_t)(v >> (8 - fb));
	}
}

/*
 * Redis's sparse opcodes: ZERO 00xxxxxx (1-64 zero registers), XZERO
 * 01xxxxxx yyyyyyyy (1-16384 zeros), VAL 1vvvvvxx (1-4 registers of value
 * 1-32). A minute's few sources take a few dozen bytes instead of 12 KiB.
 */
enum {
	SPARSE_VAL_MAX = 32,
	SPARSE_VAL_RUN = 4,
	SPARSE_ZERO_MAX = 64,
	SPARSE_XZERO_MAX = 16384,
};

size_t
tt_hll_encode_redis_compact(const uint8_t *registers, uint8_t *out)
{
	size_t n = TT_HLL_REDIS_HDR;
	uint32_t i = 0;

	memset(out, 0, TT_HLL_REDIS_HDR);
	memcpy(out, "HYLL", 4);
	out[4] = 1;                            /* sparse */
	out[15] = 0x80;                        /* cached cardinality: invalid */
	while (i < TT_HLL_REGISTERS) {
		uint32_t run = 1;

		/* 3 bytes of headroom: the largest opcode is 2, then give up. */
		if (n + 3 > TT_HLL_REDIS_DENSE_SIZE)
			goto dense;
		if (registers[i] == 0) {
			while (i + run < TT_HLL_REGISTERS && registers[i + run] == 0 &&
					run < SPARSE_XZERO_MAX)
				run++;
			if (run <= SPARSE_ZERO_MAX) {
				out[n++] = (uint8_t)(run - 1);
			} else {
				out[n++] = (uint8_t)(0x40 | ((run - 1) >> 8));
				out[n++] = (uint8_t)((run - 1) & 0xff);
			}
		} else {
			if (registers[i] > SPARSE_VAL_MAX)
				goto dense;
			while (i + run < TT_HLL_REGISTERS && registers[i + run] == registers[i] &&
					run < SPARSE_VAL_RUN)
				run++;
			out[n++] = (uint8_t)(0x80 | (registers[i] - 1) << 2 | (run - 1));
		}
		i += run;
	}
	if (n < TT_HLL_REDIS_DENSE_SIZE)
		return n;
dense:
	tt_hll_encode_redis(registers, out);
	return TT_HLL_REDIS_DENSE_SIZE;
}

static int
decode_sparse(const uint8_t *in, size_t len, uint8_t *registers)
{
	size_t n = TT_HLL_REDIS_HDR;
	uint32_t i = 0, run;

	memset(registers, 0, TT_HLL_REGISTERS);
	while (n < len) {
		uint8_t op = in[n++];

		if ((op & 0xc0) == 0) {
			run = (op & 0x3f) + 1u;
		} else if ((op & 0xc0) == 0x40) {
			if (n == len)
				return -EINVAL;
			run = (((uint32_t)op & 0x3f) << 8 | in[n++]) + 1u;
		} else {
			uint8_t v = (uint8_t)(((op >> 2) & 0x1f) + 1);

			run = (op & 3u) + 1u;
			if (i + run > TT_HLL_REGISTERS)
				return -EINVAL;
			memset(registers + i, v, run);
		}
		i += run;
		if (i > TT_HLL_REGISTERS)
			return -EINVAL;
	}
	return i == TT_HLL_REGISTERS ? 0 : -EINVAL;
}

int
tt_hll_decode_redis(const uint8_t *in, size_t len, uint8_t *registers)
{
	const uint8_t *p = in + TT_HLL_REDIS_HDR;
	uint32_t i;

	if (len >= TT_HLL_REDIS_HDR && memcmp(in, "HYLL", 4) == 0 && in[4] == 1)
		return decode_sparse(in, len, registers);
	if (len != TT_HLL_REDIS_DENSE_SIZE || memcmp(in, "HYLL", 4) != 0 || in[4] != 0)
		return -EINVAL;
	for (i = 0; i < TT_HLL_REGISTERS; i++) {
		uint32_t bit = i * 6, byte = bit / 8, fb = bit & 7;
		uint32_t v = (uint32_t)p[byte] >> fb;

		if (fb > 2)
			v |= (uint32_t)p[byte + 1] << (8 - fb);
		registers[i] = (uint8_t)(v & REGISTER_MAX);
	}
	return 0;
}

/* --- control-plane HLL --- */

static int
go_dense(struct tt_hll *h)
{
	uint8_t *d = calloc(TT_HLL_REGISTERS, 1);
	uint32_t i;

	if (d == NULL)
		return -ENOMEM;
	for (i = 0; i < h->n; i++)
		d[h->sparse[i] >> 8] = (uint8_t)h->sparse[i];
	free(h->sparse);
	h->sparse = NULL;
	h->n = h->cap = 0;
	h->dense = d;
	return 0;
}

/*
 * d = max(d, s), register by register. Stored unconditionally through
 * restrict pointers so the compiler makes it a vector max (the conditional
 * store it replaces was a byte loop): with many sensors the control plane
 * merges thousands of dense sets a second.
 */
static void
max_registers(uint8_t *restrict d, const uint8_t *restrict s)
{
	uint32_t i;

	for (i = 0; i < TT_HLL_REGISTERS; i++)
		d[i] = s[i] > d[i] ? s[i] : d[i];
}

/*
 * dst = dst ∪ the entries e[0..m) (index << 8 | rank, ascending index): one
 * linear merge, backwards in place once dst has room, dense past SPARSE_LIMIT.
 * Adding them one by one moved the tail of dst for each entry, and merging a
 * dense set made dst dense at once: with thousands of sensors every merged
 * HLL of the publisher's backlog took 16 KiB of fresh, zeroed pages (52% of
 * the control thread in a 4096-sensor flood).
 */
static int
merge_entries(struct tt_hll *dst, const uint32_t *e, uint32_t m)
{
	uint32_t i, j, k, n, dup = 0;

	if (m == 0)
		return 0;
	if (dst->dense != NULL) {
		for (j = 0; j < m; j++)
			if ((uint8_t)e[j] > dst->dense[e[j] >> 8])
				dst->dense[e[j] >> 8] = (uint8_t)e[j];
		return 0;
	}
	n = dst->n + m;
	if (n > dst->cap) {
		uint32_t cap = dst->cap ? dst->cap : 16;
		uint32_t *grown;

		while (cap < n)
			cap *= 2;
		grown = realloc(dst->sparse, (size_t)cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		dst->sparse = grown;
		dst->cap = cap;
	}
	/* From the back: k is where the next largest entry goes. */
	i = dst->n;
	j = m;
	k = n;
	while (j > 0) {
		uint32_t a = i > 0 ? dst->sparse[i - 1] >> 8 : 0, b = e[j - 1] >> 8;

		if (i > 0 && a > b) {
			dst->sparse[--k] = dst->sparse[--i];
		} else if (i > 0 && a == b) {
			uint32_t x = dst->sparse[--i], y = e[--j];

			dst->sparse[--k] = (uint8_t)x >= (uint8_t)y ? x : y;
			dup++;
		} else {
			dst->sparse[--k] = e[--j];
		}
	}
	/* What is left of dst is in place already; close the gap duplicates left. */
	if (dup != 0)
		memmove(&dst->sparse[i], &dst->sparse[k], (n - k) * sizeof(*dst->sparse));
	dst->n = n - dup;
	if (dst->n > SPARSE_LIMIT)
		return go_dense(dst);
	return 0;
}

/* One register: the same merge, of one entry. */
int
tt_hll_add(struct tt_hll *h, uint16_t index, uint8_t rank)
{
	uint32_t e = (uint32_t)index << 8 | rank;

	return merge_entries(h, &e, 1);
}

/* Bit b set: byte b of the 16 at @p p is not zero. */
static inline uint32_t
nonzero_bytes16(const uint8_t *p)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)p);

	return ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) & 0xffff;
#else
	uint32_t b, mask = 0;

	for (b = 0; b < 16; b++)
		mask |= (uint32_t)(p[b] != 0) << b;
	return mask;
#endif
}

int
tt_hll_merge(struct tt_hll *dst, const struct tt_hll *src)
{
	uint32_t e[SPARSE_LIMIT + 16];    /* a block's sixteen may pass the limit */
	uint32_t i, m = 0;
	int rc;

	if (src->dense == NULL)
		return merge_entries(dst, src->sparse, src->n);
	if (dst->dense == NULL) {
		/* A dense set with few registers keeps a sparse dst sparse. */
		for (i = 0; i < TT_HLL_REGISTERS && m < SPARSE_LIMIT; i += 16) {
			uint32_t nonzero = nonzero_bytes16(&src->dense[i]);

			while (nonzero != 0) {
				uint32_t b = i + (uint32_t)__builtin_ctz(nonzero);

				e[m++] = b << 8 | src->dense[b];
				nonzero &= nonzero - 1;
			}
		}
		if (i == TT_HLL_REGISTERS && m <= SPARSE_LIMIT)
			return merge_entries(dst, e, m);
		if ((rc = go_dense(dst)) != 0)
			return rc;
	}
	max_registers(dst->dense, src->dense);
	return 0;
}

void
tt_hll_registers(const struct tt_hll *h, uint8_t *registers)
{
	uint32_t i;

	if (h->dense != NULL) {
		memcpy(registers, h->dense, TT_HLL_REGISTERS);
		return;
	}
	memset(registers, 0, TT_HLL_REGISTERS);
	for (i = 0; i < h->n; i++)
		registers[h->sparse[i] >> 8] = (uint8_t)h->sparse[i];
}

uint64_t
tt_hll_estimate(const struct tt_hll *h)
{
	int histo[64] = { 0 };
	uint32_t i;

	if (h->dense != NULL)
		return tt_hll_estimate_registers(h->dense);
	histo[0] = TT_HLL_REGISTERS - (int)h->n;
	for (i = 0; i < h->n; i++)
		histo[h->sparse[i] & REGISTER_MAX]++;
	return estimate_histogram(histo);
}

bool
tt_hll_empty(const struct tt_hll *h)
{
	return h->dense == NULL && h->n == 0;
}

size_t
tt_hll_memory(const struct tt_hll *h)
{
	return h->dense != NULL ? TT_HLL_REGISTERS : h->cap * sizeof(uint32_t);
}

void
tt_hll_fini(struct tt_hll *h)
{
	free(h->sparse);
	free(h->dense);
	memset(h, 0, sizeof(*h));
}

/* --- the workers' pools: control side --- */

struct tt_hll_pool *
tt_hll_pool_create(uint32_t n_sparse, uint32_t n_dense)
{
	struct tt_hll_pool *p;

	if (n_sparse == 0 || n_sparse >= MID_BIT || n_dense >= MID_BIT) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->n_sparse = n_sparse;
	p->n_mid = n_dense;            /* hll_internal.h: as many as dense sets */
	p->n_dense = n_dense;
	p->sparse = calloc(n_sparse, sizeof(*p->sparse));
	p->mid = p->n_mid ? calloc(p->n_mid, sizeof(*p->mid)) : NULL;
	p->mid_n = p->n_mid ? calloc(p->n_mid, sizeof(*p->mid_n)) : NULL;
	p->dense = n_dense ? calloc(n_dense, TT_HLL_REGISTERS) : NULL;
	if (p->sparse == NULL || (p->n_mid != 0 && (p->mid == NULL || p->mid_n == NULL)) ||
			(n_dense != 0 && p->dense == NULL)) {
		tt_hll_pool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	/* A worker's, written per packet (tt_mem.h) */
	tt_mem_prefault(p->sparse, (size_t)n_sparse * sizeof(*p->sparse));
	tt_mem_prefault(p->mid, (size_t)p->n_mid * sizeof(*p->mid));
	tt_mem_prefault(p->mid_n, (size_t)p->n_mid * sizeof(*p->mid_n));
	tt_mem_prefault(p->dense, (size_t)n_dense * TT_HLL_REGISTERS);
	return p;
}

void
tt_hll_pool_free(struct tt_hll_pool *p)
{
	if (p == NULL)
		return;
	free(p->sparse);
	free(p->mid);
	free(p->mid_n);
	free(p->dense);
	free(p);
}

void
tt_hll_pool_reset(struct tt_hll_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->used_sparse; i++)
		p->sparse[i].n = 0;
	memset(p->mid, 0, (size_t)p->used_mid * sizeof(*p->mid));
	memset(p->mid_n, 0, (size_t)p->used_mid * sizeof(*p->mid_n));
	memset(p->dense, 0, (size_t)p->used_dense * TT_HLL_REGISTERS);
	p->used_sparse = 0;
	p->used_mid = 0;
	p->used_dense = 0;
	p->dropped = 0;
}

/* Insert @p e into sorted[0, n), in index order. */
static inline void
insert_sorted(uint32_t *sorted, uint32_t n, uint32_t e)
{
	for (; n > 0 && (sorted[n - 1] >> 8) > (e >> 8); n--)
		sorted[n] = sorted[n - 1];
	sorted[n] = e;
}

/* @p view merged into each of @p dst. */
static int
merge_view_into_each(const struct tt_hll *view, struct tt_hll *const *dst, unsigned int n_dst)
{
	unsigned int d;
	int rc = 0;

	for (d = 0; d < n_dst && rc == 0; d++)
		rc = tt_hll_merge(dst[d], view);
	return rc;
}

/*
 * A merge of a worker shard adds each of its sets to two to four HLLs
 * (its scope's and the all scope's, and for a watched service its
 * sensor's whole set too), and a control thread merges each shard for
 * the publisher, the alerts and the live view. Putting a set's registers
 * in order took 20% of that thread's samples at 4,096 sensors (perf, the
 * benchmark's flood, 6 s), and 16% since it is done once a set, not once
 * an HLL (the thread is busy throughout either way: shares, not times).
 */
int
tt_hll_pool_merge_into_each(const struct tt_hll_pool *p, uint32_t handle,
		struct tt_hll *const *dst, unsigned int n_dst)
{
	uint32_t sorted[MID_LIMIT];
	struct tt_hll view = { 0 };
	const struct sparse_set *s;
	uint32_t i, n = 0;

	if (handle == 0)
		return 0;
	if (handle & DENSE_BIT) {
		view.dense = dense_of(p, handle);
		return merge_view_into_each(&view, dst, n_dst);
	}
	/*
	 * In index order, for one linear merge into dst. A mid set's slots
	 * come nearly in that order already (a register's home slot is its
	 * index's top bits), so the insertion moves little: only the runs a
	 * probe displaced, and the few that wrapped past the last slot.
	 */
	if (handle & MID_BIT) {
		const struct mid_set *m = mid_of(p, handle);

		for (i = 0; i < MID_SLOTS; i++)
			if (m->slot[i] != 0)
				insert_sorted(sorted, n++, mid_word(i, m->slot[i]));
	} else {
		s = &p->sparse[handle - 1];
		for (i = 0; i < s->n; i++)
			insert_sorted(sorted, n++, (uint32_t)s->index[i] << 8 | s->rank[i]);
	}
	view.sparse = sorted;
	view.n = n;
	return merge_view_into_each(&view, dst, n_dst);
}

int
tt_hll_pool_merge_into(const struct tt_hll_pool *p, uint32_t handle, struct tt_hll *dst)
{
	return tt_hll_pool_merge_into_each(p, handle, &dst, 1);
}

uint64_t
tt_hll_pool_dropped(const struct tt_hll_pool *p)
{
	return p->dropped;
}

void
tt_hll_pool_count_dropped(struct tt_hll_pool *p, uint64_t n)
{
	p->dropped += n;
}

uint64_t
tt_hll_pool_memory(const struct tt_hll_pool *p)
{
	return sizeof(*p) + (uint64_t)p->n_sparse * sizeof(*p->sparse) +
		(uint64_t)p->n_mid * (sizeof(*p->mid) + sizeof(*p->mid_n)) +
		(uint64_t)p->n_dense * TT_HLL_REGISTERS;
}
