/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker-side HLL sets, from pools allocated at start (hll.c): setting a
 * register costs a short scan of a sparse set (32 registers, two cache
 * lines), a short probe of a mid set's slots (usually one line) or one byte
 * compare in a dense one (hll_internal.h). No allocation, no atomics; one
 * owner, the pool's shard's worker.
 */
#include "tt_hll.h"

#include "tt_data_path.h"
#include "hll_internal.h"

TT_DATA_PATH static uint32_t
take_dense(struct tt_hll_pool *p)
{
	return p->used_dense < p->n_dense ? (p->used_dense++ | DENSE_BIT) : 0;
}

/*
 * A full sparse set's next shape: dense while fewer than DENSE_BEFORE_MID
 * are out, then mid, then dense again once mid sets ran out.
 */
TT_DATA_PATH static uint32_t
take_larger(struct tt_hll_pool *p)
{
	if ((p->used_dense < DENSE_BEFORE_MID && p->used_dense < p->n_dense) ||
			p->used_mid >= p->n_mid)
		return take_dense(p);
	return p->used_mid++ | MID_BIT;
}

TT_DATA_PATH static inline void
dense_add(uint8_t *d, uint16_t index, uint8_t rank)
{
	if (rank > d[index])
		d[index] = rank;
}

/*
 * Set a register of a mid set. @return false when the set holds MID_LIMIT
 * registers and this is another, or when the register's place would be
 * more than MID_DISP_MAX slots past its home: the caller moves the set to
 * a dense one. The probe is therefore never longer than MID_DISP_MAX + 1.
 */
TT_DATA_PATH static inline bool
mid_add(struct tt_hll_pool *p, uint32_t handle, uint16_t index, uint8_t rank)
{
	struct mid_set *m = mid_of(p, handle);
	uint32_t home = (uint32_t)index >> MID_HOME_SHIFT, d, i = home;

	for (d = 0; d <= MID_DISP_MAX; d++) {
		uint16_t e;

		i = (home + d) & (MID_SLOTS - 1);
		e = m->slot[i];
		if (e == 0)
			break;
		if ((e & ~MID_RANK_MASK) == mid_slot(d, index, 0)) {
			if (rank > (e & MID_RANK_MASK))
				m->slot[i] = mid_slot(d, index, rank);
			return true;
		}
	}
	if (d > MID_DISP_MAX || p->mid_n[handle & ~MID_BIT] >= MID_LIMIT)
		return false;
	p->mid_n[handle & ~MID_BIT]++;
	m->slot[i] = mid_slot(d, index, rank);
	return true;
}

/* Set a register of a mid or dense set, @p h. @return false when a mid set has no room for it. */
TT_DATA_PATH static inline bool
larger_add(struct tt_hll_pool *p, uint32_t h, uint16_t index, uint8_t rank)
{
	if (h & DENSE_BIT) {
		dense_add(dense_of(p, h), index, rank);
		return true;
	}
	return mid_add(p, h, index, rank);
}

/* A sparse set's registers and one more into the mid or dense set @p to: false when they do not fit. */
TT_DATA_PATH static bool
fill_from_sparse(struct tt_hll_pool *p, uint32_t to, const struct sparse_set *s,
		uint16_t index, uint8_t rank)
{
	uint32_t k;

	for (k = 0; k < s->n; k++)
		if (!larger_add(p, to, s->index[k], s->rank[k]))
			return false;
	return larger_add(p, to, index, rank);
}

/*
 * A full sparse or mid set: move it to a larger one (the old one stays
 * taken until reset), then set the register there. Counted when no larger
 * set is left. Once a set, so kept out of line: inlined into
 * tt_hll_pool_add(), its loops made every call save six registers.
 */
