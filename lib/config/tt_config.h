/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CONFIG_H
#define TT_CONFIG_H

/*
 * The appliance configuration (DESIGN.md section 3): load, validate, free.
 *
 * Pure module: no EAL needed (rte_cfgfile parses the INI layer only), no
 * logging. Every problem is reported through a callback as one line naming
 * file, line, key and value, so --check-config can print all of them at once.
 * Control thread only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_alerts.h"

/* Defaults, one place (DESIGN.md section 3). */
enum {
	TT_DEFAULT_REDIS_PORT = 6379,
	TT_DEFAULT_FLUSH_INTERVAL_MS = 1000,
	TT_DEFAULT_BACKLOG_MAX_MB = 256,
	/* A Redis restart that reloads a large dataset takes a minute or two. */
	TT_DEFAULT_FINAL_FLUSH_S = 180,
	TT_DEFAULT_MIRAI_MIN_PORTS = 2,
	TT_DEFAULT_RETENTION_MINUTE_S = 2 * 86400,
	TT_DEFAULT_RETENTION_HOUR_S = 90 * 86400,
	TT_DEFAULT_RETENTION_DAY_S = 800 * 86400,
	TT_DEFAULT_RETENTION_SOURCES_S = 7 * 86400,
	TT_DEFAULT_PORT_CELLS = 1 << 18,       /* per worker shard */
	TT_DEFAULT_COUNTRY_CELLS = 1 << 14,    /* per worker shard */
	TT_DEFAULT_HLL_CELLS = 1 << 14,        /* per worker shard */
	TT_DEFAULT_HLL_SPARSE = 1 << 16,       /* ~6 MiB per worker shard */
	TT_DEFAULT_HLL_DENSE = 512,            /* 8.5 MiB with their mid sets, at least: */
	/*
	 * Unless given, the pools above grow to this much a sensor (cells to the
	 * next power of two): a flood at 4096 sensors sees ~200 countries and
	 * ~1 (up to 14) HLL groups a sensor in a flush interval, and each group
	 * takes up to one set per srcs variant (five).
	 */
	TT_HLL_DENSE_PER_SENSOR = 2,
	TT_COUNTRY_CELLS_PER_SENSOR = 256,
	TT_HLL_CELLS_PER_SENSOR = 32,
	TT_HLL_SPARSE_PER_SENSOR = 32,
	TT_DEFAULT_SOURCES_MAX = 1 << 18,      /* remembered per worker, ~36 MiB */
	TT_DEFAULT_SOURCE_CELLS = 1 << 15,     /* per worker shard, ~8 MiB */
};

#define TT_DEFAULT_PREFIX "teiten"
#define TT_DEFAULT_REDIS_HOST "127.0.0.1"
#define TT_DEFAULT_WATCH_PORTS "tcp/23,tcp/2323,tcp/22,tcp/80,tcp/443,tcp/5555," \
	"tcp/6379,tcp/37215,tcp/8728,tcp/3389,tcp/445,udp/53,icmp"

enum {
	TT_SENSOR_NAME_MAX = 32,       /* bytes, without the NUL */
	TT_MAX_SENSORS = 65534,        /* sensor index + 1 is a 16-bit FIB next hop */
	TT_MAX_WATCH_PORTS = 64,
	/* No more than a source's memory keeps (tt_sources.h), or none would ever be confirmed. */
	TT_MAX_MIRAI_MIN_PORTS = 16,
	TT_MAX_DPDK_PORT = 1023,
};

enum tt_clock_mode {
	TT_CLOCK_AUTO,
	TT_CLOCK_WALL,
	TT_CLOCK_PACKET,
};

enum tt_location {
	TT_LOCATION_DOMESTIC,
	TT_LOCATION_OVERSEAS,
};

/* One darknet prefix. IPv4 addresses sit in addr[0..3], network order. */
struct tt_prefix {
	uint8_t family;                /* 4 or 6 */
	uint8_t len;                   /* prefix length in bits */
	uint8_t addr[16];              /* host bits are zero (validated) */
	uint16_t sensor;               /* index into tt_config.sensors */
	uint32_t line;                 /* where it was written */
	const char *file;              /* config file or prefixes_file (owned by config) */
};

struct tt_sensor_conf {
	char name[TT_SENSOR_NAME_MAX + 1];
	uint16_t port;                 /* DPDK port id that receives it */
	char *label;
	enum tt_location location;
	uint32_t line;                 /* line of the [sensor ...] header */
	uint32_t port_line;            /* line of its port key */
	bool retired;                  /* gone at a reload: keeps its index, no prefix */
};

struct tt_config {
	char *path;
	char **files;                  /* config and prefixes_file names; tt_prefix.file points here */
	uint32_t n_files;

	/* [appliance] */
	char *id;
	char home_country[3];
	enum tt_clock_mode clock;
	char *geoip_db;                /* NULL: no database, every source is ZZ */
	char *asn_db;                  /* NULL: none */
	uint32_t mirai_min_ports;
	uint32_t watch_ports[TT_MAX_WATCH_PORTS];   /* service keys (tt_classify.h) */
	uint32_t n_watch_ports;
	uint32_t port_cells;           /* per-worker table capacities */
	uint32_t country_cells;
	uint32_t hll_cells;
	uint32_t hll_sparse_sets;      /* per-worker HLL pools */
	uint32_t hll_dense_sets;
	uint32_t sources_max;          /* sources remembered per worker */
	uint32_t source_cells;         /* per-interval source deltas per worker shard */
	uint32_t rx_mbufs;             /* packet buffers; 0: sized from the queues */

