/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pcap record-header check on crafted files: both byte orders, micro-
 * and nanosecond magic, a corrupt length mid-file, a capture cut off in its
 * last record's header or bytes, records over the snaplen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cunit_main.h"
#include "tt_pcapfile.h"

static char dir[] = "/tmp/tt_pcapfile_XXXXXX";
static char path[256];
static uint8_t file[1 << 16];
static size_t used;

static void
put32(uint32_t v, bool swapped)
{
	if (swapped)
		v = __builtin_bswap32(v);
	memcpy(file + used, &v, 4);
	used += 4;
}

static void
begin(uint32_t magic, uint32_t snaplen, bool swapped)
{
	used = 0;
	put32(magic, swapped);
	put32(2 | 4u << 16, false);     /* version 2.4; not checked */
	put32(0, false);
	put32(0, false);
	put32(snaplen, swapped);
	put32(1, swapped);              /* Ethernet */
}

/* A record of caplen bytes, of which `present` are written. */
static void
record(uint32_t caplen, uint32_t present, bool swapped)
{
	put32(1700000000, swapped);
	put32(5, swapped);
	put32(caplen, swapped);
	put32(caplen, swapped);
	memset(file + used, 0xab, present);
	used += present;
}

static int
check(struct tt_pcapfile_check *c, char *err, size_t len)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(file, 1, used, f), used);
	fclose(f);
	return tt_pcapfile_check(path, c, err, len);
}

static void
test_invalid(void)
{
	struct tt_pcapfile_check c;
	char err[512];

	CU_ASSERT_EQUAL(tt_pcapfile_check("/nonexistent.pcap", &c, err, sizeof(err)), -ENOENT);
	CU_ASSERT_EQUAL(tt_pcapfile_check("/dev/zero", &c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tt_pcapfile_check(dir, &c, err, sizeof(err)), -EINVAL);
	used = 10;
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), -EINVAL);
	/* pcapng: a section header block */
	begin(0x0a0d0d0a, 65535, false);
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), -EPROTONOSUPPORT);
}

static void
test_whole_files(void)
{
	static const struct { uint32_t magic; bool swapped; bool nano; } kinds[] = {
		{ 0xa1b2c3d4, false, false }, { 0xa1b2c3d4, true, false },
		{ 0xa1b23c4d, false, true }, { 0xa1b23c4d, true, true },
	};
	struct tt_pcapfile_check c;
	char err[512];
	unsigned int k, i;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		begin(kinds[k].magic, 65535, kinds[k].swapped);
		for (i = 0; i < 100; i++)
			record(60 + i, 60 + i, kinds[k].swapped);
		record(0, 0, kinds[k].swapped);         /* empty records are legal */
		CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_OK);
		CU_ASSERT_EQUAL(c.records, 101);
		CU_ASSERT_EQUAL(c.swapped, kinds[k].swapped);
		CU_ASSERT_EQUAL(c.nano, kinds[k].nano);
		CU_ASSERT_EQUAL(c.snaplen, 65535);
		CU_ASSERT_EQUAL(c.file_size, used);
		CU_ASSERT_EQUAL(c.over_snaplen, 0);
		CU_ASSERT_STRING_EQUAL(err, "");
	}
	/* no records at all */
	begin(0xa1b2c3d4, 65535, false);
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_OK);
	CU_ASSERT_EQUAL(c.records, 0);
}

static void
test_corrupt_length(void)
{
	struct tt_pcapfile_check c;
	char err[512];
	bool swapped;

	for (swapped = false; ; swapped = true) {
		begin(0xa1b2c3d4, 65535, swapped);
		record(60, 60, swapped);
		record(70, 70, swapped);
		record(0xffffffff, 60, swapped);        /* offset 24 + 76 + 86 = 186 */
		record(60, 60, swapped);
		CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_CORRUPT);
		CU_ASSERT_EQUAL(c.records, 2);
		CU_ASSERT_EQUAL(c.bad_record, 3);
		CU_ASSERT_EQUAL(c.bad_offset, 186);
		CU_ASSERT_EQUAL(c.bad_caplen, 0xffffffff);
		CU_ASSERT_EQUAL(c.unread, used - 186);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "record 3 at byte 186: captured length "
			"4294967295 is over the snapshot length 65535"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "never read the 152 bytes"));
		if (swapped)
			break;
	}
	/* just over libpcap's maximum, with a snaplen of 0 (= the maximum) */
	begin(0xa1b2c3d4, 0, false);
	record(TT_PCAPFILE_MAX_SNAPLEN + 1, 0, false);
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_CORRUPT);
	CU_ASSERT_EQUAL(c.bad_record, 1);
}