TT_DATA_PATH __attribute__((noinline)) static bool
grow_and_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank)
{
	uint32_t to = *handle & MID_BIT ? take_dense(p) : take_larger(p), k;

	if (to == 0) {
		p->dropped++;
		return false;
	}
	if (*handle & MID_BIT) {
		const struct mid_set *m = mid_of(p, *handle);
		uint8_t *d = dense_of(p, to);

		for (k = 0; k < MID_SLOTS; k++) {
			uint32_t word;

			if (m->slot[k] == 0)
				continue;
			word = mid_word(k, m->slot[k]);
			dense_add(d, (uint16_t)(word >> 8), (uint8_t)word);
		}
		dense_add(d, index, rank);
	} else if (!fill_from_sparse(p, to, &p->sparse[*handle - 1], index, rank)) {
		/* a mid set they crowd past MID_DISP_MAX: it stays taken until reset */
		to = take_dense(p);
		if (to == 0) {
			p->dropped++;
			return false;
		}
		fill_from_sparse(p, to, &p->sparse[*handle - 1], index, rank);
	}
	*handle = to;
	return true;
}

/* A sparse set's register, or a new set's first. Tail call of tt_hll_pool_add(). */
TT_DATA_PATH __attribute__((noinline)) static bool
sparse_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank)
{
	struct sparse_set *s;
	uint32_t i;

	if (*handle == 0) {
		if (p->used_sparse < p->n_sparse)
			*handle = ++p->used_sparse;        /* sparse i is handle i + 1 */
		else
			*handle = take_larger(p);
		if (*handle == 0) {
			p->dropped++;
			return false;
		}
		if (*handle & (DENSE_BIT | MID_BIT)) {
			larger_add(p, *handle, index, rank);
			return true;
		}
	}
	s = &p->sparse[*handle - 1];
	for (i = 0; i < s->n; i++) {
		if (s->index[i] == index) {
			if (rank > s->rank[i])
				s->rank[i] = rank;
			return true;
		}
	}
	if (s->n < TT_HLL_POOL_SPARSE_MAX) {
		s->index[s->n] = index;
		s->rank[s->n++] = rank;
		return true;
	}
	return grow_and_add(p, handle, index, rank);
}

/* A mid set's register. Tail call of tt_hll_pool_add(). */
TT_DATA_PATH __attribute__((noinline)) static bool
mid_set_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank)
{
	return mid_add(p, *handle, index, rank) || grow_and_add(p, handle, index, rank);
}

/*
 * Dense sets first, in a few instructions and no saved register; the
 * other shapes are tail calls (they cost a jump).
 */
TT_DATA_PATH bool
tt_hll_pool_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank)
{
	uint32_t h = *handle;

	if (h & DENSE_BIT) {
		dense_add(dense_of(p, h), index, rank);
		return true;
	}
	if (h & MID_BIT)
		return mid_set_add(p, handle, index, rank);
	return sparse_add(p, handle, index, rank);
}

TT_DATA_PATH void
tt_hll_pool_prefetch(const struct tt_hll_pool *p, uint32_t handle, uint16_t index)
{
	const uint8_t *s;

	if (handle == 0)
		return;
	if (handle & DENSE_BIT) {
		tt_prefetch_write(dense_of(p, handle) + index);
		return;
	}
	if (handle & MID_BIT) {
		tt_prefetch_write(&mid_of(p, handle)->slot[index >> MID_HOME_SHIFT]);
		return;
	}
	s = (const uint8_t *)&p->sparse[handle - 1];
	tt_prefetch_write(s);
	tt_prefetch_write(s + sizeof(p->sparse[0]) - 1);
}

TT_DATA_PATH void
tt_hll_pool_free_sets(const struct tt_hll_pool *p, uint32_t *sparse, uint32_t *dense)
{
	*sparse = p->n_sparse - p->used_sparse;
	*dense = p->n_dense - p->used_dense;
}

TT_DATA_PATH uint64_t
tt_hll_pool_register_bytes(const struct tt_hll_pool *p)
{
	return (uint64_t)p->used_mid * sizeof(struct mid_set) +
		(uint64_t)p->used_dense * TT_HLL_REGISTERS;
}

TT_DATA_PATH uint32_t
tt_hll_pool_capacity_sparse(const struct tt_hll_pool *p)
{
	return p->n_sparse;
}

TT_DATA_PATH uint32_t
tt_hll_pool_capacity_dense(const struct tt_hll_pool *p)
{
	return p->n_dense;
}
