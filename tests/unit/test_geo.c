/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Country tables against libmaxminddb itself, on the real RIR-derived
 * database: every one of 1M random IPv4 and 100k IPv6 addresses (global
 * unicast, and the IPv4 aliases ::ffff:0:0/96 and 2002::/16) must get the
 * country MMDB_lookup_sockaddr() gives. Skipped when the database is absent.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <maxminddb.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_errno.h>

#include "cunit_main.h"
#include "eal_runtime.h"
#include "tt_classify.h"
#include "tt_geo.h"

static const char *db_path;
static MMDB_s mmdb;
static struct tt_geo *geo;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The reference: libmaxminddb's answer, as a country index. */
static uint16_t
reference(const struct sockaddr *sa)
{
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	char cc[3];
	int err, idx;

	r = MMDB_lookup_sockaddr(&mmdb, sa, &err);
	if (err != MMDB_SUCCESS || !r.found_entry)
		return TT_COUNTRY_ZZ;
	if (MMDB_get_value(&r.entry, &d, "country_code", NULL) != MMDB_SUCCESS || !d.has_data)
		if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS ||
				!d.has_data)
			return TT_COUNTRY_ZZ;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return TT_COUNTRY_ZZ;
	cc[0] = d.utf8_string[0];
	cc[1] = d.utf8_string[1];
	cc[2] = '\0';
	idx = tt_classify_country_index(cc);
	return idx < 0 ? TT_COUNTRY_ZZ : (uint16_t)idx;
}

static void
test_invalid(void)
{
	char err[256];

	CU_ASSERT_PTR_NULL(tt_geo_create("/nonexistent/c.mmdb", SOCKET_ID_ANY, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/c.mmdb"));
	CU_ASSERT_PTR_NULL(tt_geo_create("/etc/hostname", SOCKET_ID_ANY, err, sizeof(err)));
	CU_ASSERT(strlen(err) > 0);
	tt_geo_free(NULL);
}

static void
test_ipv4_agrees(void)
{
	enum { N = 1000000, BATCH = 64 };
	uint32_t ips[BATCH], mismatches = 0, known = 0, i, j;
	uint16_t cc[BATCH];

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			ips[j] = (uint32_t)rnd();
		tt_geo_country_v4(geo, ips, cc, BATCH);
		for (j = 0; j < BATCH; j++) {
			struct sockaddr_in sa = { .sin_family = AF_INET };
			uint16_t want;

			sa.sin_addr.s_addr = htonl(ips[j]);
			want = reference((struct sockaddr *)&sa);
			mismatches += cc[j] != want;
			known += want != TT_COUNTRY_ZZ;
			if (cc[j] != want && mismatches < 5)
				fprintf(stderr, "\n    %08x: ours %u, libmaxminddb %u", ips[j], cc[j], want);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT(known > N / 2);       /* most of the space is allocated */
}

static void
test_ipv6_agrees(void)
{
	enum { N = 100000 };
	uint32_t mismatches = 0, known = 0, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i++) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
		uint8_t *a = sa.sin6_addr.s6_addr;
		uint64_t hi = rnd(), lo = rnd();
		uint16_t ours, want;

		memcpy(a, &hi, 8);
		memcpy(a + 8, &lo, 8);
		switch (i % 10) {
		case 0:                 /* ::ffff:a.b.c.d */
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			break;
		case 1:                 /* 2002:a.b.c.d::/48 (6to4) */
			a[0] = 0x20;
			a[1] = 0x02;
			break;
		case 2:                 /* near allocated space: 2001:0-ff:: and 2400::/8 */
			a[0] = 0x20;
			a[1] = 0x01;
			a[2] = 0;
			break;
		case 3:
			a[0] = 0x24;
			break;
		case 4:                 /* 2000::/3 */
			a[0] = (uint8_t)(0x20 | (a[0] & 0x1f));
			break;
		default: {              /* the RIRs' blocks, 2400::/12 ... 2c00::/12 */
			static const uint8_t rir[5] = { 0x24, 0x26, 0x28, 0x2a, 0x2c };

			a[0] = rir[lo % 5];
			a[1] &= 0x0f;
			break;
		}
		}
		ours = tt_geo_country_v6(geo, a);
		want = reference((struct sockaddr *)&sa);
		mismatches += ours != want;
		known += want != TT_COUNTRY_ZZ;
		if (ours != want && mismatches < 5) {
			char s[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, a, s, sizeof(s));
			fprintf(stderr, "\n    %s: ours %u, libmaxminddb %u", s, ours, want);
		}
	}
	printf("\n    %u of %u IPv6 addresses in an allocation", known, N);
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT(known > N / 50);       /* allocations are sparse even in RIR blocks */
}

static void
test_stats(void)
{
	struct tt_geo_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	tt_geo_get_stats(geo, &st);
	printf("\n    %u IPv4 prefixes in %u routes, %u /16s of one country, %u IPv6 prefixes "
		"in %u ranges, %u aliases, %lu MiB\n", st.v4_prefixes, st.v4_routes,
		st.v4_uniform16, st.v6_prefixes, st.v6_ranges, st.aliases,
		(unsigned long)(st.memory >> 20));
	CU_ASSERT(st.v4_routes > 0 && st.v6_ranges > 0);
	/* the 1M random lookups above cross both kinds of /16 */
	CU_ASSERT(st.v4_uniform16 > 0 && st.v4_uniform16 < 65536);
	CU_ASSERT(st.aliases >= 1);      /* ::/96 leads to the IPv4 subtree */
}

static int
suite_init(void)
{
	char err[256];

	if (MMDB_open(db_path, MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS)
		return -1;
	geo = tt_geo_create(db_path, SOCKET_ID_ANY, err, sizeof(err));
	if (geo == NULL)
		fprintf(stderr, "tt_geo_create: %s\n", err);
	return 0;
}

static int
suite_fini(void)
{
	tt_geo_free(geo);
	MMDB_close(&mmdb);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		{ "invalid databases", test_invalid },
		{ "1M random IPv4 agree with libmaxminddb", test_ipv4_agrees },
		{ "100k IPv6 (and IPv4 aliases) agree with libmaxminddb", test_ipv6_agrees },
		{ "table sizes", test_stats },
		{ NULL, NULL },
	};
	char prefix[64];
	char *eal_argv[] = {
		"test_geo", "--no-huge", "-m", "512", "--no-pci", "--no-telemetry",
		"--log-level", "lib.eal:error", prefix,
	};
	int rc;

	db_path = argc > 1 ? argv[1] : "data/country.mmdb";
	if (access(db_path, R_OK) != 0) {
		printf("SKIP: no country database at %s (scripts/test fetches it)\n", db_path);
		return 77;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_geo_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "EAL init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	rc = run_suite("geo", tests, suite_init, suite_fini);
	eal_cleanup_and_remove_runtime_dir();
	return rc;
}
