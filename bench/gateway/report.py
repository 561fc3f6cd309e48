#!/usr/bin/env python3
"""Turn the wrk results of bench/gateway/run.sh into a table; print it and put it
into bench/RESULTS.md between the gateway markers (other sections are kept)."""
import datetime
import json
import os
import re

env = os.environ
rows = [json.loads(line) for line in open(env["BENCH_RESULTS"]) if line.strip()]
res = {(r["case"], r["target"], r["c"]): r["wrk"] for r in rows}
STREAM_CHUNKS = 100  # content chunks in the static SSE body (plus role, finish, usage, [DONE])


def ms(us):
    return us / 1000.0


def rps(w):
    return w["requests"] / (w["duration_us"] / 1e6)


def fmt(x, nd=3):
    return "n/a" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


lines = []
verdicts = []
for case, title in (("json", "Non-stream JSON (623 B answer)"),
                    ("sse", f"Stream SSE ({STREAM_CHUNKS} content chunks, 26 KB)")):
    lines.append(f"### {title}\n")
    lines.append("| c | target | RPS | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for c in (1, 32):
        d = res.get((case, "direct", c))
        for target in ("direct", "nginx", "warden"):
            w = res.get((case, target, c))
            if not w:
                continue
            add50 = ms(w["p50_us"] - d["p50_us"]) if d and target != "direct" else None
            add99 = ms(w["p99_us"] - d["p99_us"]) if d and target != "direct" else None
            errs = w["socket_errors"] + w["non2xx"]
            lines.append(f"| {c} | {target} | {rps(w):,.0f} | {fmt(ms(w['p50_us']))} | {fmt(ms(w['p99_us']))} | "
                         f"{fmt(add50)} | {fmt(add99)} | {errs} |")
    lines.append("")
    d1, n1, w1 = (res.get((case, t, 1)) for t in ("direct", "nginx", "warden"))
    n32, w32 = res.get((case, "nginx", 32)), res.get((case, "warden", 32))
    add_n = ms(n1["p50_us"] - d1["p50_us"]) if d1 and n1 else None
    add_w = ms(w1["p50_us"] - d1["p50_us"]) if d1 and w1 else None
    r_lat = ratio(add_w, add_n) if add_n and add_n > 0 else None
    r_rps = ratio(rps(w32), rps(n32)) if w32 and n32 else None
    lines.append(f"- warden/nginx added p50 at c=1: {fmt(r_lat, 2)} (warden +{fmt(add_w)} ms, nginx +{fmt(add_n)} ms)")
    lines.append(f"- warden/nginx RPS at c=32: {fmt(r_rps, 2)}")
    if case == "sse" and add_w is not None:
        lines.append(f"- warden added latency per streamed chunk at c=1: {fmt(add_w * 1000 / STREAM_CHUNKS, 1)} µs "
                     f"(nginx {fmt(add_n * 1000 / STREAM_CHUNKS, 1) if add_n is not None else 'n/a'} µs)")
    if case == "json":
        if r_lat is not None:
            verdicts.append(("added p50 at c=1 ≤ 1.5× nginx", r_lat <= 1.5, f"{r_lat:.2f}×"))
        if r_rps is not None:
            verdicts.append(("c=32 RPS ≥ 0.8× nginx", r_rps >= 0.8, f"{r_rps:.2f}×"))
    lines.append("")

rss_idle = int(env.get("BENCH_RSS_IDLE") or 0) / 1024
rss_load = int(env.get("BENCH_RSS_LOAD") or 0) / 1024
rss_peak = int(env.get("BENCH_RSS_PEAK") or 0) / 1024
lines.append("### Memory (warden)\n")
lines.append(f"- RSS idle (after start and one request per path): {rss_idle:.1f} MB")
lines.append(f"- RSS under load (max sampled during json c=32): {rss_load:.1f} MB; peak (VmHWM) over the whole run: {rss_peak:.1f} MB")
verdicts.append(("idle RSS < 64 MB", rss_idle < 64, f"{rss_idle:.1f} MB"))
lines.append("")
lines.append("### Targets (reported, not asserted)\n")
for name, ok, val in verdicts:
    lines.append(f"- {'met' if ok else 'MISSED'}: {name} — {val}")
lines.append("")

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
head = [
    f"## Gateway overhead — {now}\n",
    f"Machine: {env.get('BENCH_NPROC')} × {env.get('BENCH_CPU')}; load average at the end {env.get('BENCH_LOAD')}; "
    f"warden {env.get('BENCH_WARDEN_REV')}; warden threads = nginx proxy workers = {env.get('BENCH_THREADS')}; "
    f"wrk {env.get('BENCH_DURATION')} s per cell (c=1: 1 thread, c=32: 2 threads), all on loopback.",
    "Upstream: nginx serving static DeepSeek-like bodies; \"added\" = target minus direct at the same percentile.",
    "",
]
section = "\n".join(head + lines)
print(section)

if env.get("BENCH_WRITE") == "1":
    path = env["BENCH_RESULTS_MD"]
    begin, end = "<!-- gateway:begin -->", "<!-- gateway:end -->"
    block = f"{begin}\n{section}\n{end}"
    old = open(path).read() if os.path.exists(path) else "# Benchmark results\n\nWritten by `bench/run` (`scripts/dev bench`). Numbers depend on the machine and its load; compare only rows from the same run.\n"
    if begin in old and end in old:
        new = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(new)
    print(f"(written to {path})")
