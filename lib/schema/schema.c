/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The name tables of tt_schema.h, each generated from its list. Pure data.
 */
#include "tt_schema.h"

#include <stddef.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	bool rolling;
} classes[TT_CLASS_COUNT] = {
	[TT_CLASS_OTHER] = { "other", false },
#define CLASS_ROW(id, n, r) [TT_CLASS_##id] = { n, r },
	TT_SCHEMA_FINGERPRINTS(CLASS_ROW)
#undef CLASS_ROW
};

static const struct {
	const char *name;
	enum tt_schema_total_rule rule;
	enum tt_port_col col;
} totals[TT_T_COUNT] = {
#define TOTAL_ROW(id, n, rule, col) [TT_T_##id] = { n, rule, col },
#define CLASS_TOTAL_ROW(id, n, r) [TT_T_##id] = { n, TT_TOTAL_SUM, TT_PORT_COL_##id },
	TT_SCHEMA_TOTALS_HEAD(TOTAL_ROW)
	TT_SCHEMA_FINGERPRINTS(CLASS_TOTAL_ROW)
	TT_SCHEMA_TOTALS_TAIL(TOTAL_ROW)
#undef CLASS_TOTAL_ROW
#undef TOTAL_ROW
};

static const struct {
	const char *name;
	enum tt_schema_table table;
	unsigned int col;
	bool in_minutes;
} metrics[TT_M_COUNT] = {
#define METRIC_ROW(id, n, table, col, minutes) [TT_M_##id] = { n, table, col, minutes },
	TT_SCHEMA_METRICS(METRIC_ROW)
#undef METRIC_ROW
};

static const char *const variant_suffixes[TT_HLL_VARIANTS] = {
#define VARIANT_ROW(id, suffix) [TT_HLL_##id] = suffix,
	TT_SCHEMA_VARIANTS(VARIANT_ROW)
#undef VARIANT_ROW
};

const char *
tt_schema_class_name(enum tt_class c)
{
	return (unsigned int)c < ARRAY_LEN(classes) ? classes[c].name : "?";
}

bool
tt_schema_class_rolling(enum tt_class c)
{
	return (unsigned int)c < ARRAY_LEN(classes) && classes[c].rolling;
}

const char *
tt_schema_total_name(enum tt_total t)
{
	return (unsigned int)t < ARRAY_LEN(totals) ? totals[t].name : "?";
}

enum tt_schema_total_rule
tt_schema_total_rule(enum tt_total t)
{
	return totals[t].rule;
}

enum tt_port_col
tt_schema_total_col(enum tt_total t)
{
	return totals[t].col;
}

const char *
tt_schema_metric_name(enum tt_metric m)
{
	return (unsigned int)m < ARRAY_LEN(metrics) ? metrics[m].name : "?";
}

enum tt_schema_table
tt_schema_metric_table(enum tt_metric m)
{
	return metrics[m].table;
}

unsigned int
tt_schema_metric_col(enum tt_metric m)
{
	return metrics[m].col;
}

bool
tt_schema_metric_in_minutes(enum tt_metric m)
{
	return metrics[m].in_minutes;
}

const char *
tt_schema_variant_suffix(enum tt_hll_variant v)
{
	return (unsigned int)v < ARRAY_LEN(variant_suffixes) ? variant_suffixes[v] : "?";
}

bool
tt_schema_rolling(enum tt_rolling r, const char **name, enum tt_class *klass)
{
	if (r == TT_ROLLING_MIRAI || r == TT_ROLLING_MIRAI_HOME) {
		*name = r == TT_ROLLING_MIRAI ? "mirai" : "mirai:home";
		*klass = TT_CLASS_MIRAI;
		return true;
	}
	if (r < TT_ROLLING_CLASS0 || r >= TT_ROLLING_MAX)
		return false;
	*klass = (enum tt_class)(r - TT_ROLLING_CLASS0);
	*name = classes[*klass].name;
	return classes[*klass].rolling;
}