	/* [redis] */
	bool redis_enabled;            /* no: count and report, publish nothing */
	char *redis_host;
	char *redis_unix;
	uint16_t redis_port;
	/* seed nodes of a Redis Cluster, "host:port,host:port" as validated
	 * (tt_config_endpoint_next() walks it); NULL: one Redis (host or unix) */
	char *redis_cluster;
	char *redis_user;
	char *redis_password_file;
	char *redis_prefix;
	uint32_t flush_interval_ms;
	uint32_t backlog_max_mb;
	uint32_t final_flush_s;        /* how long the final flush keeps trying */

	/* [retention], seconds */
	uint32_t retention_minute;
	uint32_t retention_hour;
	uint32_t retention_day;
	uint32_t retention_sources;

	/* [sensor NAME] */
	struct tt_sensor_conf *sensors;
	uint32_t n_sensors;
	struct tt_prefix *prefixes;    /* all sensors' prefixes */
	uint32_t n_prefixes;

	/* [alerts]: thresholds only (tt_config_alerts_conf() adds the sensors) */
	bool alerts_enabled;
	struct tt_alerts_conf alerts;

};

/**
 * Receives one problem: "file:line: [section] key = value: what is wrong".
 * @param ctx  the caller's pointer, passed through.
 */
typedef void (*tt_config_report_cb)(void *ctx, const char *line);

/**
 * Load and validate a config file. Control thread only; no EAL needed.
 * Every problem found is passed to @p report (which may be NULL).
 * Every file it names is read whole and must be a regular file of bounded
 * size: a device or FIFO is a problem, never a wait.
 * @return 0 when the config is valid, -EINVAL when any problem was
 *   reported (a config that is no regular file too), -ENOENT/-EACCES/...
 *   when the file cannot be read, -ENOMEM.
 *   On error @p cfg is left empty (tt_config_free() is still safe).
 */
int tt_config_load(struct tt_config *cfg, const char *path,
		tt_config_report_cb report, void *ctx);

/** Release everything tt_config_load() allocated. NULL is a no-op. */
void tt_config_free(struct tt_config *cfg);

/**
 * The detectors' conf: [alerts] thresholds, the home country and the
 * sensors, whose names @p names (n_sensors slots, the caller's) points into
 * @p cfg. @return 0, or -EINVAL when the result fails tt_alerts_conf_check().
 */
int tt_config_alerts_conf(const struct tt_config *cfg, struct tt_alerts_conf *conf,
		const char **names);

/*
 * Live reload (SIGHUP). A sensor's index names it everywhere while the
 * appliance runs (counter cells, publisher tags, alert scopes), so a reload
 * keeps every index: tt_config_align() puts the new config's sensors in the
 * running one's order, keeps a sensor that is gone as a retired entry (no
 * prefix, its name kept), and appends the new ones, up to @p slots (what the
 * publisher, the alerts and the live view were sized for at start).
 */

/** What a reload changes; every field is filled by tt_config_align(). */
struct tt_config_changes {
	uint32_t added, retired, revived;   /* sensors */
	uint32_t prefixes_before, prefixes_after;
	bool sensors_changed;          /* prefixes, ports, labels or locations */
	bool geo_changed;              /* geoip_db named another file */
	bool home_changed;
	bool watch_changed;
	bool alerts_changed;           /* [alerts] thresholds */
	bool retention_changed;        /* minute, hour or day buckets' */
	bool sizing_kept;              /* the new file sizes shards otherwise: kept as started */
};

/**
 * Check @p next against the running @p cur and put its sensors in @p cur's
 * order (see above). Keys that only a restart applies (the appliance id,
 * clock, asn_db, mirai_min_ports, the sources' retention, [redis], whether
 * [alerts] is enabled) must be unchanged; the shard sizes stay as
 * started. Control thread.
 * @return 0 with @p next aligned and @p ch filled, -EPERM with @p why
 *   naming the first restart-only key that changed, -ENOSPC when the
 *   sensors would pass @p slots, -ENOMEM.
 */
int tt_config_align(struct tt_config *next, const struct tt_config *cur, uint32_t slots,
		struct tt_config_changes *ch, char *why, size_t why_len);

/**
 * The sensor indexes the appliance sizes for at start: the config's and
 * room for sensors a reload adds (TT_CONFIG_SENSOR_HEADROOM).
 */
uint32_t tt_config_sensor_slots(const struct tt_config *cfg);

enum { TT_CONFIG_SENSOR_HEADROOM = 64 };

/**
 * Free a config's prefix lists, keeping the rest (names, labels, settings):
 * for a config whose tables are built and retired. Control thread.
 */
void tt_config_drop_prefixes(struct tt_config *cfg);

/** Parse a duration "90", "90s", "15m", "2h", "7d" into seconds. @return 0 or -EINVAL. */
int tt_config_parse_duration(const char *s, uint32_t *seconds);

/** Parse "192.0.2.0/25" or "2001:db8::/32" (host bits must be 0). @return 0 or -EINVAL. */
int tt_config_parse_prefix(const char *s, struct tt_prefix *p);

/**
 * The next "host:port" of a comma-separated list such as [redis] cluster,
 * from *@p cursor, which moves past it. Blanks around items are skipped; an
 * IPv6 address is written in brackets ("[::1]:7000"). @p host gets the host
 * without brackets. @return 1 with an item, 0 at the end of the list,
 * -EINVAL for an item that is not host:port with a port from 1 to 65535
 * (the cursor then stands past it), -ENAMETOOLONG for a host longer than
 * @p len - 1.
 */
int tt_config_endpoint_next(const char **cursor, char *host, size_t len, uint16_t *port);

#endif /* TT_CONFIG_H */
