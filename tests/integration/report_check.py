#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks for report_test.sh: teiten-report's report.json against the
generator's truth (teiten-gen --truth), its figures against the day buckets in
Redis, and the recipes of docs/redis-schema.md, run against that Redis,
against the truth. Prints one "ok ..." or "FAIL ..." line per check.

The expected answers are computed here from the truth files alone (and the
country database through mmdblookup, libmaxminddb's own tool), never from
Redis or from teiten-report's code; only the figure checks read Redis, since
a figure's series must equal the day buckets.

    report_check.py report  --truth A.json ... --conf FILE --geoip DB --port P \\
                            --scope SCOPE DIR/report.json
    report_check.py recipes --truth A.json ... --conf FILE --geoip DB --port P \\
                            --first YYYY-MM-DD --end UNIXTIME docs/redis-schema.md
"""
import argparse
import datetime as dt
import json
import math
import re
import struct
import subprocess
from collections import Counter, defaultdict

import redis

FAILED = 0


def check(what, got, want):
    global FAILED
    if got == want:
        print(f"ok   {what}")
    else:
        FAILED += 1
        print(f"FAIL {what}:\n     got  {str(got)[:1500]}\n     want {str(want)[:1500]}")


def near(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(b))


# --- the truth -----------------------------------------------------------

class Truth:
    """The generators' per-day truth, summed over the files (whose days may overlap)."""

    def __init__(self, files):
        self.days = defaultdict(lambda: defaultdict(lambda: defaultdict(Counter)))
        self.day_sources = defaultdict(Counter)
        self.victims = defaultdict(Counter)
        self.runs = []
        for path in files:
            t = json.load(open(path))
            self.runs.append(t)
            for key, sensors in t["days"].items():
                d = dt.datetime.strptime(key, "d:%Y%m%d").date()
                for s, dims in sensors.items():
                    for dim, members in dims.items():
                        self.days[d][s][dim].update(members)
            for key, counts in t["day_sources"].items():
                self.day_sources[dt.datetime.strptime(key, "d:%Y%m%d").date()].update(counts)
            for key, v in t["victims"].items():
                self.victims[dt.datetime.strptime(key, "%Y%m%d").date()].update(v)

    def day(self, sensors, d, dim):
        c = Counter()
        for s in sensors:
            c.update(self.days.get(d, {}).get(s, {}).get(dim, {}))
        return c

    def period(self, sensors, days, dim):
        c = Counter()
        for d in days:
            c.update(self.day(sensors, d, dim))
        return c


def redis_order(counter):
    """ZREVRANGE's order: score down, ties with the greater member first."""
    return sorted(counter.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def conf_sensors(path):
    sensors, cur = {}, None
    for line in open(path, encoding="utf-8"):
        line = re.sub(r"(^|\s)[;#].*$", "", line).strip()
        m = re.fullmatch(r"\[sensor\s+(\S+)\]", line)
        if m:
            cur = m[1]
            sensors[cur] = {"location": "domestic", "label": cur}
        elif line.startswith("["):
            cur = None
        elif cur and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            if k in ("location", "label"):
                sensors[cur][k] = v
    return sensors


def surge_min_pkts(path):
    """[alerts] surge_min_pkts of the config (DESIGN.md section 7; 20 when unset)."""
    section, value = None, 20
    for line in open(path, encoding="utf-8"):
        line = re.sub(r"(^|\s)[;#].*$", "", line).strip()
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            section = m[1].strip()
        elif section == "alerts" and re.match(r"surge_min_pkts\s*=", line):
            value = int(line.split("=", 1)[1])
    return value


COUNTRY = {}


def country(db, ip):
    if ip not in COUNTRY:
        out = subprocess.run(["mmdblookup", "--file", db, "--ip", ip, "country_code"],
                             capture_output=True, text=True).stdout
        m = re.search(r'"([A-Z]{2})"', out)
        COUNTRY[ip] = m[1] if m else "ZZ"
    return COUNTRY[ip]


def days_of(first, last):
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- report.json against the truth ----------------------------------------

SURGE_FACTOR, SURGE_MIN, SURGE_SIGMAS, SURGE_BASELINE_DAYS = 4.0, 50, 6.0, 14


def expected_surges(truth, names, in_scope, days):
    """T5's stated rule, applied to the truth's day counts."""
    hits, seen = defaultdict(list), defaultdict(set)
    for s in names:
        for d in days:
            window = [d - dt.timedelta(days=k) for k in range(1, SURGE_BASELINE_DAYS + 1)]
            if sum(1 for w in window if truth.day([s], w, "port")) < SURGE_BASELINE_DAYS // 2:
                continue
            base = truth.period([s], window, "port")
            for m, n in truth.day([s], d, "port").items():
                b = base.get(m, 0) / SURGE_BASELINE_DAYS
                if n >= SURGE_MIN and n >= SURGE_FACTOR * b and \
                        n - b >= SURGE_SIGMAS * math.sqrt(max(b, 1.0)):
                    hits[(d, m)].append((s, n, b))
                if n >= 2 * b and n - b >= 3 * math.sqrt(max(b, 1.0)):
                    seen[(d, m)].add(s)
    rows = []
    for (d, m), who in sorted(hits.items()):
        if not any(s in in_scope for s, _, _ in who):
            continue
        k = len(seen[(d, m)])
        rows.append({"day": d.isoformat(), "service": m, "sensors": sorted(s for s, _, _ in who),
                     "seen_at": sorted(seen[(d, m)]),
                     "breadth": "local" if k == 1 else "broad" if 2 * k >= len(names)
                     else "partial", "packets": sum(n for _, n, _ in who),
                     "baseline": round(sum(b for _, _, b in who), 2)})
    return rows


def utc_day(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).date()


def expected_alert_surges(truth, names, in_scope, scope, days, min_pkts):
    """The service surges the alert stream must hold, from the generators'
    truth alone, as {(day, service): (sensors, breadth, start, end)}:
    - each injected --surge (the truth's events: scope, subject, breadth), on
      the day it starts, at its sensor or at every sensor for scope all;
    - each service of a --dos capture (a run whose events are dos_victim)
      with at least min_pkts ([alerts] surge_min_pkts) packets at a sensor:
      the attack lasts two minutes and the generated background brings a
      service about one packet an hour at a sensor, so that many in its hour
      is a surge there; broad when at least two sensors and half of them
      see it, local when one does.
    Kept when a sensor in scope surges, or for scope all."""
    want = {}
    period = set(days)
    for run in truth.runs:
        events = run.get("events", [])
        for e in events:
            if e["kind"] == "surge":
                sens = names if e["scope"] == "all" else [e["scope"]]
                want[(utc_day(e["start"]), e["subject"])] = (sorted(sens), e["breadth"],
                                                            e["start"], e["end"])
        attacks = [e for e in events if e["kind"] == "dos_victim"]
        if not attacks:
            continue
        start, end = min(e["start"] for e in attacks), max(e["end"] for e in attacks)
        for key, per_sensor in run["days"].items():
            d = dt.datetime.strptime(key, "d:%Y%m%d").date()
            hits = defaultdict(list)
            for s, dims in per_sensor.items():
                for svc, n in dims.get("port", {}).items():
                    if n >= min_pkts:
                        hits[svc].append(s)
            for svc, ss in hits.items():
                broad = len(ss) >= 2 and 2 * len(ss) >= len(names)
                want[(d, svc)] = (sorted(ss), "broad" if broad else "local", start, end)
    return {k: v for k, v in want.items() if k[0] in period and
            (scope == "all" or any(s in in_scope for s in v[0]))}


def check_t5_alerts(tag, rows, truth, names, in_scope, scope, days, a, r, p):
    want = expected_alert_surges(truth, names, in_scope, scope, days, a.surge_min_pkts)
    check(f"{tag}: T5 = the injected surges and the DoS attack's ({len(want)} rows)",
          [(row["day"], row["service"], row["sensors"], row["breadth"]) for row in rows],
          [(d.isoformat(), svc, v[0], v[1]) for (d, svc), v in sorted(want.items())])
    late = [(row["day"], row["service"], row["first"]) for row in rows
            if (dt.date.fromisoformat(row["day"]), row["service"]) in want and not
            want[(dt.date.fromisoformat(row["day"]), row["service"])][2] - 3600 <= row["first"]
            <= want[(dt.date.fromisoformat(row["day"]), row["service"])][3] + 3600]
    check(f"{tag}: T5's first alerts within their event (an hour either side)", late, [])
    # and each row is the stream's: its alerts, the first, the peak one of them
    entries = [f for _, f in r.xrange(f"{p}:alerts") if f["kind"] == "surge"]
    bad = []
    for row in rows:
        mine = [f for f in entries if f["subject"] == row["service"] and
                utc_day(int(f["ts"])).isoformat() == row["day"]]
        peak = (str(row["observed"]), row["res"], row["metric"], f"{row['baseline']:.1f}",
                f"{row['score']:.1f}")
        pool = [f for f in mine if f["scope"] == "all"] or mine
        if (len(mine) != row["alerts"] or min(int(f["ts"]) for f in mine) != row["first"] or
                peak not in [(f["observed"], f["res"], f["metric"], f["baseline"], f["score"])
                             for f in pool] or
                row["sensors"] != sorted({f["scope"] for f in mine} - {"all"})):
            bad.append(row)
    check(f"{tag}: T5 rows are the stream's alerts (count, first, peak, sensors)", bad, [])


def check_t6(tag, rows, truth, days, a, home, basis):
    """T6 against the truth: home or abroad (libmaxminddb's country of the
    victim) and the country where what was published says it: the host
    record (basis host), the dos_victim alert (alert: home or not, the home
    country for home ones), nothing (none)."""
    tot, vd = Counter(), Counter()
    for d in days:
        tot.update(truth.victims.get(d, {}))
        vd.update(truth.victims.get(d, {}).keys())
    want, cnt = [], Counter()
    for ip, c in redis_order(tot):
        cc = country(a.geoip, ip)
        loc = "home" if cc == home else "abroad"
        if basis == "alert":
            cc = home if loc == "home" else None
        elif basis == "none":
            loc, cc = "unknown", None
        cnt[loc] += 1
        if cnt[loc] <= 10:
            want.append({"location": loc, "rank": cnt[loc], "ip": ip, "country": cc,
                         "packets": c, "days": vd[ip], "from": basis})
    want.sort(key=lambda x: (["home", "abroad", "unknown"].index(x["location"]), x["rank"]))
    check(f"{tag}: T6 = truth, countries from {basis} ({cnt['home']} home, {cnt['abroad']} "
          f"abroad, {cnt['unknown']} unknown)",
          [{k: row[k] for k in ("location", "rank", "ip", "country", "packets", "days", "from")}
           for row in rows], want)


def check_t5_t6(a, rep, truth, names, in_scope, scope, days, r, p, tag):
    """T5 and T6, by what the test says they read (--t5-from, --victims-from)."""
    t = rep["tables"]
    t5 = rep["sources"]["T5"]
    check(f"{tag}: T5 reads {a.t5_from}", t5["from"], a.t5_from)
    if t5["from"] != a.t5_from:
        pass  # its rows are another table's
    elif a.t5_from == "alerts":
        check_t5_alerts(tag, t["T5"], truth, names, in_scope, scope, days, a, r, p)
    else:
        want = expected_surges(truth, names, in_scope, days)
        check(f"{tag}: T5 = the rule on the truth ({len(want)} surges)",
              [{k: (sorted(row[k]) if k in ("sensors", "seen_at") else row[k])
                for k in ("day", "service", "sensors", "seen_at", "breadth", "packets",
                          "baseline")}
               for row in t["T5"]], want)
    check_t6(tag, t["T6"], truth, days, a, rep["home_country"], a.victims_from)


def check_report(a, truth, sensors, r):
    rep = json.load(open(a.target))
    p = rep["prefix"]
    names = sorted(sensors)
    scope = a.scope
    in_scope = names if scope == "all" else \
        [n for n in names if sensors[n]["location"] == scope] if scope in ("domestic", "overseas") \
        else [scope]
    first = dt.date.fromisoformat(rep["period"]["first"])
    last = dt.date.fromisoformat(rep["period"]["last"])
    days = days_of(first, last)
    prev = days_of(dt.date.fromisoformat(rep["period"]["previous"]["first"]),
                   dt.date.fromisoformat(rep["period"]["previous"]["last"]))
    per = rep["unit"] == "per_sensor_day"
    n = len(in_scope)
    tag = f"{rep['period']['label']} {scope}"
    t = rep["tables"]

    check(f"{tag}: scope sensors", rep["scope_sensors"], in_scope)
    if a.only:  # a report that differs from one checked whole in T5 and T6 only
        return check_t5_t6(a, rep, truth, names, in_scope, scope, days, r, p, tag)
    check(f"{tag}: locations from the config",
          {s["name"]: s["location"] for s in rep["sensors"]},
          {k: v["location"] for k, v in sensors.items()})
    for tid, dim, key in (("T1", "port", "service"), ("T2", "country", "country")):
        cur = redis_order(truth.period(in_scope, days, dim))
        before = {m: i + 1 for i, (m, _) in enumerate(redis_order(truth.period(in_scope, prev, dim)))}
        want = [{"rank": i + 1, key: m, "packets": c, "prev_rank": before.get(m)}
                for i, (m, c) in enumerate(cur[:5])]
        check(f"{tag}: {tid} = truth", [{k: row[k] for k in ("rank", key, "packets", "prev_rank")}
                                        for row in t[tid]], want)
        check(f"{tag}: {tid} per sensor per day",
              all(near(row["per_sensor_day"], row["packets"] / (n * len(days))) for row in t[tid]),
              True)
    hm = truth.period(in_scope, days, "port:home:mirai")
    want = [{"rank": i + 1, "service": m, "packets": c, "mirai": hm.get(m, 0),
             "mirai_pct": round(100.0 * hm.get(m, 0) / c, 2)}
            for i, (m, c) in enumerate(redis_order(truth.period(in_scope, days, "port:home"))[:5])]
    check(f"{tag}: T3 = truth", [{k: row[k] for k in ("rank", "service", "packets", "mirai",
                                                       "mirai_pct")} for row in t["T3"]], want)
    want = [{"sensor": s, "rank": i + 1, "service": m, "packets": c}
            for s in in_scope
            for i, (m, c) in enumerate(redis_order(truth.period([s], days, "port"))[:10])]
    check(f"{tag}: T4 = truth ({len(want)} rows)",
          [{k: row[k] for k in ("sensor", "rank", "service", "packets")} for row in t["T4"]], want)
    check_t5_t6(a, rep, truth, names, in_scope, scope, days, r, p, tag)

    # Figures: each series equals the day buckets in Redis (and the truth's days).
    f = rep["figures"]
    div = n if per else 1
    check(f"{tag}: figures' days", f["F1"]["x"], [d.isoformat() for d in days])
    scopes = ["all"] if scope == "all" else in_scope

    def zscore(d, metric, member):
        return sum(int(r.zscore(f"{p}:{{{s}}}:d:{d:%Y%m%d}:{metric}", member) or 0)
                   for s in scopes)

    for fid, dim in (("F1", "port"), ("F2", "country")):
        want_keys = [row["service" if dim == "port" else "country"] for row in t["T1" if dim ==
                                                                               "port" else "T2"]]
        check(f"{tag}: {fid} series are {'T1' if dim == 'port' else 'T2'}'s",
              list(f[fid]["series"]), want_keys)
        bad = [(m, d) for m in f[fid]["series"] for d, v in zip(days, f[fid]["series"][m])
               if not near(v * div, zscore(d, dim, m))]
        check(f"{tag}: {fid} = day buckets ({len(days)} days x {len(want_keys)})", bad, [])
        bad = [(m, d) for m in f[fid]["series"] for d, v in zip(days, f[fid]["series"][m])
               if not near(v * div, truth.day(in_scope, d, dim).get(m, 0))]
        check(f"{tag}: {fid} = truth's days", bad, [])
    bad3, bad4, badt = [], [], []
    for i, d in enumerate(days):
        al, h = zscore(d, "port", "tcp/23"), zscore(d, "port:home", "tcp/23")
        m, hm_ = zscore(d, "port:mirai", "tcp/23"), zscore(d, "port:home:mirai", "tcp/23")
        if not (near(f["F3"]["series"]["mirai"][i] * div, m - hm_) and
                near(f["F3"]["series"]["other"][i] * div, al - h - m + hm_)):
            bad3.append(d)
        if not (near(f["F4"]["series"]["mirai"][i] * div, hm_) and
                near(f["F4"]["series"]["other"][i] * div, h - hm_)):
            bad4.append(d)
        tm = truth.day(in_scope, d, "port:home:mirai").get("tcp/23", 0)
        th = truth.day(in_scope, d, "port:home").get("tcp/23", 0)
        if not near(f["F4"]["series"]["other"][i] * div, th - tm):
            badt.append(d)
    check(f"{tag}: F3 (abroad Telnet) = day buckets", bad3, [])
    check(f"{tag}: F4 (home Telnet) = day buckets", bad4, [])
    check(f"{tag}: F4 = truth's days", badt, [])
    check_f5(tag, f["F5"], rep, truth, days, scopes, scope, r, p)
    groups = f["F6"]
    bad = []
    for loc in ("domestic", "overseas"):
        members = [s for s in names if sensors[s]["location"] == loc]
        for which, xs in (("", groups["x"]), ("_year_earlier", groups["x_year_earlier"])):
            for i, label in enumerate(xs):
                ds = month_or_week_days(label)
                tot = sum(truth.period([s], ds, "port").total() for s in members)
                want_v = tot / (len(members) * len(ds)) if per else tot
                got = groups["series"][loc + which][i]
                red = sum(int(r.hget(f"{p}:{{{s}}}:d:{d:%Y%m%d}:totals", "pkts") or 0)
                          for s in members for d in ds)
                if not (near(got, want_v) and near(got, red / (len(members) * len(ds))
                                                   if per else red)):
                    bad.append((loc + which, label, got, want_v))
    check(f"{tag}: F6 = truth and day buckets ({len(groups['x'])} groups)", bad, [])


def within_hll(est, exact):
    """An HLL estimate against the exact count: 3% (nearly four standard
    errors of 0.81%) and 2 sources, for a collision among a few."""
    return abs(est - exact) <= 0.03 * exact + 2


def check_f5(tag, f5, rep, truth, days, scopes, scope, r, p):
    """F5, unique home Telnet sources per day, Mirai-type and not: each
    series equals PFCOUNT of the day buckets it says it read, and (scope
    all, whose exact counts the truth has) the truth's days within HLL error.
    A day reads srcs:tcp/23:home:nonmirai unless a scope lacks that key
    though home sources sent it Telnet packets that were not Mirai-type
    (the truth's packets say so): written by an older teiten, the day is
    then HLL(home) - HLL(home:mirai), and the report says which days. The
    note says on how many days the two series add up to more than all."""
    bad, bad_from, bad_truth, over = [], [], [], 0
    worst_diff = worst_key = 0
    for i, d in enumerate(days):
        keys = [f"{p}:{{{s}}}:d:{d:%Y%m%d}:srcs:tcp/23:home" for s in scopes]
        a_ = r.pfcount(*keys)
        m_ = r.pfcount(*[k + ":mirai" for k in keys])
        n_ = r.pfcount(*[k + ":nonmirai" for k in keys])
        sensors = [s for s in truth.days.get(d, {})] if scopes == ["all"] else scopes
        other = {s: truth.day([s], d, "port:home").get("tcp/23", 0) -
                 truth.day([s], d, "port:home:mirai").get("tcp/23", 0) for s in sensors}
        older = [k for k, s in zip(keys, scopes) if not r.exists(k + ":nonmirai") and
                 (sum(other.values()) if s == "all" else other[s]) > 0]
        want_from = "difference" if older else "key"
        want_non = max(0, a_ - m_) if older else n_
        if f5["nonmirai_from"][i] != want_from:
            bad_from.append((d.isoformat(), f5["nonmirai_from"][i], want_from))
        if (f5["series"]["mirai"][i] != m_ or f5["series"]["nonmirai"][i] != want_non or
                f5["all"][i] != a_):
            bad.append(d.isoformat())
        over += want_from == "key" and m_ + n_ > a_
        if scope != "all":
            continue
        ts = truth.day_sources.get(d, {})
        home, mirai, non = (ts.get(f"srcs:tcp/23:home{v}", 0) for v in ("", ":mirai", ":nonmirai"))
        if not (within_hll(f5["all"][i], home) and within_hll(f5["series"]["mirai"][i], mirai)
                and (want_from != "key" or within_hll(f5["series"]["nonmirai"][i], non))):
            bad_truth.append((d.isoformat(), f5["all"][i], home, f5["series"]["mirai"][i], mirai,
                              f5["series"]["nonmirai"][i], non))
        worst_diff = max(worst_diff, abs(max(0, a_ - m_) - non))
        if want_from == "key":
            worst_key = max(worst_key, abs(n_ - non), abs(m_ - mirai), abs(a_ - home))
    n_diff = f5["nonmirai_from"].count("difference")
    n_key = len(days) - n_diff
    said = (f"the {n_key} days" if rep["lang"] == "en" else f"{n_key}日中{over}日")
    said = f"they do on {over} of {said}" if rep["lang"] == "en" else said
    check(f"{tag}: F5's note: Mirai-type + other exceed all on {over} of {n_key} days",
          any(n.startswith("F5 ") and said in n for n in rep["notes"]), True)
    check(f"{tag}: F5 reads srcs:tcp/23:home:nonmirai, or the difference where an older "
          f"teiten left none ({n_diff} days)", bad_from, [])
    check(f"{tag}: F5 = PFCOUNT of the day buckets", bad, [])
    if scope == "all":
        check(f"{tag}: F5 = truth's days, within HLL error (3% + 2)", bad_truth, [])
        print(f"info {tag}: F5 off the exact counts by at most {worst_key} a day; "
              f"HLL(home) - HLL(home:mirai) would be off the exact other sources by up to "
              f"{worst_diff} a day")
    if n_diff:
        check(f"{tag}: F5's label says the difference days",
              str(n_diff) in f5["labels"]["nonmirai"], True)


def month_or_week_days(label):
    m = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if m:
        y, mo = int(m[1]), int(m[2])
        nxt = dt.date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
        return days_of(dt.date(y, mo, 1), nxt - dt.timedelta(days=1))
    m = re.fullmatch(r"(\d{4})-W(\d{2})", label)
    first = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    return days_of(first, first + dt.timedelta(days=6))


def check_pngs(a):
    for fid in ("F1", "F2", "F3", "F4", "F5", "F6"):
        path = a.target.rsplit("/", 1)[0] + f"/{fid}.png"
        with open(path, "rb") as f:
            head = f.read(24)
        ok = head[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", head[16:24]) if ok else (0, 0)
        # F3 and F4 are half a page wide, to stand side by side
        wmin = 560 if fid in ("F3", "F4") else 900
        check(f"{fid}.png is a PNG of at least {wmin}x300 ({w}x{h})",
              ok and w >= wmin and h >= 300, True)


# --- the recipes of docs/redis-schema.md ----------------------------------

def recipes(doc):
    """(title, code) of each sh block of the Report queries section."""
    text = open(doc, encoding="utf-8").read()
    text = text[text.index("## Report queries"):]
    out, title = [], "helpers"
    for m in re.finditer(r"^\*\*(.+?)\*\*|^```sh\n(.*?)^```", text, re.M | re.S):
        if m[1]:
            title = m[1]
        else:
            out.append((title, m[2]))
    return out


def check_recipes(a, truth, sensors, r):
    first = dt.date.fromisoformat(a.first)
    q = days_of(first, dt.date(2024, 3, 31))
    prevq = days_of(dt.date(2023, 10, 1), dt.date(2023, 12, 31))
    names = sorted(sensors)
    blocks = recipes(a.target)
    helpers = blocks[0][1]
    prelude = f'redis-cli() {{ command redis-cli -p {a.port} "$@"; }}\n'
    exp = {}

    def top5_services():
        before = {m: i + 1 for i, (m, _) in enumerate(redis_order(truth.period(names, prevq, "port")))}
        return [f"{m} {c} previous rank {before.get(m, 'new')}"
                for m, c in redis_order(truth.period(names, q, "port"))[:5]]

    def telnet():
        out = []
        for d in q:
            g = lambda dim: truth.day(names, d, dim).get("tcp/23", 0)  # noqa: E731
            al, m, h, hm = g("port"), g("port:mirai"), g("port:home"), g("port:home:mirai")
            out.append(f"{d:%Y%m%d} abroad: mirai {m - hm} other {al - h - m + hm} "
                       f"home: mirai {hm} other {h - hm}")
        return out

    def home_share():
        hm = truth.period(names, q, "port:home:mirai")
        return [f"{m} {hm.get(m, 0)} of {c}"
                for m, c in redis_order(truth.period(names, q, "port:home"))[:10]]

    def per_sensor():
        out = []
        for s in ("tokyo-a", "tokyo-b"):
            for m, c in redis_order(truth.period([s], q, "port"))[:10]:
                out += [m, str(c)]
        return out

    def monthly():
        jan = days_of(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
        return [f"{s} 2024-01: {truth.period([s], jan, 'port').total() // 31} packets/day"
                for s in ("tokyo-a", "tokyo-b")]

    def mirai_days():
        return [f"{d:%Y%m%d} {truth.day_sources.get(d, {}).get('srcs:mirai', 0)} "
                "Mirai-type sources" for d in q]

    def victims():
        tot = Counter()
        for d in q:
            tot.update(truth.victims.get(d, {}))
        return [f"{ip} {c} {country(a.geoip, ip)}" for ip, c in redis_order(tot)[:10]]

    exp = {"Top 5 services of the quarter": top5_services,
           "Telnet, Mirai-type and not": telnet,
           "Mirai-type share per port, home sources": home_share,
           "Top 10 services per sensor": per_sensor,
           "Average packets per sensor per day, by month": monthly,
           "Mirai-type sources per day, exact": mirai_days,
           "Top DoS victims of the quarter": victims}
    check(f"recipes: {len(blocks)} sh blocks in the Report queries section", len(blocks) >= 12, True)
    for title, code in blocks:
        res = subprocess.run(["bash", "-c", prelude + (helpers if title != "helpers" else "") +
                              code], capture_output=True, text=True, timeout=120)
        got = res.stdout.splitlines()
        if res.returncode != 0 or res.stderr.strip():
            check(f"recipe '{title}' runs cleanly", (res.returncode, res.stderr.strip()[:300]),
                  (0, ""))
            continue
        key = next((k for k in exp if title.startswith(k)), None)
        if title == "helpers":
            check("recipe helpers print nothing", got, [])
        elif key:
            check(f"recipe '{key}' = truth ({len(got)} lines)", got, exp[key]())
        elif title.startswith("Mirai-type sources at home"):
            # the notification list: home sources (by libmaxminddb) whose
            # latest Mirai-type packet is within the horizon (7 days) of the
            # replay's last packet, give or take an hour (the set is trimmed
            # against the newest packet of the flush that fed it last, which
            # trails the capture's end); confirmed ones among them
            pairs = [(got[i], got[i + 1]) for i in range(0, len(got) - 1, 2)
                     if re.fullmatch(r"\d+", got[i + 1] or "")]
            listed = {ip for ip, _ in pairs}
            rest = got[2 * len(pairs):]
            check(f"recipe '{title[:30]}': a list ({len(pairs)} sources)", len(pairs) > 0, True)
            check("  every listed source is at home",
                  sorted(ip for ip in listed if country(a.geoip, ip) != "JP"), [])
            check("  every score within the horizon of the last packet",
                  [s for _, s in pairs if not a.end - 7 * 86400 - 3600 <= int(s) <= a.end], [])
            check(f"  confirmed ones ({len(rest)}) are listed ones", set(rest) <= listed, True)
        elif title.startswith("Surges of the quarter"):
            # every line an alert of an expected surge (its day, service, a
            # scope that surged, the breadth), every surging scope a line
            want = expected_alert_surges(truth, names, names, "all", q, a.surge_min_pkts)
            bad, seen = [], set()
            for line in got:
                m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}Z (\S+) (\S+) ([mh]) (\d+) "
                                 r"(pkts|srcs) ?(\S*)", line)
                w = m and want.get((dt.date.fromisoformat(m[1]), m[3]))
                if not w or m[2] not in w[0] + ["all"] or m[7] != w[1]:
                    bad.append(line)
                    continue
                seen.add((m[1], m[3], m[2]))
            check(f"recipe '{title[:30]}': {len(got)} alerts, each an expected surge's", bad, [])
            missing = [(d.isoformat(), svc, s) for (d, svc), w in sorted(want.items())
                       for s in w[0] + ["all"] if (d.isoformat(), svc, s) not in seen]
            check(f"  every surge at each of its sensors and all ({len(want)} surges)",
                  missing, [])
        elif title.startswith("Unique home Telnet sources per day"):
            bad = []
            for d, line in zip(q, got):
                ts = truth.day_sources.get(d, {})
                m = re.fullmatch(r"(\d+) home (\d+) mirai (\d+) nonmirai (\d+)", line)
                if not m or m[1] != f"{d:%Y%m%d}":
                    bad.append(line)
                    continue
                for est, v in zip(m.groups()[1:], ("", ":mirai", ":nonmirai")):
                    if not within_hll(int(est), ts.get(f"srcs:tcp/23:home{v}", 0)):
                        bad.append((d, v, est, ts.get(f"srcs:tcp/23:home{v}", 0)))
            check(f"recipe '{title[:34]}': {len(q)} days within HLL error of the exact counts",
                  len(got) == len(q) and not bad, True)
            if bad:
                print(f"     {bad[:10]}")
        elif title.startswith("Unique sources per day"):
            bad = []
            for d, line in zip(q, got):
                ts = truth.day_sources.get(d, {})
                m = re.fullmatch(r"(\d+) sources (\d+) mirai (\d+) home mirai (\d+)", line)
                if not m or m[1] != f"{d:%Y%m%d}":
                    bad.append(line)
                    continue
                for est, exact in ((m[2], ts["srcs"]), (m[3], ts["srcs:mirai"]),
                                   (m[4], ts["srcs:home:mirai"])):
                    if not within_hll(int(est), exact):
                        bad.append((d, est, exact))
            check(f"recipe '{title[:30]}': {len(q)} days within 3% of the exact counts", bad, [])
            run = next(t for t in truth.runs if t["generator"]["start"] ==
                       int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()))
            exact = run["sources"]["all"]["srcs:mirai"]
            check(f"  the quarter's Mirai-type sources within 3% of {exact}",
                  len(got) == len(q) + 1 and abs(int(got[-1]) - exact) <= 0.03 * exact, True)
        else:
            check(f"recipe '{title}' has a check", False, True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("report", "recipes"))
    ap.add_argument("target")
    ap.add_argument("--truth", nargs="+", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--geoip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scope", default="all")
    ap.add_argument("--first", default="2024-01-01")
    ap.add_argument("--end", type=int, default=0)
    ap.add_argument("--t5-from", choices=("alerts", "day_buckets"), default="alerts",
                    help="what T5 must read")
    ap.add_argument("--victims-from", choices=("host", "alert", "none"), default="host",
                    help="where T6's home or abroad must come from")
    ap.add_argument("--only", action="store_true",
                    help="T5 and T6 only (a report that differs from one checked whole "
                         "in those alone)")
    a = ap.parse_args()
    truth = Truth(a.truth)
    sensors = conf_sensors(a.conf)
    a.surge_min_pkts = surge_min_pkts(a.conf)
    r = redis.Redis(port=a.port, decode_responses=True)
    if a.what == "report":
        check_report(a, truth, sensors, r)
        if not a.only:
            check_pngs(a)
    else:
        check_recipes(a, truth, sensors, r)
    return 0


if __name__ == "__main__":
    main()
