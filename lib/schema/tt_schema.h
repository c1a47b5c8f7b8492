/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SCHEMA_H
#define TT_SCHEMA_H

/*
 * The published vocabulary (DESIGN.md section 5), named once: fingerprint
 * classes, the columns a counter cell keeps, the totals hash, the ZSET
 * metrics of a bucket, the srcs HLL variants and the rolling source sets,
 * each with its Redis name. Counters lay out their cells from it, the
 * flush plan, the summary, telemetry, the alert feed and the report's
 * documentation read names and columns from it; nothing else spells them.
 *
 * The lists are X-macros so an enum and its name table come from one row
 * and cannot drift apart; where two lists must line up (a class and its
 * port column, a class and its total) the enums are generated from the
 * same list and _Static_asserts below hold the arithmetic.
 *
 * Pure data: no state, no allocation; any thread.
 */

#include <stdbool.h>
#include <stdint.h>

/*
 * Fingerprint classes (DESIGN.md section 4), in the order they are counted:
 * X(ID, name, has a rolling {src} set of its own). Mirai's rolling sets are
 * `mirai` and `mirai:home` (TT_SCHEMA_ROLLING), not this flag.
 */
#define TT_SCHEMA_FINGERPRINTS(X) \
	X(BACKSCATTER, "backscatter", false) \
	X(MIRAI, "mirai", false) \
	X(MASSCAN, "masscan", true) \
	X(ZMAP, "zmap", true) \
	X(NMAP, "nmap", true) \
	X(UNICORN, "unicorn", true)

/* A packet's class: no fingerprint (other), or one of the fingerprints. */
enum tt_class {
	TT_CLASS_OTHER,
#define TT_SCHEMA_CLASS_ENUM(id, name, rolling) TT_CLASS_##id,
	TT_SCHEMA_FINGERPRINTS(TT_SCHEMA_CLASS_ENUM)
#undef TT_SCHEMA_CLASS_ENUM
	TT_CLASS_COUNT,
};

/*
 * The values of a port cell: (bucket, sensor, service) -> these counts.
 * Every port metric and every total derives from them.
 */
enum tt_port_col {
	TT_PORT_COL_PKTS,
	TT_PORT_COL_BYTES,
	TT_PORT_COL_HOME,
	TT_PORT_COL_V6,
	TT_PORT_COL_MALFORMED,
	TT_PORT_COL_HOME_MIRAI,
#define TT_SCHEMA_PORT_COL_ENUM(id, name, rolling) TT_PORT_COL_##id,
	TT_SCHEMA_FINGERPRINTS(TT_SCHEMA_PORT_COL_ENUM)
#undef TT_SCHEMA_PORT_COL_ENUM
	TT_PORT_COLS,
};

/* The values of a country cell: (bucket, sensor, country) -> these counts. */
enum tt_country_col {
	TT_COUNTRY_COL_PKTS,
	TT_COUNTRY_COL_MIRAI,
	TT_COUNTRY_COLS,
};

/** The port column of a fingerprint class; @p c must not be TT_CLASS_OTHER. */
static inline enum tt_port_col
tt_schema_class_col(enum tt_class c)
{
	return (enum tt_port_col)(TT_PORT_COL_BACKSCATTER + (c - TT_CLASS_BACKSCATTER));
}

/*
 * The totals hash of a scope and bucket, field by field in the order they
 * are written: X(ID, field, rule, port column). The rule says how a port
 * cell adds to the field: its column (SUM), its packets when the service
 * is of that protocol (TCP, UDP, ICMP, OTHER_PROTO), or its packets less
 * its home packets (ABROAD).
 */
enum tt_schema_total_rule {
	TT_TOTAL_SUM,
	TT_TOTAL_TCP,
	TT_TOTAL_UDP,
	TT_TOTAL_ICMP,
	TT_TOTAL_OTHER_PROTO,
	TT_TOTAL_ABROAD,
};

