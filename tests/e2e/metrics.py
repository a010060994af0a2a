#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of --metrics (doc/operations.md, "Metrics"): the real
Prometheus server from Debian scrapes dpflow, its query API gives the values
dpflow's exit summary gives, promtool finds no problem in a scrape, and bad
--metrics values are refused naming the option.

Usage: metrics.py CASE     Environment as for e2e.py.
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from cli import Pty, expected_rows  # noqa: E402
import e2e  # noqa: E402  (e2e.main: the __main__ of every script)
from e2e import EAL, EAL1, META, SAMPLE, SKIP, Fail, check, counters, run  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_prometheus():
    if not (os.path.exists(PROMETHEUS) and os.path.exists(PROMTOOL)):
        print("SKIP: prometheus/promtool not installed (tools/deps.sh installs them)")
        sys.exit(SKIP)


def http_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


@contextlib.contextmanager
def prometheus(tmp, target):
    """Prometheus scraping target every second; yields its base URL. Ends it by PID."""
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: dpflow\n    static_configs:\n"
                f"      - targets: ['{target}']\n")
    port = free_port()
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    p = subprocess.Popen([PROMETHEUS, "--config.file", cfg,
                          "--storage.tsdb.path", os.path.join(tmp, "tsdb"),
                          "--web.listen-address", f"127.0.0.1:{port}"],
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", os.path.join(tmp, "prometheus.log")
    finally:
        p.terminate()
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def poll(what, fn, timeout=180):
    """fn() until it returns something true; Fail naming what after timeout."""
    end, last = time.time() + timeout, None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except (OSError, ValueError) as e:  # not listening yet, half-written answer
            last = e
        time.sleep(0.5)
    raise Fail(f"timed out waiting for {what} ({last})")


def target_up(base):
    t = http_json(base + "/api/v1/targets")["data"]["activeTargets"]
    return t and t[0]["health"] == "up" and t


def query(base, expr):
    """The instant vector's single value, or None while it has none."""
    r = http_json(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    res = r["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def query_at_least(base, expr, want):
    """expr's value once Prometheus has scraped it at least at want (scrapes lag)."""
    return poll(f"{expr} >= {want}",
                lambda: (lambda v: v if v is not None and v >= want else None)(query(base, expr)))


def scrape_linted(t, mport, done):
    """At dpflow's prompt (t): wait for the replay's end (the line done),
    scrape /metrics with curl, check it with promtool; the scrape's text."""
    t.read_until(r"dpflow> ")
    t.send("wait\r")
    t.read_until(done)
    scrape = subprocess.run(["curl", "-sS", "--fail", f"http://127.0.0.1:{mport}/metrics"],
                            capture_output=True, text=True, timeout=60)
    check(scrape.returncode == 0, f"curl: {scrape.stderr}")
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=scrape.stdout,
                          capture_output=True, text=True, timeout=60)
    check(lint.returncode == 0 and lint.stdout.strip() == "" and
          lint.stderr.strip() == "", f"promtool: {lint.stdout} {lint.stderr}")
    return scrape.stdout


def case_prometheus():
    """dpflow --metrics scraped by the real Prometheus: the series Prometheus
    stores equal dpflow's exit summary and the model's records; promtool
    check metrics finds no problem in a curl scrape."""
    need_prometheus()
    mport = free_port()
    ok = [l.split() for l in expected_rows()]
    with tempfile.TemporaryDirectory() as tmp:
        t = Pty(EAL1 + ["--", "--replay", SAMPLE, "--window", "60", "--output",
                        os.path.join(tmp, "o"), "--metrics", f"127.0.0.1:{mport}", "-i"] + META)
        try:
            scrape_linted(t, mport, r"records: 45")
            with prometheus(tmp, f"127.0.0.1:{mport}") as (base, log):
                up = poll("the dpflow target up", lambda: target_up(base))
                check(up[0]["labels"]["job"] == "dpflow", f"target: {up}")
                got = {
                    "rx": query_at_least(base, "sum(dpflow_rx_packets_total)", 1),
                    "logged": query_at_least(base, "sum(dpflow_logged_packets_total)", 1),
                    "records": query_at_least(base, "dpflow_pipeline_records_total", 1),
                    "files": query_at_least(base, "dpflow_writer_files_total", 1),
                    "iface_packets": query_at_least(
                        base, 'sum(dpflow_interface_packets_total'
                        '{interface="eni-1235b8ca123456789"})', 1),
                    "iface_bytes": query_at_least(base, "sum(dpflow_interface_bytes_total)", 1),
                    "iface_flows": query_at_least(base, "sum(dpflow_interface_flows_total)", 1),
                    "port0": query_at_least(base, 'sum by (port) '
                                            '(dpflow_rx_packets_total{port="0"})', 1),
                    "ok": query(base, "dpflow_conservation_ok"),
                }
        finally:
            t.send("quit\r")
            rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    c = counters(err)
    check(c["conservation"] == "ok", "conservation")
    check(got["rx"] == int(c["total rx-packets"]) == got["port0"] == 88,
          f"rx packets: Prometheus {got['rx']}, summary {c['total rx-packets']}")
    check(got["logged"] == int(c["total logged-packets"]), f"logged: {got}")
    check(got["records"] == int(c["pipeline records"]) == len(ok), f"records: {got}")
    check(got["files"] == int(c["writer files"]), f"files: {got} vs {c['writer files']}")
    check(got["iface_packets"] == sum(int(r[8]) for r in ok) and
          got["iface_bytes"] == sum(int(r[9]) for r in ok) and got["iface_flows"] == len(ok),
          f"per interface: {got} vs the model's records")
    check(got["ok"] == 1, f"dpflow_conservation_ok: {got['ok']}")


def tenant_vnis(conf):
    """interface-id -> vni of the config's tenant sections."""
    vni, iface = {}, None
    for line in open(conf):
        m = re.match(r"\[interface (\S+)\]", line)
        if m:
            iface = m.group(1)
        m = re.match(r"vni = (\d+)", line)
        if m and iface:
            vni[iface] = int(m.group(1))
    return vni


def case_tenant_vni():
    """--decap: per-VNI traffic from the metrics. Each tenant interface has a
    dpflow_interface_tenant_info series naming its vni; Prometheus's join of
    the interfaces' counters with it (the query doc/configuration.md gives)
    sums each VNI's packets and bytes as tools/gencap.py overlay's model does
    (its records, by their tenant interface's vni); the exit summary has a
    vni line per tenant interface; promtool finds no problem in a scrape."""
    need_prometheus()
    mport = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        pcap, model, conf = (os.path.join(tmp, n) for n in ("o.pcap", "o.json", "o.conf"))
        subprocess.run([sys.executable, e2e.GENCAP, "overlay", pcap, "--expect", model,
                        "--config", conf, "--decap", "all", "--seed", "7"], check=True,
                       capture_output=True)
        vni = tenant_vnis(conf)
        want = {v: (0, 0) for v in vni.values()}     # an idle tenant counts 0
        for r in json.load(open(model))["records"]:
            if r["log_status"] == "OK" and r["interface_id"] in vni:
                p, b = want.get(vni[r["interface_id"]], (0, 0))
                want[vni[r["interface_id"]]] = (p + r["packets"], b + r["bytes"])
        check(sum(1 for p, b in want.values() if p > 0) >= 5 and want[0][0] > 0,
              f"the model's VNIs: {want}")
        t = Pty(EAL1 + ["--", "--config", conf, "--decap", "all", "--replay", pcap, "--window",
                        "60", "--output", os.path.join(tmp, "o"), "--metrics",
                        f"127.0.0.1:{mport}", "-i"] + META)
        try:
            scrape = scrape_linted(t, mport, r"records: \d+")
            info = re.findall(r'^dpflow_interface_tenant_info\{interface="([^"]+)",port="0",'
                              r'vni="(\d+)"\} 1$', scrape, re.M)
            check({i: int(v) for i, v in info} == vni, f"tenant_info series: {info} vs {vni}")
            got = {}
            with prometheus(tmp, f"127.0.0.1:{mport}") as (base, log):
                poll("the dpflow target up", lambda: target_up(base))
                for what in ("packets", "bytes"):
                    expr = (f"sum by (vni) (dpflow_interface_{what}_total * on(interface, port) "
                            "group_left(vni) dpflow_interface_tenant_info)")
                    total = sum(v[what == "bytes"] for v in want.values())
                    query_at_least(base, f"sum({expr})", total)
                    r = http_json(base + "/api/v1/query?" + urllib.parse.urlencode(
                        {"query": expr}))["data"]["result"]
                    got[what] = {int(x["metric"]["vni"]): int(float(x["value"][1])) for x in r}
        finally:
            t.send("quit\r")
            rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    for what, k in (("packets", 0), ("bytes", 1)):
        check(got[what] == {v: n[k] for v, n in want.items()},
              f"per-VNI {what}: Prometheus {got[what]}, the model {want}")
    summary = dict(re.findall(r"^interface (\S+) port 0 vni: (\d+)$", err, re.M))
    check({i: int(v) for i, v in summary.items()} == vni, f"summary vni lines: {summary}")


def case_bad_option():
    """--metrics values that cannot serve are refused before the run,
    naming the option, the value and the reason."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    cases = [
        ("127.0.0.1", "expected ADDR:PORT"),
        ("127.0.0.1:", "expected ADDR:PORT"),
        (":9100", "expected ADDR:PORT"),
        ("127.0.0.1:0", "port '0': expected 1..65535"),
        ("127.0.0.1:65536", "port '65536': expected 1..65535"),
        ("127.0.0.1:http", "port 'http': expected 1..65535"),
        ("::1:9100", "IPv6 address goes in brackets"),
        ("[::1:9100", "IPv6 address goes in brackets"),
        ("no-such-host.invalid:9100", "address 'no-such-host.invalid'"),
        (f"127.0.0.1:{taken}", "cannot listen: Address already in use"),
        ("192.0.2.1:9100", "cannot listen: Cannot assign requested address"),
    ]
    try:
        with tempfile.TemporaryDirectory() as d:
            for value, why in cases:
                rc, out, err = run(EAL1, ["--replay", SAMPLE, "--output", os.path.join(d, "o"),
                                          "--metrics", value] + META)
                check(rc != 0, f"--metrics {value!r} accepted")
                check(f"--metrics '{value}': " in err and why in err,
                      f"--metrics {value!r}: want {why!r} in: {err[-600:]}")
                check("rx-packets" not in err, f"--metrics {value!r}: the run started")
    finally:
        busy.close()


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    e2e.main(CASES)
