/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_ALERTS_H
#define TT_ALERTS_H

/*
 * Alert detectors (DESIGN.md section 7) over merged, complete buckets.
 *
 * Pure module: no DPDK, no hiredis, no logging, no clock. It only sees the
 * series it is fed, on bucket time, so a replay fed the same buckets raises
 * the same alerts, in the same order, as the live run did. Control thread
 * only: a handle is not shared between threads.
 *
 * Per complete bucket of one resolution:
 *
 *     tt_alerts_begin(a, TT_ALERTS_RES_MINUTE, bucket_start);
 *     tt_alerts_observe(a, scope, dim, subject, pkts, srcs);   ... for each
 *     tt_alerts_end(a, emit, ctx);
 *
 * Observations are buffered and sorted by (scope, dim, subject) at
 * tt_alerts_end(), so the order the caller walks its tables in does not
 * matter; repeated observations of one (scope, dim, subject) in a bucket
 * add their packets and keep the largest source count. A subject tracked
 * but not observed in a bucket counts 0 there. A bucket never begun is
 * unknown (an outage, not silence): baselines stay as they were.
 *
 * Baseline, per (scope, dim, subject, resolution) and metric: a level (EWMA
 * over the last level_minutes or level_hours buckets) and, to know the time
 * of day, one EWMA per UTC hour-of-day slot over baseline_days days. The
 * prediction is the larger of the two (and at least baseline_min), so a
 * busy hour is not news and a slow trend still is. Once warm (or after a
 * series' third bucket), updates are clipped to the prediction plus four
 * standard deviations (inpainting: an ongoing event does not become its
 * own baseline within minutes; a lasting shift is taken in over some
 * dozen buckets as the variance grows). The score is
 * -log10 of the exact upper tail, Poisson, or negative binomial when the
 * series' residual variance is above its mean (bursty services), computed
 * in log space.
 *
 * An alert needs score >= min_score, observed >= min_ratio x baseline and a
 * minimum count, after warmup_hours of buckets at that resolution. Once
 * raised, a (kind, scope, subject, resolution) stays quiet while the
 * subject is still hot (score >= min_score / 2: hysteresis) and for
 * cooldown_minutes after, unless its score grows by realert_gain times.
 * A surge's breadth is decided at tt_alerts_end() from every sensor's
 * verdict on the same (dim, subject) in the same bucket, for the sensor
 * scopes' alerts and the all scope's alike.
 *
 * What to feed (the caller's wiring): every complete minute, then, after the
 * minute that completes an hour, that hour; per scope (each sensor and
 * TT_ALERTS_ALL) the services and countries (packets, and sources where a
 * HyperLogLog holds them), the total, the home Mirai-type traffic (sources
 * are what mirai_home_surge judges) and the Mirai-type packets per service
 * (with sources where known). DoS victims go to tt_alerts_victim() as the
 * rule passes them. An hour's alerts come after its last minute's and carry
 * the hour's start as ts, earlier than those: a stream ID derived from ts
 * alone would go backwards (derive it from the flush, e.g. its sequence).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_alerts;                       /* opaque: defined in alerts.c */

enum tt_alerts_res {
	TT_ALERTS_RES_MINUTE,           /* "m": 60 s buckets */
	TT_ALERTS_RES_HOUR,             /* "h": 3600 s buckets */
	TT_ALERTS_RES_COUNT,
};

/* What a subject is; its uint32 subject's meaning. */
enum tt_alerts_dim {
	TT_ALERTS_DIM_SERVICE,          /* service key (tt_classify.h TT_SVC) */
	TT_ALERTS_DIM_COUNTRY,          /* country index 0..675 (tt_classify.h) */
	TT_ALERTS_DIM_TOTAL,            /* the scope's total; subject ignored (0) */
	TT_ALERTS_DIM_HOME_MIRAI,       /* home Mirai-type traffic; subject ignored */
	TT_ALERTS_DIM_MIRAI_SERVICE,    /* Mirai-type packets per service key */
	TT_ALERTS_DIM_COUNT,
};

