#!/usr/bin/env python3
"""bench/report.py - turns bench/run.sh's raw measurements into the results
JSON and the Markdown table (bench/results/latest.md). Standard library only.

Inputs: the runs TSV (round, name, wall_s, maxrss_kb[, json]) written by
run.sh, the generator's JSON, write_load.sh's JSON and Google Benchmark's JSON.
Medians are over rounds; MB = 10^6 bytes; MiB = 2^20 bytes.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:
        return ""


def machine_info(load_before, load_after):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "mem_total_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "sqlite3": sh("sqlite3 --version").split(" ")[0],
        "gzip": sh("gzip --version | head -1"),
        "aws_cli": sh("aws --version 2>&1").split(" ")[0],
    }


def med(xs):
    xs = [x for x in xs if x is not None]  # older dbbackup JSON lacks some stage times
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    for a in ["runs", "gen", "db-bytes", "size", "rounds", "store", "load-before",
              "load-after", "write-load", "micro", "commit", "json-out", "md-out"]:
        ap.add_argument("--" + a, required=True)
    a = ap.parse_args()
    db_bytes = int(a.db_bytes)
    gen = json.load(open(a.gen))

    wall = defaultdict(dict)   # name -> round -> seconds
    rss = defaultdict(dict)    # name -> round -> kB
    docs = defaultdict(dict)   # name -> round -> parsed JSON
    for line in open(a.runs):
        f = line.rstrip("\n").split("\t")
        rnd, name = int(f[0]), f[1]
        if name.endswith(".json"):
            docs[name[:-5]][rnd] = json.loads(f[4])
        else:
            wall[name][rnd] = float(f[2])
            rss[name][rnd] = int(f[3])
    rounds = sorted({r for d in wall.values() for r in d})

    def per_round_sum(names):
        return [sum(wall[n][r] for n in names) for r in rounds]

    def per_round_max_rss(names):
        return [max(rss[n][r] for n in names) for r in rounds]

    cron_b = ["cron.snapshot", "cron.gzip", "cron.upload"]
    cron_r = ["cron.download", "cron.gunzip"]
    cron_ratio = med([db_bytes / wall["cron.size"][r] for r in rounds])
    rows = []

    def add(label, kind, walls, rss_kb, ratio, stages=None):
        rows.append({"label": label, "kind": kind, "seconds": med(walls),
                     "seconds_all": walls, "mb_s": db_bytes / 1e6 / med(walls),
                     "compression_ratio": ratio, "peak_rss_mib": med(rss_kb) / 1024,
                     "stages_s": stages or {}})

    local = a.store.startswith("local")
    put, get = ("cp", "cp") if local else ("aws s3 cp", "aws s3 cp")
    add(f"cron: sqlite3 .backup + gzip -6 + {put}", "backup", per_round_sum(cron_b),
        per_round_max_rss(cron_b), cron_ratio,
        {"snapshot": med(list(wall["cron.snapshot"].values())),
         "compress": med(list(wall["cron.gzip"].values())),
         "upload": med(list(wall["cron.upload"].values()))})
    for c in ["gzip", "zstd"]:
        n = "dbb.backup." + c
        d = [docs[n][r] for r in rounds]
        add(f"dbbackup backup --compression {c}", "backup", [wall[n][r] for r in rounds],
            [rss[n][r] for r in rounds], med([x["compression_ratio"] for x in d]),
            {"snapshot": med([x["snapshot_s"] for x in d]),
             "compress": med([x["compress_s"] for x in d]),
             "upload": med([x["upload_s"] for x in d]),
             "reported_duration": med([x["duration_s"] for x in d])})
    add(f"cron: {get} + gunzip (no verification)", "restore", per_round_sum(cron_r),
        per_round_max_rss(cron_r), None,
        {"download": med(list(wall["cron.download"].values())),
         "decompress": med(list(wall["cron.gunzip"].values()))})
    for c in ["gzip", "zstd"]:
        n = "dbb.restore." + c
        d = [docs[n][r] for r in rounds]
        add(f"dbbackup restore --to ({c}; sha256 + integrity_check)", "restore",
            [wall[n][r] for r in rounds], [rss[n][r] for r in rounds], None,
            {"download+decompress": med([x.get("download_s") for x in d]),
             "check": med([x.get("check_s") for x in d]),
             "replace": med([x.get("replace_s") for x in d]),
             "reported_duration": med([x["duration_s"] for x in d])})
    base = {k: next(r["seconds"] for r in rows if r["kind"] == k and r["label"].startswith("cron"))
            for k in ["backup", "restore"]}
    for r in rows:
        r["speedup_vs_cron"] = base[r["kind"]] / r["seconds"]

    probes = {n.split(".", 1)[1]: med(list(wall[n].values()))
              for n in wall if n.startswith("probe.")}
    wl = json.load(open(a.write_load))
    micro = json.load(open(a.micro))
    micro_rows = []
    for b in micro.get("benchmarks", []):
        if b.get("aggregate_name", "median") != "median":
            continue
        micro_rows.append({
            "name": b.get("run_name", b["name"]),
            "real_time": b.get("real_time"), "time_unit": b.get("time_unit"),
            "mb_s": b["bytes_per_second"] / 1e6 if "bytes_per_second" in b else None,
            "ratio": b.get("ratio")})

    targets = []
    gz = next(r for r in rows if r["label"].endswith("gzip") and r["kind"] == "backup")
    zs = next(r for r in rows if r["label"].endswith("zstd") and r["kind"] == "backup")
    rs = next(r for r in rows if r["kind"] == "restore" and "gzip;" in r["label"])
    targets.append(("backup gzip >= 5x cron", f"{gz['speedup_vs_cron']:.2f}x",
                    gz["speedup_vs_cron"] >= 5))
    targets.append(("gzip ratio no worse than gzip -6", f"{gz['compression_ratio']:.2f} vs "
                    f"{cron_ratio:.2f}", gz["compression_ratio"] >= cron_ratio * 0.995))
    targets.append(("backup zstd >= 10x cron", f"{zs['speedup_vs_cron']:.2f}x",
                    zs["speedup_vs_cron"] >= 10))
    targets.append(("restore (verified) >= 2x cron", f"{rs['speedup_vs_cron']:.2f}x",
                    rs["speedup_vs_cron"] >= 2))
    peak = max(r["peak_rss_mib"] for r in rows if r["label"].startswith("dbbackup"))
    targets.append((f"peak RSS <= 64 MiB (this run: {a.size})", f"{peak:.1f} MiB", peak <= 64))
    if wl.get("backup_idle_s"):
        f = wl["backup_loaded_s"] / wl["backup_idle_s"]
        targets.append(("backup under 500 tx/s <= 2x idle", f"{f:.2f}x", f <= 2))
        rise = wl["writer_loaded"]["p99_ms"] - wl["writer_baseline"]["p99_ms"]
        targets.append(("writer p99 rise < 2 ms", f"{rise:+.2f} ms", rise < 2))

    result = {
        "date_utc": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
        "commit": a.commit,
        "machine": machine_info(a.load_before, a.load_after),
        "database": {"size_flag": a.size, "bytes": db_bytes, "generator": gen},
        "store": a.store, "rounds": int(a.rounds),
        "rows": rows,
        "cron_stage_rounds_s": {n: [wall[n][r] for r in rounds] for n in cron_b + cron_r},
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets],
        "restore_probes_s": probes,
        "write_load": wl,
        "micro": micro_rows,
    }
    with open(a.json_out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    m = result["machine"]
    L = []
    L.append(f"# dbbackup benchmark - {result['date_utc']}\n")
    L.append(f"Machine: `{m['host']}`, {m['nproc']} cores ({m['cpu_model']}), "
             f"{m['mem_total_gib']} GiB RAM, Linux {m['kernel']}; load average "
             f"{m['load_average_before']} before, {m['load_average_after']} after "
             f"(1/5/15 min). Commit `{a.commit}`.\n")
    L.append(f"Database: generated, {db_bytes / 1e6:.1f} MB ({a.size}, seed "
             f"{gen.get('seed')}, {gen.get('tables')} tables, {gen.get('indexes')} indexes, "
             f"{gen.get('rows'):,} rows, WAL). Store: {a.store}. Medians of {a.rounds} "
             f"alternated rounds. MB/s = database MB / wall second. Speed-up = cron "
             f"pipeline's time / this time.\n")
    L.append("| run | seconds | MB/s | ratio | peak RSS MiB | speed-up vs cron | stages (median s) |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        st = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items() if v is not None)
        ratio = f"{r['compression_ratio']:.2f}" if r["compression_ratio"] else ""
        L.append(f"| {r['label']} | {r['seconds']:.2f} | {r['mb_s']:.1f} | {ratio} | "
                 f"{r['peak_rss_mib']:.1f} | {r['speedup_vs_cron']:.2f}x | {st} |")
    L.append("")
    L.append("Per-round seconds: " + "; ".join(
        f"{r['label'].split(' (')[0]}: " + ", ".join(f"{s:.2f}" for s in r["seconds_all"])
        for r in rows) + "\n")
    L.append("| target (issue 5) | measured | met |")
    L.append("|---|---|---|")
    for t in result["targets"]:
        L.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    L.append("")
    if probes:
        L.append("Restore stage probes on the same database (median s): " + ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(probes.items())) + "; download and "
            "decompression: see the cron restore row.\n")
    if wl.get("backup_idle_s"):
        L.append(f"## Write load ({wl['rate']} tx/s, WAL, synchronous={wl['sync']})\n")
        L.append("| | seconds / p50 ms | p99 ms | p99.9 ms | max ms | commits/s |")
        L.append("|---|---:|---:|---:|---:|---:|")
        L.append(f"| dbbackup backup, idle (median) | {wl['backup_idle_s']:.2f} s | | | | |")
        L.append(f"| dbbackup backup, under load (median) | {wl['backup_loaded_s']:.2f} s "
                 f"({wl['backup_loaded_s'] / wl['backup_idle_s']:.2f}x idle; snapshot "
                 f"{wl['snapshot_idle_s']:.2f} s idle, {wl['snapshot_loaded_s']:.2f} s loaded) | | | | |")
        for k, lab in [("writer_baseline", "writer, no backup running"),
                       ("writer_loaded", "writer, while dbbackup backs up")]:
            w = wl[k]
            L.append(f"| {lab} | {w['p50_ms']:.2f} | {w['p99_ms']:.2f} | {w['p999_ms']:.2f} | "
                     f"{w['max_ms']:.2f} | {w['rate_per_s']:.0f} |")
        c = wl["cli_backup"]
        L.append(f"| `sqlite3 .backup` idle | {c['idle_s']:.2f} s | | | | |")
        verdict = (f"did not finish; killed after {c['limit_s']} s" if not c["finished"]
                   else f"finished in {c['loaded_s']:.2f} s")
        L.append(f"| `sqlite3 .backup` under load | {verdict} | | | | |")
        L.append("")
    if micro_rows:
        L.append("## Micro-benchmarks (Google Benchmark, median of 3; input: the first "
                 "32 MiB of the database)\n")
        L.append("| benchmark | time | MB/s | ratio |")
        L.append("|---|---:|---:|---:|")
        for b in micro_rows:
            mbs = f"{b['mb_s']:.0f}" if b["mb_s"] else ""
            rt = f"{b['ratio']:.2f}" if b["ratio"] else ""
            L.append(f"| {b['name']} | {b['real_time']:,.1f} {b['time_unit']} | {mbs} | {rt} |")
        L.append("")
    md = "\n".join(L)
    with open(a.md_out, "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