static void
test_truncated(void)
{
	struct tt_pcapfile_check c;
	char err[512];

	/* cut inside the last record's bytes */
	begin(0xa1b23c4d, 65535, true);
	record(60, 60, true);
	record(60, 25, true);                        /* at 100 */
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_TRUNCATED);
	CU_ASSERT_EQUAL(c.records, 1);
	CU_ASSERT_EQUAL(c.bad_record, 2);
	CU_ASSERT_EQUAL(c.bad_offset, 100);
	CU_ASSERT_EQUAL(c.bad_caplen, 60);
	CU_ASSERT_EQUAL(c.unread, 16 + 25);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "record 2 at byte 100: the file ends inside it "
		"(25 of 60 captured bytes)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "that one frame is lost"));
	/* cut inside its header */
	begin(0xa1b2c3d4, 65535, false);
	record(60, 60, false);
	record(60, 0, false);
	used -= 9;                                   /* 7 of 16 header bytes */
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_TRUNCATED);
	CU_ASSERT_EQUAL(c.bad_record, 2);
	CU_ASSERT_EQUAL(c.bad_caplen, 0);
	CU_ASSERT_EQUAL(c.unread, 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ends inside its header (7 of 16 bytes)"));
}

static void
test_over_snaplen(void)
{
	struct tt_pcapfile_check c;
	char err[512];

	/* libpcap replays these cut to the snaplen: named, not an error */
	begin(0xa1b2c3d4, 96, false);
	record(60, 60, false);
	record(1000, 1000, false);                   /* at 100 */
	record(2000, 2000, false);
	record(90, 90, false);
	CU_ASSERT_EQUAL(check(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_OK);
	CU_ASSERT_EQUAL(c.records, 4);
	CU_ASSERT_EQUAL(c.over_snaplen, 2);
	CU_ASSERT_EQUAL(c.first_over_record, 2);
	CU_ASSERT_EQUAL(c.first_over_offset, 100);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 records over the snapshot length 96, the first "
		"record 2 at byte 100"));
}

/* A record of 200 KiB, larger than the read window, then a corrupt one. */
static void
test_large_records(void)
{
	static uint8_t big[300 * 1024];
	struct tt_pcapfile_check c;
	char err[512];
	FILE *f;
	uint32_t h[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 0, 1 };
	uint32_t r1[4] = { 1, 0, 200 * 1024, 200 * 1024 };
	uint32_t r2[4] = { 1, 0, 0x7fffffff, 60 };

	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(h, 1, sizeof(h), f);
	fwrite(r1, 1, sizeof(r1), f);
	fwrite(big, 1, 200 * 1024, f);
	fwrite(r2, 1, sizeof(r2), f);
	fwrite(big, 1, 60, f);
	fclose(f);
	CU_ASSERT_EQUAL(tt_pcapfile_check(path, &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.state, TT_PCAPFILE_CORRUPT);
	CU_ASSERT_EQUAL(c.bad_record, 2);
	CU_ASSERT_EQUAL(c.bad_offset, 24 + 16 + 200 * 1024);
	CU_ASSERT_EQUAL(c.unread, 16 + 60);
}

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	return 0;
}

static int
suite_fini(void)
{
	unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid input: missing, special, short, pcapng", test_invalid },
		{ "whole files: byte orders, micro and nano", test_whole_files },
		{ "a corrupt length mid-file", test_corrupt_length },
		{ "a capture cut off in its last record", test_truncated },
		{ "records over the snaplen", test_over_snaplen },
		{ "records larger than the read window", test_large_records },
		{ NULL, NULL },
	};

	return run_suite("pcapfile", tests, suite_init, suite_fini);
}