enum tt_alerts_kind {
	TT_ALERTS_SURGE,
	TT_ALERTS_RANK,
	TT_ALERTS_NEW_MIRAI_PORT,
	TT_ALERTS_MIRAI_HOME_SURGE,
	TT_ALERTS_DOS_VICTIM,
	TT_ALERTS_KIND_COUNT,
};

enum tt_alerts_metric {
	TT_ALERTS_METRIC_PKTS,
	TT_ALERTS_METRIC_SRCS,
};

enum tt_alerts_breadth {
	TT_ALERTS_BREADTH_NONE,         /* "": not a surge */
	TT_ALERTS_BREADTH_LOCAL,        /* "local": one sensor carries it */
	TT_ALERTS_BREADTH_BROAD,        /* "broad": most sensors with a baseline see it */
	TT_ALERTS_BREADTH_HOME,         /* "home": a dos_victim in the home country */
};

/* The scope "all" (every sensor); sensors are 0..n_sensors-1. */
#define TT_ALERTS_ALL UINT32_MAX

/* Defaults: with no [alerts] section these hold (see alerts.c for why). */
#define TT_ALERTS_DEFAULT_MIN_SCORE 8.0          /* tail probability 1e-8 */
#define TT_ALERTS_DEFAULT_MIN_RATIO 3.0          /* observed / baseline */
#define TT_ALERTS_DEFAULT_REALERT_GAIN 2.0       /* score that many times the last */
#define TT_ALERTS_DEFAULT_BROAD_SHARE 0.5        /* of the sensors with a baseline */
#define TT_ALERTS_DEFAULT_BASELINE_MIN 1.0       /* packets or sources per bucket */
#define TT_ALERTS_DEFAULT_RANK_MIN_SCORE 6.0     /* against its own baseline */
enum {
	TT_ALERTS_DEFAULT_MIN_PKTS = 20,         /* in the bucket */
	TT_ALERTS_DEFAULT_MIN_SRCS = 10,
	TT_ALERTS_DEFAULT_HOME_MIRAI_MIN_SRCS = 10,
	TT_ALERTS_DEFAULT_BASELINE_DAYS = 7,
	TT_ALERTS_DEFAULT_LEVEL_MINUTES = 30,
	TT_ALERTS_DEFAULT_LEVEL_HOURS = 6,
	TT_ALERTS_DEFAULT_WARMUP_HOURS = 3,
	TT_ALERTS_DEFAULT_COOLDOWN_MINUTES = 180,
	TT_ALERTS_DEFAULT_RANK_TOP_N = 10,
	TT_ALERTS_DEFAULT_RANK_MARGIN = 5,
	TT_ALERTS_DEFAULT_RANK_MIN_PKTS = 50,    /* in the hour */
	TT_ALERTS_DEFAULT_RANK_LOOKBACK_HOURS = 24,
	TT_ALERTS_DEFAULT_RANK_LOOKBACK_DAYS = 7,
	TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_MIN_PKTS = 10,
	TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_MIN_SRCS = 2,
	TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_HORIZON_DAYS = 7,
	TT_ALERTS_DEFAULT_MAX_SUBJECTS = 4096,   /* per scope */
	TT_ALERTS_DEFAULT_MAX_VICTIMS = 4096,    /* per UTC day */
};

enum {
	TT_ALERTS_NAME_MAX = 32,                 /* sensor name, without the NUL */
	TT_ALERTS_SUBJECT_MAX = 48,              /* an IPv6 address fits */
	TT_ALERTS_MESSAGE_MAX = 192,
	TT_ALERTS_MAX_SENSORS = 65534,
};