#define TT_SCHEMA_TOTALS_HEAD(X) \
	X(PKTS, "pkts", TT_TOTAL_SUM, TT_PORT_COL_PKTS) \
	X(BYTES, "bytes", TT_TOTAL_SUM, TT_PORT_COL_BYTES) \
	X(TCP, "tcp", TT_TOTAL_TCP, TT_PORT_COL_PKTS) \
	X(UDP, "udp", TT_TOTAL_UDP, TT_PORT_COL_PKTS) \
	X(ICMP, "icmp", TT_TOTAL_ICMP, TT_PORT_COL_PKTS) \
	X(OTHER, "other", TT_TOTAL_OTHER_PROTO, TT_PORT_COL_PKTS) \
	X(V6, "v6", TT_TOTAL_SUM, TT_PORT_COL_V6) \
	X(HOME, "home", TT_TOTAL_SUM, TT_PORT_COL_HOME) \
	X(ABROAD, "abroad", TT_TOTAL_ABROAD, TT_PORT_COL_PKTS) \
	X(MALFORMED, "malformed", TT_TOTAL_SUM, TT_PORT_COL_MALFORMED)
#define TT_SCHEMA_TOTALS_TAIL(X) \
	X(HOME_MIRAI, "home_mirai", TT_TOTAL_SUM, TT_PORT_COL_HOME_MIRAI)

enum tt_total {
#define TT_SCHEMA_TOTAL_ENUM(id, name, rule, col) TT_T_##id,
#define TT_SCHEMA_CLASS_TOTAL_ENUM(id, name, rolling) TT_T_##id,
	TT_SCHEMA_TOTALS_HEAD(TT_SCHEMA_TOTAL_ENUM)
	TT_SCHEMA_FINGERPRINTS(TT_SCHEMA_CLASS_TOTAL_ENUM)
	TT_SCHEMA_TOTALS_TAIL(TT_SCHEMA_TOTAL_ENUM)
#undef TT_SCHEMA_CLASS_TOTAL_ENUM
#undef TT_SCHEMA_TOTAL_ENUM
	TT_T_COUNT,
};

/** The total of a fingerprint class; @p c must not be TT_CLASS_OTHER. */
static inline enum tt_total
tt_schema_class_total(enum tt_class c)
{
	return (enum tt_total)(TT_T_BACKSCATTER + (c - TT_CLASS_BACKSCATTER));
}

/*
 * The ZSET metrics of a bucket, in the order the summary lists them:
 * X(ID, key suffix, table, column, in minute buckets too). Minute buckets
 * carry only `port` and `country` (and totals and srcs); hours and days all.
 */
enum tt_schema_table {
	TT_SCHEMA_PORT,
	TT_SCHEMA_COUNTRY,
};

#define TT_SCHEMA_METRICS(X) \
	X(PORT, "port", TT_SCHEMA_PORT, TT_PORT_COL_PKTS, true) \
	X(PORT_HOME, "port:home", TT_SCHEMA_PORT, TT_PORT_COL_HOME, false) \
	X(PORT_BACKSCATTER, "port:backscatter", TT_SCHEMA_PORT, TT_PORT_COL_BACKSCATTER, false) \
	X(PORT_MIRAI, "port:mirai", TT_SCHEMA_PORT, TT_PORT_COL_MIRAI, false) \
	X(PORT_MASSCAN, "port:masscan", TT_SCHEMA_PORT, TT_PORT_COL_MASSCAN, false) \
	X(PORT_ZMAP, "port:zmap", TT_SCHEMA_PORT, TT_PORT_COL_ZMAP, false) \
	X(PORT_NMAP, "port:nmap", TT_SCHEMA_PORT, TT_PORT_COL_NMAP, false) \
	X(PORT_UNICORN, "port:unicorn", TT_SCHEMA_PORT, TT_PORT_COL_UNICORN, false) \
	X(PORT_HOME_MIRAI, "port:home:mirai", TT_SCHEMA_PORT, TT_PORT_COL_HOME_MIRAI, false) \
	X(COUNTRY, "country", TT_SCHEMA_COUNTRY, TT_COUNTRY_COL_PKTS, true) \
	X(COUNTRY_MIRAI, "country:mirai", TT_SCHEMA_COUNTRY, TT_COUNTRY_COL_MIRAI, false)

enum tt_metric {
#define TT_SCHEMA_METRIC_ENUM(id, key, table, col, minutes) TT_M_##id,
	TT_SCHEMA_METRICS(TT_SCHEMA_METRIC_ENUM)
#undef TT_SCHEMA_METRIC_ENUM
	TT_M_COUNT,
};

