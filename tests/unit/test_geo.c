/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Country tables against libmaxminddb itself, on the real RIR-derived
 * database: every one of 1M random IPv4 and 100k IPv6 addresses (global
 * unicast, the IPv4 tree at ::/96, and ::ffff:0:0/96 and 2002::/16) must get
 * the country MMDB_lookup_sockaddr() gives, and so must the first and last
 * address of the networks it answers from, and the ones just outside.
 * Skipped when the database is absent.
 *
 * With --sweep A.B.C.D/LEN, every address of that block instead: for a small
 * database written by scripts/teiten-mkmmdb whose countries start and end
 * inside /24s (tests/unit/data/geo-edges.delegated).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
static uint32_t sweep_start, sweep_len;   /* --sweep: every address of this block */
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

/* What a comparison found: answers that differ, and answers that are a country. */
struct tally {
	uint32_t mismatches;
	uint32_t known;
};

/* Look @p ips up in bulk and compare each answer with libmaxminddb's. */
static void
compare_v4(const uint32_t *ips, unsigned int n, struct tally *t)
{
	uint16_t cc[64];
	unsigned int j;

	CU_ASSERT_FATAL(n <= RTE_DIM(cc));
	tt_geo_country_v4(geo, ips, cc, n);
	for (j = 0; j < n; j++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		uint16_t want;

		sa.sin_addr.s_addr = htonl(ips[j]);
		want = reference((struct sockaddr *)&sa);
		t->mismatches += cc[j] != want;
		t->known += want != TT_COUNTRY_ZZ;
		if (cc[j] != want && t->mismatches < 5)
			fprintf(stderr, "\n    %08x: ours %u, libmaxminddb %u", ips[j], cc[j], want);
	}
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
	struct tally t = { 0 };
	uint32_t ips[BATCH], i, j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			ips[j] = (uint32_t)rnd();
		compare_v4(ips, BATCH, &t);
	}
	CU_ASSERT_EQUAL(t.mismatches, 0);
	CU_ASSERT(t.known > N / 2);     /* most of the space is allocated */
}

/*
 * Random addresses rarely land where one country ends inside a /24. Take the
 * network libmaxminddb answers each from, and check its first and last
 * address and the ones just outside: every edge the /16 and /24 tables and
 * the FIB behind them must get right, at whatever length it falls.
 */
static void
test_ipv4_edges(void)
{
	enum { N = 200000 };
	struct tally t = { 0 };
	uint32_t short_nets = 0, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		MMDB_lookup_result_s r;
		uint32_t ip = (uint32_t)rnd(), host, start, end, probe[4];
		unsigned int len;
		int err;

		sa.sin_addr.s_addr = htonl(ip);
		r = MMDB_lookup_sockaddr(&mmdb, (struct sockaddr *)&sa, &err);
		CU_ASSERT_EQUAL_FATAL(err, MMDB_SUCCESS);
		/* an IPv6 database counts the IPv4 subtree's depth from ::/96 */
		len = r.netmask;
		if (mmdb.metadata.ip_version == 6)
			len = len >= 96 ? len - 96 : 0;
		/* host bits, shifted in 64 bits: a /32 shifts by 32 */
		host = (uint32_t)((uint64_t)UINT32_MAX >> len);
		start = ip & ~host;
		end = start | host;
		short_nets += len > 24;
		probe[0] = start;
		probe[1] = end;
		probe[2] = start - 1;
		probe[3] = end + 1;
		compare_v4(probe, RTE_DIM(probe), &t);
	}
	printf("\n    %u of %u networks longer than /24", short_nets, N);
	CU_ASSERT_EQUAL(t.mismatches, 0);
}

/* Every address of one block, for a small database whose edges are all there. */
static void
test_sweep(void)
{
	enum { BATCH = 64 };
	struct tally t = { 0 };
	uint32_t ips[BATCH], done, j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (done = 0; done < sweep_len; done += BATCH) {
		for (j = 0; j < BATCH; j++)
			ips[j] = sweep_start + done + j;
		compare_v4(ips, BATCH, &t);
	}
	printf("\n    %u of %u addresses in a country", t.known, sweep_len);
	CU_ASSERT_EQUAL(t.mismatches, 0);
	CU_ASSERT(t.known > 0);
}

/* A random IPv6 address; @p i picks the kind (one in ten of each of the first six). */
static void
random_v6(uint8_t *a, uint32_t i)
{
	uint64_t hi = rnd(), lo = rnd();

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
	case 5:                 /* ::a.b.c.d, where the database keeps its IPv4 tree */
		memset(a, 0, 12);
		break;
	default: {              /* the RIRs' blocks, 2400::/12 ... 2c00::/12 */
		static const uint8_t rir[5] = { 0x24, 0x26, 0x28, 0x2a, 0x2c };

		a[0] = rir[lo % 5];
		a[1] &= 0x0f;
		break;
	}
	}
}

/* Our country of @p a beside libmaxminddb's, tallied. */
static void
compare_v6(const uint8_t *a, struct tally *t)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	uint16_t ours, want;

	memcpy(sa.sin6_addr.s6_addr, a, 16);
	ours = tt_geo_country_v6(geo, a);
	want = reference((struct sockaddr *)&sa);
	t->mismatches += ours != want;
	t->known += want != TT_COUNTRY_ZZ;
	if (ours != want && t->mismatches < 5) {
		char s[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, a, s, sizeof(s));
		fprintf(stderr, "\n    %s: ours %u, libmaxminddb %u", s, ours, want);
	}
}

