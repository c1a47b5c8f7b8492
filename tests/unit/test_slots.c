/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis Cluster key slots and the slot map (lib/slots). The expected slots
 * are Redis 7.0's own answers to CLUSTER KEYSLOT; the CRC check value is
 * CRC16/XMODEM's.
 */
#include <errno.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_slots.h"

static uint16_t
slot(const char *key)
{
	return tt_slots_of_key(key, strlen(key));
}

static void
test_crc16(void)
{
	CU_ASSERT_EQUAL(tt_slots_crc16("", 0), 0);
	CU_ASSERT_EQUAL(tt_slots_crc16("123456789", 9), 0x31c3);
}

/* The hash-tag rules of the cluster specification, and real keys of teiten. */
static void
test_key_slots(void)
{
	CU_ASSERT_EQUAL(slot("foo"), 12182);
	CU_ASSERT_EQUAL(slot("bar"), 5061);
	CU_ASSERT_EQUAL(slot("hello"), 866);
	/* the tag alone counts */
	CU_ASSERT_EQUAL(slot("{user1000}.following"), slot("user1000"));
	CU_ASSERT_EQUAL(slot("{user1000}.followers"), slot("user1000"));
	CU_ASSERT_EQUAL(slot("foo{bar}{zap}"), slot("bar"));
	CU_ASSERT_EQUAL(slot("foo{{bar}}zap"), slot("{bar"));
	/* an empty tag or none: the whole key */
	CU_ASSERT_EQUAL(slot("foo{}{bar}"), tt_slots_crc16("foo{}{bar}", 10) & 16383);
	CU_ASSERT_EQUAL(slot("foo{bar"), tt_slots_crc16("foo{bar", 7) & 16383);
	/* a scope's keys share its slot; the stream and its flushed record too */
	CU_ASSERT_EQUAL(slot("teiten:{all}:d:20240115:totals"), slot("all"));
	CU_ASSERT_EQUAL(slot("teiten:{all}:flushed"), slot("all"));
	CU_ASSERT_EQUAL(slot("{teiten:alerts}:flushed"), slot("teiten:alerts"));
	/* only the length given is read */
	CU_ASSERT_EQUAL(tt_slots_of_key("{all}:x", 5), slot("all"));
	CU_ASSERT_EQUAL(tt_slots_of_key("foo{bar}", 4), slot("foo{"));
}

static void
test_map_invalid(void)
{
	struct tt_slots_map *m = tt_slots_map_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	tt_slots_map_free(NULL);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 10, 9, "h", 1), -EINVAL);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 16384, "h", 1), -EINVAL);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 1, "", 1), -EINVAL);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 1, "h", 0), -EINVAL);
	{
		char long_host[TT_SLOTS_HOST_MAX + 1];

		memset(long_host, 'h', sizeof(long_host) - 1);
		long_host[sizeof(long_host) - 1] = '\0';
		CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 1, long_host, 1), -EINVAL);
	}
	CU_ASSERT_EQUAL(tt_slots_map_nodes(m), 0);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 0), -1);
	CU_ASSERT_PTR_NULL(tt_slots_map_host(m, 0));
	/* a slot has one master */
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 100, "a", 7000), 0);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 100, 200, "b", 7001), -EINVAL);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 150), -1);
	CU_ASSERT_EQUAL(tt_slots_map_nodes(m), 1);
	tt_slots_map_free(m);
}

/* Three masters as redis-cli --cluster create splits the slots, one moved. */
static void
test_map(void)
{
	struct tt_slots_map *m = tt_slots_map_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 5460, "127.0.0.1", 7000), 0);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 5461, 10922, "127.0.0.1", 7001), 0);
	CU_ASSERT_FALSE(tt_slots_map_complete(m));
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 10923, 16383, "::1", 7002), 0);
	CU_ASSERT_TRUE(tt_slots_map_complete(m));
	CU_ASSERT_EQUAL(tt_slots_map_nodes(m), 3);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 0), 0);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 5461), 1);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 16383), 2);
	CU_ASSERT_STRING_EQUAL(tt_slots_map_host(m, 2), "::1");
	CU_ASSERT_EQUAL(tt_slots_map_port(m, 1), 7001);
	CU_ASSERT_EQUAL(tt_slots_map_find(m, "127.0.0.1", 7001), 1);
	CU_ASSERT_EQUAL(tt_slots_map_find(m, "127.0.0.1", 7003), -1);
	tt_slots_map_free(m);

	/* a master of several ranges is one node */
	m = tt_slots_map_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 0, 99, "a", 1), 0);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 200, 299, "b", 1), 0);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 100, 199, "a", 1), 0);
	CU_ASSERT_EQUAL(tt_slots_map_add(m, 300, 16383, "a", 1), 0);
	CU_ASSERT_TRUE(tt_slots_map_complete(m));
	CU_ASSERT_EQUAL(tt_slots_map_nodes(m), 2);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 150), 0);
	CU_ASSERT_EQUAL(tt_slots_map_owner(m, 250), 1);
	tt_slots_map_free(m);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "CRC16/XMODEM", test_crc16 },
		{ "key slots and hash tags", test_key_slots },
		{ "slot map: invalid ranges and owners", test_map_invalid },
		{ "slot map: masters and their slots", test_map },
		{ NULL, NULL },
	};

	return run_suite("slots", tests, NULL, NULL);
}