/*
 * The srcs HyperLogLogs a scope keeps, sensor-wide (`srcs<suffix>`) and
 * per watched service (`srcs:<svc><suffix>`): X(ID, suffix). A source is
 * in a variant when at least one of its packets in the bucket and scope
 * qualifies: home:mirai takes Mirai-type packets (the `mirai` class) from
 * home, home:nonmirai every other packet from home. A home source that
 * sent both kinds is in both, so the two can add up to more than home:
 * each is exact within HLL error, where home less home:mirai was not.
 */
#define TT_SCHEMA_VARIANTS(X) \
	X(ALL, "") \
	X(HOME, ":home") \
	X(MIRAI, ":mirai") \
	X(HOME_MIRAI, ":home:mirai") \
	X(HOME_NONMIRAI, ":home:nonmirai")

enum tt_hll_variant {
#define TT_SCHEMA_VARIANT_ENUM(id, suffix) TT_HLL_##id,
	TT_SCHEMA_VARIANTS(TT_SCHEMA_VARIANT_ENUM)
#undef TT_SCHEMA_VARIANT_ENUM
	TT_HLL_VARIANTS,
};

/*
 * The rolling source sets of the {src} tag, ZSETs of source by last-seen
 * time: Mirai-type sources, those at home, and one for each class whose
 * row in TT_SCHEMA_FINGERPRINTS says so, at TT_ROLLING_CLASS(c). Indexes
 * of classes without a set name none (tt_schema_rolling() says which).
 */
enum tt_rolling {
	TT_ROLLING_MIRAI,
	TT_ROLLING_MIRAI_HOME,
	TT_ROLLING_CLASS0,
	TT_ROLLING_MAX = TT_ROLLING_CLASS0 + TT_CLASS_COUNT,
};
#define TT_ROLLING_CLASS(c) ((enum tt_rolling)(TT_ROLLING_CLASS0 + (c)))

/* The layouts that must agree, held here rather than trusted. */
_Static_assert(TT_PORT_COL_UNICORN - TT_PORT_COL_BACKSCATTER ==
	TT_CLASS_UNICORN - TT_CLASS_BACKSCATTER, "a port column per fingerprint");
_Static_assert(TT_T_UNICORN - TT_T_BACKSCATTER == TT_CLASS_UNICORN - TT_CLASS_BACKSCATTER,
	"a total per fingerprint");
_Static_assert(TT_M_PORT_UNICORN - TT_M_PORT_BACKSCATTER ==
	TT_CLASS_UNICORN - TT_CLASS_BACKSCATTER, "a port metric per fingerprint");
_Static_assert(TT_CLASS_COUNT <= 8, "class masks are a byte");
_Static_assert(TT_M_COUNT < 32, "metric masks are a word");
_Static_assert(TT_ROLLING_MAX <= 32, "rolling-set masks are a word");

/** A class's name ("other", "mirai", ...), or "?" out of range. */
const char *tt_schema_class_name(enum tt_class c);
/** Does the class have a rolling {src} set of its own? */
bool tt_schema_class_rolling(enum tt_class c);
/** A totals field ("pkts", "home_mirai", ...), or "?". */
const char *tt_schema_total_name(enum tt_total t);
/** How a port cell adds to the total, and from which column. */
enum tt_schema_total_rule tt_schema_total_rule(enum tt_total t);
enum tt_port_col tt_schema_total_col(enum tt_total t);
/** A metric's key suffix ("port:home", ...), or "?". */
const char *tt_schema_metric_name(enum tt_metric m);
/** The table a metric reads and its column there. */
enum tt_schema_table tt_schema_metric_table(enum tt_metric m);
unsigned int tt_schema_metric_col(enum tt_metric m);
/** Is the metric kept in minute buckets too? */
bool tt_schema_metric_in_minutes(enum tt_metric m);
/** A srcs variant's key suffix ("", ":home", ...), or "?". */
const char *tt_schema_variant_suffix(enum tt_hll_variant v);
/**
 * The rolling set @p r: its key suffix after "{src}:" ("mirai",
 * "mirai:home", "masscan", ...) and, for a scanner's set, its class.
 * @return false when @p r names no set (a class without one, or past the end).
 */
bool tt_schema_rolling(enum tt_rolling r, const char **name, enum tt_class *klass);

#endif /* TT_SCHEMA_H */