static void
test_ipv6_agrees(void)
{
	enum { N = 100000 };
	struct tally t = { 0 };
	uint8_t a[16];
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i++) {
		random_v6(a, i);
		compare_v6(a, &t);
	}
	printf("\n    %u of %u IPv6 addresses in an allocation", t.known, N);
	CU_ASSERT_EQUAL(t.mismatches, 0);
	CU_ASSERT(t.known > N / 50);     /* allocations are sparse even in RIR blocks */
}

static unsigned __int128
v6_number(const uint8_t *a)
{
	unsigned __int128 v = 0;
	unsigned int i;

	for (i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void
v6_bytes(unsigned __int128 v, uint8_t *a)
{
	int i;

	for (i = 15; i >= 0; i--, v >>= 8)
		a[i] = (uint8_t)v;
}

/*
 * As test_ipv4_edges, for IPv6: the first and last address of the network
 * libmaxminddb answers each random address from, and the ones just
 * outside, where the range search's comparisons must be exact.
 */
static void
test_ipv6_edges(void)
{
	enum { N = 50000 };
	struct tally t = { 0 };
	uint8_t a[16], probe[16];
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	for (i = 0; i < N; i++) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
		MMDB_lookup_result_s r;
		unsigned __int128 v, host, start, end;
		int err;

		random_v6(a, i);
		memcpy(sa.sin6_addr.s6_addr, a, 16);
		r = MMDB_lookup_sockaddr(&mmdb, (struct sockaddr *)&sa, &err);
		CU_ASSERT_EQUAL_FATAL(err, MMDB_SUCCESS);
		v = v6_number(a);
		host = r.netmask >= 128 ? 0 : ~(unsigned __int128)0 >> r.netmask;
		start = v & ~host;
		end = start | host;
		v6_bytes(start, probe);
		compare_v6(probe, &t);
		v6_bytes(end, probe);
		compare_v6(probe, &t);
		v6_bytes(start - 1, probe);
		compare_v6(probe, &t);
		v6_bytes(end + 1, probe);
		compare_v6(probe, &t);
	}
	printf("\n    %u of %u edge addresses in an allocation", t.known, 4 * N);
	CU_ASSERT_EQUAL(t.mismatches, 0);
}

static void
test_stats(void)
{
	struct tt_geo_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(geo);
	tt_geo_get_stats(geo, &st);
	printf("\n    %u IPv4 prefixes in %u routes, %u /16s and %u /24s of one country, "
		"%u IPv6 prefixes in %u ranges, %u aliases, %lu MiB\n", st.v4_prefixes,
		st.v4_routes, st.v4_uniform16, st.v4_uniform24, st.v6_prefixes, st.v6_ranges,
		st.aliases,
		(unsigned long)(st.memory >> 20));
	CU_ASSERT(st.v4_routes > 0 && st.v6_ranges > 0);
	/* the 1M random lookups above cross both kinds of /16 */
	CU_ASSERT(st.v4_uniform16 > 0 && st.v4_uniform16 < 65536);
	CU_ASSERT(st.v4_uniform24 >= st.v4_uniform16 * 256u && st.v4_uniform24 < (1u << 24));
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
	static const struct test_case sweep_tests[] = {
		{ "every address of the block agrees with libmaxminddb", test_sweep },
		{ NULL, NULL },
	};
	static const struct test_case tests[] = {
		{ "invalid databases", test_invalid },
		{ "1M random IPv4 agree with libmaxminddb", test_ipv4_agrees },
		{ "the edges of 200k IPv4 networks agree with libmaxminddb", test_ipv4_edges },
		{ "100k IPv6 (and IPv4 aliases) agree with libmaxminddb", test_ipv6_agrees },
		{ "the edges of 50k IPv6 networks agree with libmaxminddb", test_ipv6_edges },
		{ "table sizes", test_stats },
		{ NULL, NULL },
	};
	char prefix[64];
	char *eal_argv[] = {
		"test_geo", "--no-huge", "-m", "512", "--no-pci", "--no-telemetry",
		"--log-level", "lib.eal:error", prefix,
	};
	int rc;

	if (argc > 3 && strcmp(argv[1], "--sweep") == 0) {
		struct in_addr a;
		char block[32], *slash;
		unsigned int len;

		snprintf(block, sizeof(block), "%s", argv[2]);
		slash = strchr(block, '/');
		if (slash != NULL)
			*slash = '\0';
		if (slash == NULL || inet_pton(AF_INET, block, &a) != 1 ||
				sscanf(slash + 1, "%u", &len) != 1 || len < 8 || len > 32) {
			fprintf(stderr, "usage: test_geo [--sweep A.B.C.D/LEN (8-32)] DB\n");
			return 2;
		}
		sweep_start = ntohl(a.s_addr) & ~(uint32_t)((uint64_t)UINT32_MAX >> len);
		sweep_len = 1u << (32 - len);
		argv += 2;
		argc -= 2;
	}
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
	rc = run_suite("geo", sweep_len != 0 ? sweep_tests : tests, suite_init, suite_fini);
	eal_cleanup_and_remove_runtime_dir();
	return rc;
}
