/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counter shards: cells, fixed capacity with counted overflow, merge.
 */
#include <errno.h>

#include "cunit_main.h"
#include "tt_counters.h"

static uint64_t
sum_column(const struct tt_table *t, unsigned int col, uint16_t sensor)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < tt_table_cells(t); i++)
		if (tt_table_key(t, i)->sensor == sensor)
			sum += tt_table_values(t, i)[col];
	return sum;
}

static void
test_create_invalid(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(tt_counters_create(1000, 1024, false));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(tt_counters_create(1024, 8, false));
	tt_counters_free(NULL);
}

static void
test_add_and_read(void)
{
	struct tt_shard *s = tt_counters_create(1024, 1024, false);
	const struct tt_table *pt, *ct;
	const uint64_t *v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	tt_counters_add(s, 100, 0, TT_SVC(TT_SVC_TCP, 23), 5, true, false, false,
		TT_CLASS_MIRAI, 60);
	tt_counters_add(s, 100, 0, TT_SVC(TT_SVC_TCP, 23), 6, false, true, true,
		TT_CLASS_OTHER, 74);
	tt_counters_add(s, 101, 0, TT_SVC(TT_SVC_TCP, 23), 6, false, false, false,
		TT_CLASS_NMAP, 60);
	pt = tt_counters_port_table(s);
	ct = tt_counters_country_table(s);
	CU_ASSERT_EQUAL_FATAL(tt_table_cells(pt), 2);      /* minutes 100 and 101 */
	v = tt_table_values(pt, 0);
	CU_ASSERT_EQUAL(tt_table_key(pt, 0)->minute, 100);
	CU_ASSERT_EQUAL(v[TT_PV_PKTS], 2);
	CU_ASSERT_EQUAL(v[TT_PV_BYTES], 134);
	CU_ASSERT_EQUAL(v[TT_PV_HOME], 1);
	CU_ASSERT_EQUAL(v[TT_PV_V6], 1);
	CU_ASSERT_EQUAL(v[TT_PV_MALFORMED], 1);
	CU_ASSERT_EQUAL(v[TT_PV_HOME_MIRAI], 1);
	CU_ASSERT_EQUAL(v[TT_PV_CLASS(TT_CLASS_MIRAI)], 1);
	CU_ASSERT_EQUAL(v[TT_PV_CLASS(TT_CLASS_NMAP)], 0);
	CU_ASSERT_EQUAL(tt_table_values(pt, 1)[TT_PV_CLASS(TT_CLASS_NMAP)], 1);
	CU_ASSERT_EQUAL(tt_table_cells(ct), 3);
	CU_ASSERT_EQUAL(sum_column(ct, TT_CV_MIRAI, 0), 1);
	tt_counters_reset(s);
	CU_ASSERT_EQUAL(tt_table_cells(pt), 0);
	CU_ASSERT_EQUAL(tt_table_cells(ct), 0);
	tt_counters_free(s);
}

/* A full table keeps counting under the overflow key: nothing is lost. */
static void
test_overflow_is_counted(void)
{
	struct tt_shard *s = tt_counters_create(16, 16, false);
	const struct tt_table *pt;
	uint32_t i, overflow_cells = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < 20; i++)
		tt_counters_add(s, 1, 0, TT_SVC(TT_SVC_UDP, i), 0, false, false, false,
			TT_CLASS_OTHER, 64);
	pt = tt_counters_port_table(s);
	CU_ASSERT_EQUAL(tt_table_cells(pt), 12 + 1);        /* 3/4 of 16, plus overflow */
	CU_ASSERT_EQUAL(sum_column(pt, TT_PV_PKTS, 0), 20);
	for (i = 0; i < tt_table_cells(pt); i++)
		if (tt_table_key(pt, i)->item == TT_SVC(TT_SVC_OVERFLOW, 0)) {
			overflow_cells++;
			CU_ASSERT_EQUAL(tt_table_values(pt, i)[TT_PV_PKTS], 8);
		}
	CU_ASSERT_EQUAL(overflow_cells, 1);
	CU_ASSERT_EQUAL(tt_counters_overflowed(s), 8);
	CU_ASSERT_EQUAL(tt_counters_lost(s), 0);
	/* overflow keys of new minutes fill the reserve; then packets are "lost" */
	for (i = 0; i < 5; i++)
		tt_counters_add(s, 2 + i, 0, TT_SVC(TT_SVC_UDP, 1000), 0, false, false, false,
			TT_CLASS_OTHER, 64);
	CU_ASSERT_EQUAL(tt_table_cells(pt), 15);            /* one slot always stays free */
	CU_ASSERT_EQUAL(tt_counters_overflowed(s), 8 + 2);
	CU_ASSERT_EQUAL(tt_counters_lost(s), 3);
	tt_counters_free(s);
}

static void
test_merge_collapse_and_all(void)
{
	struct tt_shard *a = tt_counters_create(16, 16, false);
	struct tt_shard *run = tt_counters_create(16, 16, true);
	const struct tt_table *pt;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < 10; i++)
		tt_counters_add(a, i, (uint16_t)(i % 2), TT_SVC(TT_SVC_TCP, 23), 0, false,
			false, false, TT_CLASS_MIRAI, 60);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, true, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, true, true), 0);
	pt = tt_counters_port_table(run);
	CU_ASSERT_EQUAL(tt_table_cells(pt), 3);             /* sensor 0, 1 and all */
	CU_ASSERT_EQUAL(sum_column(pt, TT_PV_PKTS, 0), 10);
	CU_ASSERT_EQUAL(sum_column(pt, TT_PV_PKTS, 1), 10);
	CU_ASSERT_EQUAL(sum_column(pt, TT_PV_PKTS, TT_SCOPE_ALL), 20);
	CU_ASSERT_EQUAL(sum_column(pt, TT_PV_CLASS(TT_CLASS_MIRAI), TT_SCOPE_ALL), 20);
	tt_counters_free(a);
	tt_counters_free(run);
}

static void
test_growable_merge_keeps_everything(void)
{
	struct tt_shard *a = tt_counters_create(1 << 12, 16, false);
	struct tt_shard *run = tt_counters_create(16, 16, true);
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < 3000; i++)
		tt_counters_add(a, 7, 0, TT_SVC(TT_SVC_TCP, i), 0, false, false, false,
			TT_CLASS_OTHER, 60);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, false, false), 0);
	CU_ASSERT_EQUAL(tt_table_cells(tt_counters_port_table(run)), 3000);
	CU_ASSERT_EQUAL(sum_column(tt_counters_port_table(run), TT_PV_BYTES, 0), 3000 * 60);
	CU_ASSERT_EQUAL(tt_counters_overflowed(run), 0);
	CU_ASSERT(tt_counters_memory(run) > 3000 * 16);
	tt_counters_free(a);
	tt_counters_free(run);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid capacities", test_create_invalid },
		{ "add, read and reset cells", test_add_and_read },
		{ "a full table counts under overflow", test_overflow_is_counted },
		{ "merge: collapse minutes, add the all scope", test_merge_collapse_and_all },
		{ "a growable shard keeps every cell", test_growable_merge_keeps_everything },
		{ NULL, NULL },
	};

	return run_suite("counters", tests, NULL, NULL);
}
