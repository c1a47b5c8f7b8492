/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The schema's lists against each other and against docs/redis-schema.md,
 * whose key table a consumer reads: a metric, total, class or variant
 * added to the schema and not documented fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_schema.h"

static const char *docs_path;
static char *docs;

static void
test_class_metrics_are_named_after_classes(void)
{
	unsigned int c;

	for (c = TT_CLASS_BACKSCATTER; c < TT_CLASS_COUNT; c++) {
		char want[64];
		enum tt_metric m = (enum tt_metric)(TT_M_PORT_BACKSCATTER + c - TT_CLASS_BACKSCATTER);

		snprintf(want, sizeof(want), "port:%s", tt_schema_class_name(c));
		CU_ASSERT_STRING_EQUAL(tt_schema_metric_name(m), want);
		CU_ASSERT_EQUAL(tt_schema_metric_col(m), tt_schema_class_col(c));
		CU_ASSERT_STRING_EQUAL(tt_schema_total_name(tt_schema_class_total(c)),
			tt_schema_class_name(c));
		CU_ASSERT_EQUAL(tt_schema_total_col(tt_schema_class_total(c)),
			tt_schema_class_col(c));
	}
	CU_ASSERT_STRING_EQUAL(tt_schema_class_name(TT_CLASS_OTHER), "other");
	CU_ASSERT_STRING_EQUAL(tt_schema_class_name(TT_CLASS_COUNT), "?");
}

static void
test_columns_are_in_range(void)
{
	unsigned int m, t;

	for (m = 0; m < TT_M_COUNT; m++) {
		unsigned int cols = tt_schema_metric_table(m) == TT_SCHEMA_PORT ?
			TT_PORT_COLS : TT_COUNTRY_COLS;

		CU_ASSERT(tt_schema_metric_col(m) < cols);
	}
	for (t = 0; t < TT_T_COUNT; t++)
		CU_ASSERT(tt_schema_total_col(t) < TT_PORT_COLS);
	/* Minute buckets carry port and country only (DESIGN.md section 5). */
	for (m = 0; m < TT_M_COUNT; m++)
		CU_ASSERT_EQUAL(tt_schema_metric_in_minutes(m),
			m == TT_M_PORT || m == TT_M_COUNTRY);
}

static void
test_rolling_sets(void)
{
	const char *want[] = { "mirai", "mirai:home", "masscan", "zmap", "nmap", "unicorn" };
	unsigned int r, n = 0;

	for (r = 0; r < TT_ROLLING_MAX; r++) {
		const char *name;
		enum tt_class klass;

		if (!tt_schema_rolling(r, &name, &klass))
			continue;
		CU_ASSERT_FATAL(n < sizeof(want) / sizeof(want[0]));
		CU_ASSERT_STRING_EQUAL(name, want[n]);
		n++;
	}
	CU_ASSERT_EQUAL(n, sizeof(want) / sizeof(want[0]));
}

/* The documented row of a key suffix: "| `teiten:{<scope>}:<bucket>:<suffix>` |". */
static const char *
docs_row(const char *suffix)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "| `teiten:{<scope>}:<bucket>:%s` |", suffix);
	return strstr(docs, needle);
}

static void
test_docs_list_every_metric(void)
{
	unsigned int m;

	for (m = 0; m < TT_M_COUNT; m++) {
		const char *name = tt_schema_metric_name(m);

		/* the class metrics share one row, port:<class> */
		if (strncmp(name, "port:", 5) == 0 && strcmp(name, "port:home") != 0 &&
				strcmp(name, "port:home:mirai") != 0)
			name = "port:<class>";
		if (docs_row(name) == NULL)
			CU_FAIL_FATAL("a metric of the schema has no row in docs/redis-schema.md");
	}
}

/* A documented list of words in backquotes on the row of @p suffix. */
static void
expect_docs_words(const char *suffix, const char *words)
{
	const char *row = docs_row(suffix), *end;
	char quoted[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(row);
	end = strchr(row + 1, '\n');
	snprintf(quoted, sizeof(quoted), "`%s`", words);
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(row, quoted));
	CU_ASSERT(strstr(row, quoted) < end);
}

static void
test_docs_list_totals_classes_and_variants(void)
{
	char totals[512] = "", classes[256] = "", variants[256] = "";
	unsigned int i;

	for (i = 0; i < TT_T_COUNT; i++)
		snprintf(totals + strlen(totals), sizeof(totals) - strlen(totals), "%s%s",
			i ? " " : "", tt_schema_total_name(i));
	expect_docs_words("totals", totals);
	for (i = TT_CLASS_BACKSCATTER; i < TT_CLASS_COUNT; i++)
		snprintf(classes + strlen(classes), sizeof(classes) - strlen(classes), "%s%s",
			i > TT_CLASS_BACKSCATTER ? " " : "", tt_schema_class_name(i));
	expect_docs_words("port:<class>", classes);
	for (i = 1; i < TT_HLL_VARIANTS; i++)
		snprintf(variants + strlen(variants), sizeof(variants) - strlen(variants),
			"%s`srcs%s`", i > 1 ? ", " : "", tt_schema_variant_suffix(i));
	/* "also `srcs:home`, `srcs:mirai`, `srcs:home:mirai`" */
	CU_ASSERT_PTR_NOT_NULL(strstr(docs_row("srcs"), variants + 1));
}

static int
load_docs(void)
{
	FILE *f = fopen(docs_path, "r");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
		return -1;
	rewind(f);
	docs = calloc(1, (size_t)n + 1);
	if (docs == NULL || fread(docs, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		{ "class metrics are named after classes", test_class_metrics_are_named_after_classes },
		{ "columns are in range", test_columns_are_in_range },
		{ "rolling sets", test_rolling_sets },
		{ "docs list every metric", test_docs_list_every_metric },
		{ "docs list totals, classes and variants", test_docs_list_totals_classes_and_variants },
		{ NULL, NULL },
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s docs/redis-schema.md\n", argv[0]);
		return 2;
	}
	docs_path = argv[1];
	if (load_docs() != 0) {
		fprintf(stderr, "cannot read %s\n", docs_path);
		return 2;
	}
	return run_suite("schema", tests, NULL, NULL);
}