struct tt_alerts_conf {
	/* surge and mirai_home_surge */
	double min_score;              /* -log10 tail probability */
	double min_ratio;              /* observed >= min_ratio x baseline */
	uint32_t min_pkts;             /* packets in the bucket, metric pkts */
	uint32_t min_srcs;             /* sources in the bucket, metric srcs */
	uint32_t home_mirai_min_srcs;  /* mirai_home_surge */
	double broad_share;            /* broad: hot at >= this share of sensors, and >= 2 */
	double baseline_min;           /* the smallest prediction (a new subject's) */
	uint32_t baseline_days;        /* hour-of-day slots remember about this long */
	uint32_t level_minutes;        /* minute level: EWMA over this many buckets */
	uint32_t level_hours;          /* hour level: EWMA over this many buckets */
	uint32_t warmup_hours;         /* no alert before this much history (per res) */
	uint32_t cooldown_minutes;     /* quiet after an event ends */
	double realert_gain;           /* inside the cool-down, only a score this many times larger */
	/* rank */
	uint32_t rank_top_n;
	/*
	 * A subject in the top-N alerts when, within the lookback, it was not
	 * in the top-N and was at some point far: beyond top_n + margin, or
	 * absent. A climber alerts once; one hovering at the edge does not.
	 */
	uint32_t rank_margin;
	uint32_t rank_min_pkts;        /* packets in the hour (or day) */
	double rank_min_score;         /* and this far above its own hour (or yesterday) */
	uint32_t rank_lookback_hours;  /* hourly ranking */
	uint32_t rank_lookback_days;   /* daily ranking (from the hours, at 23:00 UTC) */
	/* new_mirai_port */
	uint32_t new_mirai_port_min_pkts;   /* either this many packets ... */
	uint32_t new_mirai_port_min_srcs;   /* ... or this many sources */
	uint32_t new_mirai_port_horizon_days;
	/* memory */
	uint32_t max_subjects;         /* tracked per scope; the least active go first */
	uint32_t max_victims;          /* dos_victim: remembered per UTC day */
	/* the appliance */
	uint16_t home_country;         /* country index (tt_classify_country_index) */
	uint32_t n_sensors;            /* 1..TT_ALERTS_MAX_SENSORS */
	const char *const *sensor_names;    /* n_sensors names, copied at create */
};

/* One alert: the stream entry's fields (DESIGN.md section 7). */
struct tt_alert {
	uint64_t ts;                   /* UTC epoch second the bucket starts */
	enum tt_alerts_kind kind;
	uint32_t scope;                /* sensor index or TT_ALERTS_ALL */
	enum tt_alerts_dim dim;        /* TT_ALERTS_DIM_COUNT for dos_victim */
	uint32_t subject;              /* as observed; 0 for dos_victim */
	enum tt_alerts_res res;
	enum tt_alerts_metric metric;
	uint64_t observed;
	double baseline;
	double score;                  /* -log10 of the tail probability */
	enum tt_alerts_breadth breadth;
	char scope_name[TT_ALERTS_NAME_MAX + 1];       /* sensor name or "all" */
	char subject_name[TT_ALERTS_SUBJECT_MAX];      /* "tcp/21318", "BG", "tokyo-a", IP */
	char message[TT_ALERTS_MESSAGE_MAX];           /* one line a person reads */
};

/**
 * Receives one alert, at tt_alerts_end() or tt_alerts_victim(). The alert
 * is valid during the call only. @return 0, or -errno (passed back to the
 * caller; the remaining alerts of the bucket are still emitted).
 */
typedef int (*tt_alerts_emit_cb)(void *ctx, const struct tt_alert *al);

/** Fill @p conf with the defaults (no sensors: set n_sensors and sensor_names). */
void tt_alerts_conf_default(struct tt_alerts_conf *conf);

/**
 * Check @p conf. @return 0, or -EINVAL with the first problem named in
 * @p err (key and value, as "min_score = -1: expected ...").
 */
int tt_alerts_conf_check(const struct tt_alerts_conf *conf, char *err, size_t errlen);

/**
 * Create the detectors. @return handle, or NULL with errno set (EINVAL:
 * the conf fails tt_alerts_conf_check(); ENOMEM).
 */
struct tt_alerts *tt_alerts_create(const struct tt_alerts_conf *conf);
void tt_alerts_free(struct tt_alerts *a);       /* NULL is a no-op */

/**
 * A reload: thresholds, home country and sensor names from @p conf, whose
 * n_sensors must be the created one's (a sensor keeps its index). What each
 * subject has learnt stays; max_subjects and max_victims, which sized the
 * tables, stay as created. @return 0, or -EINVAL with @p err.
 */
int tt_alerts_reconfigure(struct tt_alerts *a, const struct tt_alerts_conf *conf,
		char *err, size_t errlen);

/**
 * Open the bucket starting at @p ts (aligned to @p res) for observations.
 * @return 0; -EINVAL (bad res, ts not aligned); -EBUSY (a bucket is open);
 *   -EALREADY (ts not after the last bucket of that res: a resend, ignored).
 */
int tt_alerts_begin(struct tt_alerts *a, enum tt_alerts_res res, uint64_t ts);

/**
 * One figure of the open bucket. @p srcs is a unique-source estimate, 0
 * where not known. @return 0; -EINVAL (no open bucket, bad scope or dim);
 * -ENOSPC (past 4M observations in one bucket: dropped); -ENOMEM.
 */
int tt_alerts_observe(struct tt_alerts *a, uint32_t scope, enum tt_alerts_dim dim,
		uint32_t subject, uint64_t pkts, uint64_t srcs);

/**
 * Judge the open bucket and close it: every alert it raises goes to
 * @p emit, sorted by scope (sensors in order, then all), kind, dimension,
 * subject. @return 0, -EINVAL (no open bucket), -ENOMEM, or the first
 * error @p emit returned.
 */
int tt_alerts_end(struct tt_alerts *a, tt_alerts_emit_cb emit, void *ctx);

/**
 * A DoS victim (a backscatter sender past DESIGN.md's rule), seen in the
 * bucket starting at @p ts: alerts once per address per UTC day (scope
 * all, res m, metric pkts, breadth "home" for a home victim). @p addr is
 * 4 or 16 bytes, network order, by @p family 4 or 6.
 * @return 1 alerted, 0 already alerted today (or past max_victims, counted),
 *   -EINVAL, or the error @p emit returned.
 */
int tt_alerts_victim(struct tt_alerts *a, uint64_t ts, const uint8_t *addr,
		uint8_t family, uint64_t pkts, bool home, tt_alerts_emit_cb emit, void *ctx);

struct tt_alerts_stats {
	uint64_t buckets[TT_ALERTS_RES_COUNT];  /* judged */
	uint64_t alerts[TT_ALERTS_KIND_COUNT];  /* emitted */
	uint64_t suppressed;           /* would alert, held by the cool-down */
	uint64_t subjects;             /* tracked now, every scope */
	uint64_t evicted;              /* subjects dropped at max_subjects */
	uint64_t expired;              /* quiet subjects whose baseline was the floor */
	uint64_t victims_dropped;      /* victims past max_victims in a day */
};

void tt_alerts_stats_get(const struct tt_alerts *a, struct tt_alerts_stats *st);

/** Names as published: "surge", "m", "pkts", "broad" ("" for none). */
const char *tt_alerts_kind_name(enum tt_alerts_kind k);
const char *tt_alerts_res_name(enum tt_alerts_res r);
const char *tt_alerts_metric_name(enum tt_alerts_metric m);
const char *tt_alerts_breadth_name(enum tt_alerts_breadth b);

/* The stream entry as name/value strings, in DESIGN.md's order. */
enum { TT_ALERTS_FIELDS = 11 };
struct tt_alerts_fields {
	const char *name[TT_ALERTS_FIELDS];     /* ts kind scope subject res metric ... */
	const char *value[TT_ALERTS_FIELDS];    /* point into the alert or the buffers */
	char ts[24], observed[24], baseline[32], score[16];
};

/** Fill @p f from @p al (which must outlive its use). */
void tt_alerts_fields(const struct tt_alert *al, struct tt_alerts_fields *f);

/** The alert as one JSON object (for PUBLISH). @return bytes written, as snprintf. */
int tt_alerts_format_json(const struct tt_alert *al, char *buf, size_t len);

/**
 * -log10 P(X >= k) for X Poisson with mean @p mu (> 0), exact in log space.
 * 0 for k == 0. Pure, any thread.
 */
double tt_alerts_poisson_score(uint64_t k, double mu);

/**
 * -log10 P(X >= k) for X negative binomial with mean @p mu and variance
 * @p var (Poisson when var <= mu). Pure, any thread.
 */
double tt_alerts_negbin_score(uint64_t k, double mu, double var);

#endif /* TT_ALERTS_H */
