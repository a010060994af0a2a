#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the exporters, against real third-party systems on
loopback only:

- object storage: s3rver (npm) behind s3gate.py (checks SigV4 like S3 does),
  objects checked with Debian's AWS CLI (/usr/bin/aws);
- IPFIX: nfcapd/nfdump from Debian's nfdump over UDP, and a collector written
  here (an independent RFC 7011 decoder) over TCP;
- the scale-out query: DuckDB (npm @duckdb/node-api) running the SQL of
  doc/scale-out.md over the files fetched from the bucket.

Missing tools are installed (apt-get, npm into $NPM_DIR); a case exits 77
(skipped) only when that is impossible. Every server is started and stopped
here, bound to 127.0.0.1 or ::1; every wait is bounded.

Usage: export.py CASE
Environment: DPFLOW, GENCAP, DATA, NPM_DIR, S3GATE, SCALE_OUT_DOC
"""
import calendar
import collections
import contextlib
import fcntl
import glob
import gzip
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

DPFLOW = os.environ["DPFLOW"]
GENCAP = os.environ["GENCAP"]
DATA = os.environ["DATA"]
NPM_DIR = os.environ["NPM_DIR"]
S3GATE = os.environ["S3GATE"]
SCALE_OUT_DOC = os.environ["SCALE_OUT_DOC"]
SAMPLE = os.path.join(DATA, "sample.pcap")
SKIP = 77
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
       # The exit summary whole, lines of value 0 too: these tests read them.
       "--log-level=dpflow.control:debug",
       "-l", "0-1"]
ACCOUNT = "123456789010"
ENI = "eni-1235b8ca123456789"
META = ["--account-id", ACCOUNT, "--interface-id", ENI, "--region", "eu-west-1"]
AWS = "/usr/bin/aws"  # Debian's awscli, not whatever else is on PATH
BUCKET = "flow-logs"
# The identity dpflow signs with; the secret must never show in its output.
AKID = "AKIDDPFLOWEXPORTTEST"
SECRET = "dpflow/Test+Secret/K7MDENG+bPxRfiCYEXAMPLEKEY"
S3RVER_VERSION = "3.7.1"
DUCKDB_VERSION = "1.5.6-r.1"
# NAT and ACL rules for the IPFIX cases: post-NAT views that differ from the
# packet (IPv4 and IPv6 clients of tools/gencap.py random) and REJECT records.
NAT_ACL = ["--nat-rule", "static 10.1.0.0/16 100.64.0.0/16",
           "--nat-rule", "static 2001:db8:1::/48 2001:db8:ffff::/48",
           "--acl-rule", "deny udp any any any any"]
TEXT_FMT = ("${interface-id} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-srcport} "
            "${pkt-dstport} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
            "${bytes} ${start} ${end} ${action} ${tcp-flags-all} ${log-status}")


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------- tools

@contextlib.contextmanager
def install_lock():
    """Tests run in parallel: one installer at a time (apt and npm)."""
    os.makedirs(NPM_DIR, exist_ok=True)
    with open(os.path.join(NPM_DIR, ".install.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def dpkg_installed(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return p.returncode == 0 and "install ok installed" in p.stdout


def apt_install(*pkgs):
    missing = [p for p in pkgs if not dpkg_installed(p)]
    if not missing:
        return
    with install_lock():
        missing = [p for p in pkgs if not dpkg_installed(p)]
        if not missing:
            return
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        opts = ["-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"]
        p = subprocess.run(sudo + ["apt-get", "install"] + opts + missing, env=env,
                           capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            subprocess.run(sudo + ["apt-get", "update", "-q"], env=env, capture_output=True,
                           timeout=900)
            p = subprocess.run(sudo + ["apt-get", "install"] + opts + missing, env=env,
                               capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise Skip(f"cannot install {' '.join(missing)}: {p.stderr.strip()[-300:]}")


def node_module(name):
    return os.path.join(NPM_DIR, "node_modules", name)


def npm_install():
    """s3rver and DuckDB from the npm registry, once per build directory."""
    want = {"s3rver": S3RVER_VERSION, "@duckdb/node-api": DUCKDB_VERSION}

    def have():
        for name, ver in want.items():
            try:
                with open(os.path.join(node_module(name), "package.json")) as f:
                    if json.load(f).get("version") != ver:
                        return False
            except OSError:
                return False
        return True

    if have():
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        apt_install("nodejs", "npm")
    with install_lock():
        if have():
            return
        env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
        p = subprocess.run(["npm", "install", "--prefix", NPM_DIR, "--no-audit", "--no-fund",
                            "--no-save", "--loglevel=error"] +
                           [f"{n}@{v}" for n, v in want.items()],
                           capture_output=True, text=True, timeout=600, env=env)
        if p.returncode != 0 or not have():
            raise Skip(f"npm install failed: {p.stderr.strip()[-300:]}")


def need_s3():
    apt_install("awscli")
    npm_install()


# ---------------------------------------------------------------- processes

def clean_env(**extra):
    """No proxy (loopback only), no AWS settings from the machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("AWS_")}
    env.update(TZ="UTC")
    env.update(extra)
    return env


def creds_env(akid=AKID, secret=SECRET):
    return clean_env(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret)


def run_dpflow(opts, env=None, timeout=120):
    cmd = [DPFLOW] + EAL + ["--"] + opts
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env if env is not None else clean_env())
    return p.returncode, p.stdout, p.stderr


def counters(stderr):
    out = {}
    for line in stderr.splitlines():
        m = re.fullmatch(r"([a-z0-9 -]+): (\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def read_line(proc, pattern, timeout, what):
    """Read proc's stdout (unbuffered: select must see what is left) until a
    line matches; returns the match."""
    deadline = time.time() + timeout
    fd = proc.stdout.fileno()
    buf = b""
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
        if not r:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            m = re.search(pattern, line)
            if m:
                return m
    raise Fail(f"{what} did not start: {buf.decode(errors='replace')[-500:]}")


@contextlib.contextmanager
def process(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, **kw)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for s in (p.stdout, p.stderr):
            if s:
                s.close()


@contextlib.contextmanager
def s3rver(tmp, buckets=(BUCKET,)):
    d = os.path.join(tmp, "s3rver-data")
    os.makedirs(d, exist_ok=True)
    cmd = ["node", os.path.join(node_module("s3rver"), "bin", "s3rver.js"), "-d", d,
           "-a", "127.0.0.1", "-p", "0", "--silent"]
    for b in buckets:
        cmd += ["--configure-bucket", b]
    with process(cmd, env=clean_env()) as p:
        m = read_line(p, r"listening on 127\.0\.0\.1:(\d+)", 60, "s3rver")
        yield f"http://127.0.0.1:{m.group(1)}"


@contextlib.contextmanager
def gate(backend, tmp, *args):
    log = os.path.join(tmp, f"gate-{time.monotonic_ns()}.log")
    cmd = [sys.executable, S3GATE, "--backend", backend, "--creds", f"{AKID}:{SECRET}",
           "--log", log] + list(args)
    with process(cmd, env=clean_env()) as p:
        m = read_line(p, r"^PORT (\d+)", 30, "s3gate")
        yield int(m.group(1)), log


def aws(backend, *args, timeout=120):
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER",
                    AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                    AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    p = subprocess.run([AWS, "--endpoint-url", backend] + list(args), capture_output=True,
                       text=True, timeout=timeout, env=env)
    check(p.returncode == 0, f"aws {' '.join(args)}: {p.stderr[-500:]}")
    return p.stdout


def list_objects(backend, prefix):
    """key -> size, with the AWS CLI."""
    out = aws(backend, "s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", prefix,
              "--output", "json")
    data = json.loads(out) if out.strip() else {}
    return {o["Key"]: o["Size"] for o in data.get("Contents", [])}


def fetch_prefix(backend, prefix, dest):
    """Every object under prefix, fetched with one `aws s3 sync`: key -> bytes."""
    aws(backend, "s3", "sync", "--no-progress", f"s3://{BUCKET}/{prefix}", dest)
    out = {}
    for p in files_under(dest):
        with open(p, "rb") as f:
            out[prefix + os.path.relpath(p, dest)] = f.read()
    return out


def decompress(name, data):
    if name.endswith(".gz"):
        return gzip.decompress(data).decode()
    if name.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq"], input=data, capture_output=True,
                              check=True).stdout.decode()
    return data.decode()


def files_under(d):
    return sorted(p for p in glob.glob(os.path.join(d, "**", "*"), recursive=True)
                  if os.path.isfile(p))


def temporaries_under(d):
    """The dot files (temporaries) below d, which files_under() leaves out."""
    return sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.startswith("."))


def reference(capture=SAMPLE, extra=(), fmt=None):
    """dpflow's own text records of a capture (header, rows)."""
    opts = ["--replay", capture, "--window", "60", "--output", "-"] + META + list(extra)
    if fmt:
        opts += ["--log-format", fmt]
    rc, out, err = run_dpflow(opts)
    check(rc == 0, f"reference run: exit {rc}: {err[-1000:]}")
    lines = out.splitlines()
    return lines[0], lines[1:]


def gencap(path, seed, packets, flows, v6=0.25, window=60, pps=2000):
    subprocess.run([sys.executable, GENCAP, "random", path, "--packets", str(packets),
                    "--flows", str(flows), "--seed", str(seed), "--v6-share", str(v6),
                    "--window", str(window), "--pps", str(pps)], check=True,
                   capture_output=True)


def s3_opts(endpoint, out, *extra):
    return ["--output", out, "--s3-bucket", BUCKET, "--s3-endpoint", endpoint] + list(extra)


def check_no_secret(*texts):
    for t in texts:
        check(SECRET not in t and "Test+Secret" not in t, "the secret key appears in dpflow's output")


# ---------------------------------------------------------------- S3 cases

LAYOUT_RE = {
    "plain": r"AWSLogs/{a}/vpcflowlogs/{r}/(?P<y>\d{{4}})/(?P<m>\d\d)/(?P<d>\d\d)/",
    "hourly": r"AWSLogs/{a}/vpcflowlogs/{r}/(?P<y>\d{{4}})/(?P<m>\d\d)/(?P<d>\d\d)/(?P<h>\d\d)/",
    "hive": r"AWSLogs/aws-account-id={a}/aws-service=vpcflowlogs/aws-region={r}/"
            r"year=(?P<y>\d{{4}})/month=(?P<m>\d\d)/day=(?P<d>\d\d)/",
    "hive-hourly": r"AWSLogs/aws-account-id={a}/aws-service=vpcflowlogs/aws-region={r}/"
                   r"year=(?P<y>\d{{4}})/month=(?P<m>\d\d)/day=(?P<d>\d\d)/hour=(?P<h>\d\d)/",
}
NAME_RE = (r"{a}_vpcflowlogs_{r}_(?P<fl>[^_]+)_(?P<stamp>(?P<sy>\d{{4}})(?P<sm>\d\d)(?P<sd>\d\d)"
           r"T(?P<sh>\d\d)(?P<smin>\d\d)Z)_[0-9a-f]{{8}}\.log(\.zst|\.gz)?")


def check_key(key, prefix, layout):
    rx = re.escape(prefix) + "/" + LAYOUT_RE[layout].format(a=ACCOUNT, r="eu-west-1") + \
        NAME_RE.format(a=ACCOUNT, r="eu-west-1")
    m = re.fullmatch(rx, key)
    check(m is not None, f"{layout}: key not in the layout: {key}")
    check((m["y"], m["m"], m["d"]) == (m["sy"], m["sm"], m["sd"]), f"date folders: {key}")
    if "h" in m.groupdict() and m["h"] is not None:
        check(m["h"] == m["sh"], f"hour folder: {key}")
    check(int(m["smin"]) % 5 == 0, f"not a 5-minute slot: {key}")


def case_s3_upload():
    """Every layout, both URL styles, every compression: the objects are named
    as formats.md says, hold exactly the records dpflow wrote, and the spool
    empties (keep-local: the bucket holds the local files byte for byte)."""
    need_s3()
    header, want = reference()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp) as (port, log):
        combos = [("plain", "path", "zstd", True), ("hourly", "virtual", "gzip", False),
                  ("hive", "path", "none", False), ("hive-hourly", "virtual", "zstd", False)]
        for layout, style, comp, keep in combos:
            host = "localhost" if style == "virtual" else "127.0.0.1"
            out = os.path.join(tmp, "out-" + layout)
            prefix = f"fleet/{layout}"
            rc, sout, err = run_dpflow(
                ["--replay", SAMPLE, "--window", "60", "--compress", comp,
                 "--flow-log-id", "fl-0123abcd", "--s3-url-style", style, "--s3-layout", layout,
                 "--s3-prefix", prefix, "--s3-keep-local", "yes" if keep else "no"] + META +
                s3_opts(f"http://{host}:{port}", out), env=creds_env())
            check(rc == 0, f"{layout}: exit {rc}: {err[-1500:]}")
            check_no_secret(sout, err)
            c = counters(err)
            n = int(c["writer files"])
            check(n >= 2, f"{layout}: the sample spans several 5-minute slots, got {n} files")
            check(int(c["s3 files-uploaded"]) == n, f"{layout}: uploaded {c['s3 files-uploaded']} of {n}")
            check(int(c["s3 spool-files"]) == 0 and int(c["s3 upload-failures"]) == 0,
                  f"{layout}: spool {c['s3 spool-files']}, failures {c['s3 upload-failures']}")
            objs = fetch_prefix(backend, prefix + "/", os.path.join(tmp, "fetch-" + layout))
            check(objs.get(prefix + "/validation") == b"", f"{layout}: no empty validation object")
            keys = sorted(k for k in objs if not k.endswith("/validation"))
            check(len(keys) == n, f"{layout}: {len(keys)} objects for {n} files: {keys}")
            rows = []
            for k in keys:
                check_key(k, prefix, layout)
                check(k.endswith({"zstd": ".log.zst", "gzip": ".log.gz", "none": ".log"}[comp]),
                      f"{layout}: extension of {k}")
                lines = decompress(k, objs[k]).splitlines()
                check(lines[0] == header, f"{layout}: {k} does not start with the header")
                rows += lines[1:]
            check(sorted(rows) == sorted(want), f"{layout}: the objects hold other records "
                  f"than dpflow's stdout ({len(rows)} rows, {len(want)} wanted)")
            local = files_under(os.path.join(out, "AWSLogs"))
            if keep:
                check(sorted(os.path.basename(p) for p in local) ==
                      sorted(os.path.basename(k) for k in keys), f"{layout}: local files")
                for p in local:
                    k = next(k for k in keys if k.endswith("/" + os.path.basename(p)))
                    with open(p, "rb") as f:
                        check(f.read() == objs[k], f"{layout}: {k} differs from the local file")
            else:
                check(local == [], f"{layout}: uploaded files left in --output: {local}")
            check(files_under(os.path.join(out, ".s3-spool")) == [], f"{layout}: spool not empty")
        with open(log) as f:
            statuses = [l.split()[-1] for l in f]
        check(statuses and all(s == "200" for s in statuses),
              f"every request passed the signature check: {collections.Counter(statuses)}")


def case_s3_refused():
    """The start-up validation object: a wrong key, a wrong secret, no bucket,
    a server that is down, missing credentials: each stops dpflow at once with
    a message that says why, before any capture, and never shows the secret."""
    need_s3()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp) as (port, log):
        ep = f"http://127.0.0.1:{port}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            down = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when used
        credfile = os.path.join(tmp, "credentials")
        with open(credfile, "w") as f:
            f.write(f"[default]\naws_access_key_id = NOPE\naws_secret_access_key = x\n\n"
                    f"[probe]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n")
        os.chmod(credfile, 0o600)
        out = os.path.join(tmp, "out")
        base = ["--replay", SAMPLE, "--window", "60"] + META
        cases = [
            ("wrong key id", s3_opts(ep, out), creds_env("AKIDUNKNOWN", SECRET),
             ["refused the validation object", "InvalidAccessKeyId", "HTTP 403"]),
            ("wrong secret", s3_opts(ep, out), creds_env(AKID, SECRET + "x"),
             ["refused the validation object", "SignatureDoesNotMatch"]),
            ("no such bucket", ["--output", out, "--s3-bucket", "no-such-bucket",
                                "--s3-endpoint", ep], creds_env(),
             ["refused the validation object", "NoSuchBucket", "HTTP 404"]),
            ("server down", s3_opts(down, out), creds_env(),
             ["cannot write the validation object", "s3://flow-logs/validation",
              "Connection refused"]),
            ("no credentials", s3_opts(ep, out), clean_env(HOME=tmp), ["no credentials"]),
            ("profile missing", s3_opts(ep, out, "--s3-credentials", credfile,
                                        "--s3-profile", "nosuch"), clean_env(),
             ["no such profile"]),
            ("stdout output", ["--output", "-", "--s3-bucket", BUCKET], creds_env(),
             ["--s3-bucket needs --output DIR"]),
            ("bad prefix", s3_opts(ep, out, "--s3-prefix", "a//b"), creds_env(),
             ["--s3-prefix 'a//b'"]),
            ("bad bucket", ["--output", out, "--s3-bucket", "Bad_Bucket"], creds_env(),
             ["bucket 'Bad_Bucket'"]),
        ]
        for what, opts, env, msgs in cases:
            # The timeout is the guard against retrying a refusal forever;
            # how long a loaded machine takes to say no is not asserted.
            rc, sout, err = run_dpflow(base + opts, env=env, timeout=120)
            check(rc != 0, f"{what}: exit 0")
            for m in msgs:
                check(m in err, f"{what}: message should contain {m!r}: {err[-800:]}")
            check(sout == "", f"{what}: records on stdout")
            check_no_secret(sout, err)
            check(files_under(os.path.join(out, "AWSLogs")) == [], f"{what}: captured anyway")
        # The credentials file, named profile, all set in the configuration file:
        # accepted, and uploads; a file others can read is worth a warning.
        os.chmod(credfile, 0o644)
        conf = os.path.join(tmp, "dpflow.conf")
        with open(conf, "w") as f:
            f.write(f"[dpflow]\ns3-bucket = {BUCKET}\ns3-endpoint = {ep}\n"
                    f"s3-credentials = {credfile}\ns3-profile = probe\ns3-prefix = cf\n")
        rc, sout, err = run_dpflow(base + ["--config", conf, "--output", out], env=clean_env())
        check(rc == 0, f"credentials file: exit {rc}: {err[-800:]}")
        check("readable by other users" in err, "credentials file: no warning about mode 0644")
        check_no_secret(sout, err)
        c = counters(err)
        check(int(c["s3 files-uploaded"]) == int(c["writer files"]) > 0, "credentials file: uploads")


def gate_requests(log):
    with open(log) as f:
        return [l.split() for l in f if l.strip()]


def case_s3_retry():
    """A service that answers 503 and one that stores an object but loses the
    answer: dpflow retries with backoff under the same key until confirmed;
    the bucket ends with each file exactly once."""
    need_s3()
    _, want = reference()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp, "--fail", "3", "--drop", "1") as (port, log):
        out = os.path.join(tmp, "out")
        t0 = time.monotonic()
        rc, sout, err = run_dpflow(["--replay", SAMPLE, "--window", "60", "--s3-prefix", "r",
                                    "--s3-retry-min-ms", "100", "--s3-retry-max-sec", "1"] +
                                   META + s3_opts(f"http://127.0.0.1:{port}", out),
                                   env=creds_env())
        took = time.monotonic() - t0
        check(rc == 0, f"exit {rc}: {err[-1500:]}")
        c = counters(err)
        n = int(c["writer files"])
        check(int(c["s3 files-uploaded"]) == n, f"uploaded {c['s3 files-uploaded']} of {n}")
        check(int(c["s3 upload-failures"]) == 4, f"failures: {c['s3 upload-failures']} (3 + 1 lost)")
        check(int(c["s3 spool-files"]) == 0, "spool empty")
        check("retrying with backoff" in err and "uploads resumed" in err, f"messages: {err[-800:]}")
        # Backoff: 100, 200, 400, 800 ms, halves jittered: at least 750 ms in all.
        check(took > 0.75, f"retries came too fast ({took:.2f} s): no backoff")
        objs = {k: v for k, v in fetch_prefix(backend, "r/", os.path.join(tmp, "f")).items()
                if not k.endswith("validation")}
        check(len(objs) == n, f"{len(objs)} objects for {n} files")
        puts = [r for r in gate_requests(log) if r[0] == "PUT" and not r[1].endswith("validation")]
        tried = collections.Counter(r[1] for r in puts)
        check(sorted(k[len(BUCKET) + 1:] for k in tried) == sorted(objs),
              f"every attempt used a final key: {sorted(tried)} vs {sorted(objs)}")
        check(sum(tried.values()) == n + 4, f"attempts: {tried}")
        dropped = [r[1] for r in puts if r[2].endswith("-dropped")]
        check(len(dropped) == 1 and tried[dropped[0]] >= 2,
              "the object whose answer was lost was sent again under the same key")
        rows = []
        for k, body in objs.items():
            rows += decompress(k, body).splitlines()[1:]
        check(sorted(rows) == sorted(want), "objects hold the records")


def spool_files(out):
    return [os.path.relpath(p, os.path.join(out, ".s3-spool"))
            for p in files_under(os.path.join(out, ".s3-spool"))]


def case_s3_restart():
    """The service goes down after start: files wait in the spool past the
    end of the run, survive a SIGKILL during the next run, and go up at the
    following start under the names they were spooled with, each once. A full
    spool leaves files in --output and says so."""
    need_s3()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend:
        out = os.path.join(tmp, "out")
        base = ["--replay", SAMPLE, "--window", "60", "--s3-prefix", "rs",
                "--s3-retry-min-ms", "50", "--s3-retry-max-sec", "1"] + META
        # Run 1: down after validation; 1 s of drain, then the files stay.
        with gate(backend, tmp, "--down-after-validation") as (port, _):
            rc, sout, err = run_dpflow(base + ["--s3-drain-sec", "1"] +
                                       s3_opts(f"http://127.0.0.1:{port}", out),
                                       env=creds_env())
        check(rc == 0, f"run 1: exit {rc}: {err[-1500:]}")
        c = counters(err)
        n1 = int(c["writer files"])
        check(int(c["s3 files-uploaded"]) == 0 and int(c["s3 spool-files"]) == n1,
              f"run 1: {c['s3 files-uploaded']} uploaded, {c['s3 spool-files']} spooled of {n1}")
        check("wait in" in err and "Connection refused" in err, f"run 1 messages: {err[-800:]}")
        after1 = spool_files(out)
        check(len(after1) == n1, f"run 1: spool holds {after1}")
        check(files_under(os.path.join(out, "AWSLogs")) == [], "run 1: files moved to the spool")

        # Run 2: down again, killed with SIGKILL while it drains.
        with gate(backend, tmp, "--down-after-validation") as (port, _):
            cmd = [DPFLOW] + EAL + ["--"] + base + ["--s3-drain-sec", "60"] + \
                s3_opts(f"http://127.0.0.1:{port}", out)
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=creds_env())
            try:
                # Raw reads: a buffered reader could hold the line select() waits for.
                fd, raw = p.stderr.fileno(), b""
                deadline = time.time() + 60
                while b"stopping: uploading" not in raw and time.time() < deadline:
                    r, _, _ = select.select([fd], [], [], 1)
                    if r:
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            break
                        raw += chunk
                err2 = raw.decode(errors="replace")
                check("from an earlier run" in err2, f"run 2 found the spool: {err2[-800:]}")
                check("stopping: uploading" in err2,
                      f"run 2 never reached the drain: {err2[-800:]}")
            finally:
                p.kill()
                p.wait(timeout=30)
                p.stderr.close()
        after2 = spool_files(out)
        check(set(after1) < set(after2), f"run 2 kept run 1's files: {after1} / {after2}")
        n2 = len(after2) - len(after1)
        check(n2 == n1, f"run 2 spooled {n2} files")

        # Run 3: the service is back: everything goes up, once, under its spool name.
        with gate(backend, tmp) as (port, log):
            rc, sout, err = run_dpflow(base + s3_opts(f"http://127.0.0.1:{port}", out),
                                       env=creds_env())
        check(rc == 0, f"run 3: exit {rc}: {err[-1500:]}")
        c = counters(err)
        n3 = int(c["writer files"])
        check(int(c["s3 files-recovered"]) == len(after2), f"run 3 recovered {c['s3 files-recovered']}")
        check(int(c["s3 files-uploaded"]) == len(after2) + n3, "run 3 uploaded everything")
        check(spool_files(out) == [], "run 3: spool empty")
        objs = {k: v for k, v in fetch_prefix(backend, "rs/", os.path.join(tmp, "f")).items()
                if not k.endswith("validation")}
        check(len(objs) == len(after2) + n3, f"{len(objs)} objects for {len(after2) + n3} files")
        check(set(after2) <= set(objs), "spooled files went up under their spool names")
        puts = [r for r in gate_requests(log) if r[0] == "PUT" and not r[1].endswith("validation")]
        check(len(puts) == len(objs), f"each file sent once: {len(puts)} PUTs")
        for k, body in objs.items():
            text = decompress(k, body)
            check(text.startswith("version ") and text.endswith("\n"), f"{k} is complete")

        # A full spool: the file that does not fit stays in --output.
        out4 = os.path.join(tmp, "out4")
        with gate(backend, tmp, "--down-after-validation") as (port, _):
            rc, sout, err = run_dpflow(base + ["--s3-drain-sec", "0", "--s3-spool-max-files", "1"]
                                       + s3_opts(f"http://127.0.0.1:{port}", out4),
                                       env=creds_env())
        check(rc == 0, f"full spool: exit {rc}: {err[-800:]}")
        c = counters(err)
        n4 = int(c["writer files"])
        check(int(c["s3 files-not-spooled"]) == n4 - 1 and int(c["s3 spool-files"]) == 1,
              f"full spool: {c['s3 files-not-spooled']} not spooled of {n4}")
        check("is full" in err, "full spool: message")
        check(len(files_under(os.path.join(out4, "AWSLogs"))) == n4 - 1,
              "full spool: the files that did not fit stay in --output")


# ---------------------------------------------------------------- IPFIX

IE = {
    1: ("octets", "u"), 2: ("packets", "u"), 4: ("proto", "u"), 6: ("tcp_flags", "u"),
    7: ("sport", "u"), 8: ("src", "ip"), 10: ("in_if", "u"), 11: ("dport", "u"),
    12: ("dst", "ip"), 27: ("src", "ip"), 28: ("dst", "ip"), 82: ("if_name", "str"),
    89: ("fwd", "u"), 150: ("start_s", "u"), 151: ("end_s", "u"), 152: ("start_ms", "u"),
    153: ("end_ms", "u"), 225: ("post_src", "ip"), 226: ("post_dst", "ip"),
    227: ("post_sport", "u"), 228: ("post_dport", "u"), 281: ("post_src", "ip"),
    282: ("post_dst", "ip"), 230: ("nat_event", "u"), 323: ("event_ms", "u"),
}


def case_s3_leftovers():
    """A run killed mid-window leaves its temporaries; the next start finishes
    them (lib/sink recovery) and those files go to the bucket too, like the
    files the new run writes: nothing recovered stays behind on the disk."""
    need_s3()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend:
        out = os.path.join(tmp, "out")
        cap = os.path.join(tmp, "slow.pcap")
        # 17 minutes of packets (four 5-minute slots), a writer held 1 s a batch.
        gencap(cap, 7, 20000, 400, window=60, pps=20)
        cmd = [DPFLOW] + EAL + ["--", "--replay", cap, "--window", "60", "--output", out,
                                "--test-writer-delay", "1000"] + META
        killed = []
        with process(cmd, env=clean_env()) as p:
            deadline = time.time() + 120
            while time.time() < deadline and p.poll() is None:
                tmps = [f for f in temporaries_under(os.path.join(out, "AWSLogs"))
                        if os.path.getsize(f) > 0]
                if tmps:
                    p.send_signal(signal.SIGKILL)
                    p.wait(timeout=30)
                    killed = tmps
                    break
                time.sleep(0.05)
        check(killed, "the first run left no temporary with records before it ended")
        before = set(files_under(os.path.join(out, "AWSLogs")))
        with gate(backend, tmp) as (port, _):
            rc, sout, err = run_dpflow(["--replay", SAMPLE, "--window", "60",
                                        "--s3-keep-local", "yes"] + META +
                                       s3_opts(f"http://127.0.0.1:{port}", out), env=creds_env())
        check(rc == 0, f"restart: exit {rc}: {err[-1500:]}")
        c = counters(err)
        check(int(c["writer leftovers-records"]) > 0,
              f"the restart kept no leftover records: {err[-1500:]}")
        check(temporaries_under(os.path.join(out, "AWSLogs")) == [], "temporaries left")
        after = set(files_under(os.path.join(out, "AWSLogs")))
        new = after - before
        recovered = len(new) - int(c["writer files"])
        check(recovered >= 1, f"{len(new)} new files, {c['writer files']} written by the restart")
        check(int(c["s3 files-uploaded"]) == len(new),
              f"uploaded {c['s3 files-uploaded']} of {len(new)} files "
              f"({recovered} recovered from the killed run)")
        objs = fetch_prefix(backend, "", os.path.join(tmp, "fetch"))
        keys = {os.path.basename(k) for k in objs if not k.endswith("validation")}
        check(keys == {os.path.basename(f) for f in new},
              f"objects {sorted(keys)} != new files {sorted(os.path.basename(f) for f in new)}")
        for f in new:
            k = next(k for k in objs if k.endswith("/" + os.path.basename(f)))
            with open(f, "rb") as fh:
                check(fh.read() == objs[k], f"{k} differs from the local file")
        print(f"  killed with {len(killed)} temporaries; the restart finished {recovered} "
              f"file(s) ({c['writer leftovers-records']} records) and uploaded them with its "
              f"own {c['writer files']}")


def ipfix_decode(stream):
    """RFC 7011 messages of a byte stream: header fields, templates, records."""
    msgs, templates, off = [], {}, 0
    while off < len(stream):
        check(len(stream) - off >= 16, "truncated IPFIX header")
        ver, length, etime, seq, dom = struct.unpack_from("!HHIII", stream, off)
        check(ver == 10, f"IPFIX version {ver}")
        check(16 <= length <= len(stream) - off, f"message length {length}")
        msg = {"export_time": etime, "seq": seq, "domain": dom, "sets": [], "records": []}
        p, end = off + 16, off + length
        while p < end:
            sid, slen = struct.unpack_from("!HH", stream, p)
            check(slen >= 4 and p + slen <= end, f"set length {slen}")
            msg["sets"].append(sid)
            q, send = p + 4, p + slen
            if sid in (2, 3):
                while send - q >= 4:
                    tid, count = struct.unpack_from("!HH", stream, q)
                    q += 4
                    scope = 0
                    if sid == 3:
                        scope, = struct.unpack_from("!H", stream, q)
                        q += 2
                    fields = []
                    for _ in range(count):
                        fid, flen = struct.unpack_from("!HH", stream, q)
                        q += 4
                        if fid & 0x8000:
                            q += 4
                        fields.append((fid & 0x7FFF, flen))
                    templates[tid] = (fields, scope)
            elif sid >= 256:
                check(sid in templates, f"data set {sid} before its template")
                fields, _ = templates[sid]
                minlen = sum(1 if l == 65535 else l for _, l in fields)
                while send - q >= minlen:
                    rec = {}
                    for fid, flen in fields:
                        if flen == 65535:
                            flen = stream[q]
                            q += 1
                            if flen == 255:
                                flen, = struct.unpack_from("!H", stream, q)
                                q += 2
                        raw = stream[q:q + flen]
                        q += flen
                        name, kind = IE.get(fid, (str(fid), "u"))
                        if kind == "ip":
                            rec[name] = str(ipaddress.ip_address(raw))
                        elif kind == "str":
                            rec[name] = raw.decode()
                        else:
                            rec[name] = int.from_bytes(raw, "big")
                    msg["records"].append((sid, rec))
            p = send
        msgs.append(msg)
        off = end
    return msgs


def text_rows(lines):
    """TEXT_FMT rows as dicts (OK rows only) and the count of other rows."""
    names = ["iface", "type", "pkt_src", "pkt_dst", "pkt_sport", "pkt_dport", "src", "dst",
             "sport", "dport", "proto", "packets", "bytes", "start", "end", "action",
             "flags_all", "status"]
    ok, other = [], 0
    for l in lines:
        r = dict(zip(names, l.split(" ")))
        if r["status"] != "OK":
            other += 1
            continue
        ok.append(r)
    return ok, other


def want_ipfix(r):
    """The IPFIX view of a text record, as our templates carry it."""
    proto = int(r["proto"])
    return (r["pkt_src"], r["pkt_dst"], int(r["pkt_sport"]), int(r["pkt_dport"]), proto,
            r["src"], r["dst"], int(r["sport"]), int(r["dport"]), int(r["packets"]),
            int(r["bytes"]), int(r["start"]), int(r["end"]),
            int(r["flags_all"]) if proto == 6 else 0, 129 if r["action"] == "REJECT" else 64)


def got_ipfix(rec):
    check(rec["start_ms"] == rec["start_s"] * 1000 and rec["end_ms"] == rec["end_s"] * 1000,
          f"seconds and milliseconds disagree: {rec}")
    check(rec["in_if"] == 1, f"ingressInterface of the first interface: {rec['in_if']}")
    check(rec["nat_event"] == 1 and rec["event_ms"] == rec["start_ms"],
          f"natEvent and its time: {rec}")
    return (rec["src"], rec["dst"], rec["sport"], rec["dport"], rec["proto"], rec["post_src"],
            rec["post_dst"], rec["post_sport"], rec["post_dport"], rec["packets"], rec["octets"],
            rec["start_s"], rec["end_s"], rec["tcp_flags"], rec["fwd"])


def check_nat_acl_coverage(lines):
    """The rules did their part: the comparison covers both views and both verdicts."""
    ok, _ = text_rows(lines)
    kinds = collections.Counter((r["type"], r["pkt_src"] != r["src"], r["action"]) for r in ok)
    for want in (("IPv4", True, "ACCEPT"), ("IPv6", True, "ACCEPT"), ("IPv4", False, "REJECT"),
                 ("IPv6", False, "REJECT")):
        check(kinds[want] > 0, f"no {want} record to compare: {dict(kinds)}")


class TcpCollector:
    """Accepts connections on loopback and keeps every byte received."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1", hang_up=False):
        self.hang_up = hang_up  # reset every connection as soon as it is accepted
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.streams = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            buf = bytearray()
            self.streams.append(buf)
            if self.hang_up:
                # Linger 0: the close sends a reset, which dpflow's next send meets.
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
                continue
            c.settimeout(0.2)
            while not self.stop:
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    break
                buf += d
            c.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=10)
        self.sock.close()


def check_ipfix_stream(stream, lines, domain, t0, t1, with_names):
    msgs = ipfix_decode(bytes(stream))
    check(len(msgs) >= 2, f"{len(msgs)} messages")
    first = msgs[0]
    check(first["sets"][0] == 2, f"the stream starts with the templates: sets {first['sets']}")
    if with_names:
        check(3 in first["sets"], "the interface-name options template follows")
    seq = 0
    flows = []
    names = {}
    for m in msgs:
        check(m["domain"] == domain, f"observation domain {m['domain']}")
        check(t0 - 1 <= m["export_time"] <= t1 + 1, f"export time {m['export_time']}")
        check(m["seq"] == seq % 2**32, f"sequence {m['seq']}, want {seq}")
        seq += len(m["records"])
        for tid, rec in m["records"]:
            if tid == 258:
                names[rec["in_if"]] = rec["if_name"]
            else:
                check(tid == (256 if "." in rec["src"] else 257), f"template {tid} for {rec['src']}")
                flows.append(got_ipfix(rec))
    ok, _ = text_rows(lines)
    want = sorted(want_ipfix(r) for r in ok)
    check(sorted(flows) == want, f"IPFIX flows differ from the text records: "
          f"{len(flows)} vs {len(want)}; first missing "
          f"{sorted(set(want) - set(flows))[:2]}, first extra {sorted(set(flows) - set(want))[:2]}")
    if with_names:
        check(names == {1: ENI}, f"interface names {names}")
    return len(flows)


def case_ipfix_tcp():
    """IPFIX over TCP (IPv4 and IPv6 loopback) to a collector decoding RFC 7011
    on its own: templates first, every field of every record equal to the
    text records (both NAT views, times, flags, forwardingStatus, interface),
    sequence numbers that count data records; then a collector that is down
    costs counted records, never the run."""
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "t.pcap")
        gencap(cap, seed=3, packets=6000, flows=800, v6=0.3)
        endpoints = [(socket.AF_INET, "127.0.0.1", "127.0.0.1")]
        if socket.has_ipv6:
            try:
                with socket.socket(socket.AF_INET6) as s:
                    s.bind(("::1", 0))
                endpoints.append((socket.AF_INET6, "::1", "[::1]"))
            except OSError:
                pass
        for fam, host, url_host in endpoints:
            col = TcpCollector(fam, host)
            try:
                t0 = int(time.time())
                rc, out, err = run_dpflow(
                    ["--replay", cap, "--window", "60", "--output", "-", "--log-format", TEXT_FMT,
                     "--ipfix", f"tcp://{url_host}:{col.port}", "--ipfix-domain-id", "4242",
                     "--ipfix-interface-names", "yes", "--ipfix-message-size", "4096"] + META +
                    NAT_ACL)
                t1 = int(time.time())
                time.sleep(0.3)
            finally:
                col.close()
            check(rc == 0, f"{host}: exit {rc}: {err[-1500:]}")
            check(len(col.streams) == 1, f"{host}: {len(col.streams)} connections")
            lines = out.splitlines()[1:]
            check_nat_acl_coverage(lines)
            n = check_ipfix_stream(col.streams[0], lines, 4242, t0, t1, True)
            c = counters(err)
            ok, other = text_rows(lines)
            check(int(c["ipfix records"]) == n == len(ok), f"{host}: records counter")
            check(int(c["ipfix rows-not-flows"]) == other, f"{host}: NODATA/SKIPDATA rows counted")
            check(int(c["ipfix records-dropped"]) == 0, f"{host}: nothing dropped")
        # A collector that resets the connection: the records are counted as
        # dropped, the run goes on.
        col = TcpCollector(hang_up=True)
        try:
            rc, out, err = run_dpflow(["--replay", cap, "--window", "60", "--output", "-",
                                       "--log-format", TEXT_FMT, "--ipfix",
                                       f"tcp://127.0.0.1:{col.port}"] + META)
        finally:
            col.close()
        check(rc == 0, f"hang-up: exit {rc}: {err[-800:]}")
        c = counters(err)
        ok, _ = text_rows(out.splitlines()[1:])
        check(col.streams and not any(col.streams), "hang-up: the collector read nothing")
        check(int(c["ipfix records-dropped"]) > 0, "hang-up: records counted as dropped")
        check(int(c["ipfix records"]) + int(c["ipfix records-dropped"]) == len(ok),
              f"hang-up: sent {c['ipfix records']} + dropped {c['ipfix records-dropped']} "
              f"!= {len(ok)}")
        # The reset meets either the connect or the first send, as timing has it.
        check(re.search(r"ipfix (send to|connect) tcp://127\.0\.0\.1:\d+: (Connection reset|Broken pipe)", err),
              "hang-up: message: " + " / ".join(l for l in err.splitlines() if "ipfix" in l))
        # Collector down: the records it misses are counted; the run and the text output are whole.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        want_hdr, want = reference(cap, extra=NAT_ACL, fmt=TEXT_FMT)
        rc, out, err = run_dpflow(["--replay", cap, "--window", "60", "--output", "-",
                                   "--log-format", TEXT_FMT, "--ipfix",
                                   f"tcp://127.0.0.1:{port}"] + META + NAT_ACL)
        check(rc == 0, f"collector down: exit {rc}: {err[-800:]}")
        check(out.splitlines()[1:] == want, "collector down: text records unchanged")
        c = counters(err)
        ok, _ = text_rows(want)
        check(int(c["ipfix records"]) == 0 and int(c["ipfix records-dropped"]) == len(ok),
              f"collector down: {c['ipfix records-dropped']} dropped of {len(ok)}")
        check("ipfix connect tcp://127.0.0.1" in err, "collector down: message")


def udp_rx_queue(port):
    """Bytes waiting in the receive queue of a UDP socket bound to port (/proc/net/udp)."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == port:
                return int(parts[4].split(":")[1], 16)
    return None


def nfdump_version():
    """(major, minor, patch) of the nfdump on PATH ('nfdump: Version: NSEL-NEL1.7.1')."""
    p = subprocess.run(["nfdump", "-V"], capture_output=True, text=True, timeout=30)
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", p.stdout + p.stderr)
    check(m is not None, f"nfdump -V: {p.stdout}{p.stderr}")
    return tuple(int(x) for x in m.groups())


def nfdump(flowdir, *args):
    p = subprocess.run(["nfdump", "-R", flowdir, "-N"] + list(args), capture_output=True,
                       text=True, env=clean_env(), timeout=300)
    check(p.returncode == 0, f"nfdump {' '.join(args)}: {p.stderr[-500:]}")
    return p.stdout


def tcp_bits(text):
    """nfdump's flag string ('...AP.SF', CWR first) as the flag byte."""
    return sum(0x80 >> i for i, ch in enumerate(text) if ch != ".")


def nfdump_flows(flowdir, fwd_status):
    """The flows of `nfdump -o json`, as comparable tuples (see want_nfdump)."""
    out = nfdump(flowdir, "-o", "json")
    recs = json.loads(out) if out.strip() else []
    flows = []
    for r in recs:
        if r.get("type") != "FLOW":
            continue
        v4 = "src4_addr" in r
        proto = r["proto"]
        if proto in (1, 58):
            sport, dport = 0, r.get("icmp_type", 0) * 256 + r.get("icmp_code", 0)
        else:
            sport, dport = r.get("src_port", 0), r.get("dst_port", 0)
        t = lambda s: calendar.timegm(time.strptime(s.split(".")[0], "%Y-%m-%dT%H:%M:%S"))
        flows.append((
            r["src4_addr"] if v4 else r["src6_addr"], r["dst4_addr"] if v4 else r["dst6_addr"],
            sport, dport, proto, r["in_packets"], r["in_bytes"], t(r["first"]), t(r["last"]),
            r["input_snmp"], tcp_bits(r.get("tcp_flags", "........")) if proto == 6 else 0,
            # nfdump decodes the IPv4 NAT addresses only (no IPFIX mapping of 281/282)
            r.get("src4_xlt_ip") if v4 else None, r.get("dst4_xlt_ip") if v4 else None,
            int(r.get("src_xlt_port", 0)), int(r.get("dst_xlt_port", 0)),
            int(r.get("nat_event_id", 0)), t(r.get("t_event", "1970-01-01T00:00:00.0")),
            r.get("fwd_status") if fwd_status else None))
    return flows


def want_nfdump(r, fwd_status):
    """What nfdump should show of a text record (same order as nfdump_flows)."""
    v4 = r["type"] == "IPv4"
    proto = int(r["proto"])
    return (r["pkt_src"], r["pkt_dst"], int(r["pkt_sport"]), int(r["pkt_dport"]), proto,
            int(r["packets"]), int(r["bytes"]), int(r["start"]), int(r["end"]),
            1,  # ingressInterface of the first interface: ifIndex numbering starts at 1
            int(r["flags_all"]) if proto == 6 else 0,
            r["src"] if v4 else None, r["dst"] if v4 else None, int(r["sport"]), int(r["dport"]),
            1, int(r["start"]),  # natEvent "translation create" at the flow's start
            (129 if r["action"] == "REJECT" else 64) if fwd_status else None)


DATE = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})"


def endpoint(text, proto, dst):
    """'10.0.0.1:80', '2001:db8::1.80', ICMP destinations 'ADDR:T.C' / 'ADDR.T.C'."""
    icmp = dst and proto in (1, 58)
    if text.count(":") == 1:
        addr, port = text.split(":")
    else:
        parts = text.rsplit(".", 2 if icmp else 1)
        addr, port = parts[0], ".".join(parts[1:])
    if icmp:
        t, c = port.split(".")
        port = int(t) * 256 + int(c)
    return str(ipaddress.ip_address(addr)), int(port)


def nfdump_text(flowdir, fmt):
    """The record lines of `nfdump -o FMT -6` (addresses in full), split in columns."""
    rows = []
    for line in nfdump(flowdir, "-o", fmt, "-6").splitlines():
        m = re.match(DATE + r"\s+(.*)$", line)
        if m:
            t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
            rows.append((t, int(m.group(2)), m.group(3).split()))
    return rows


def check_nfdump_text(flowdir, ok):
    """-o extended, nsel and nel show every record, each column as the text
    record has it (IPv6 translated addresses aside: nfdump has no IPFIX
    mapping for them and prints 0.0.0.0)."""
    by_key = {}
    for r in ok:
        key = (str(ipaddress.ip_address(r["pkt_src"])), int(r["pkt_sport"]),
               str(ipaddress.ip_address(r["pkt_dst"])), int(r["pkt_dport"]), int(r["proto"]))
        by_key[key] = r
    check(len(by_key) == len(ok), "text records with the same 5-tuple")

    def record(proto, src, dst):
        s, sp = endpoint(src, proto, False)
        d, dp = endpoint(dst, proto, True)
        r = by_key.get((s, sp, d, dp, proto))
        check(r is not None, f"nfdump shows a flow dpflow did not log: {src} -> {dst} {proto}")
        return r

    def xlate(r, xsrc, xdst):
        proto = int(r["proto"])
        xs, xsp = endpoint(xsrc, proto, False)
        xd, xdp = endpoint(xdst, proto, proto not in (1, 58))
        check((xsp, xdp) == (int(r["sport"]), int(r["dport"])),
              f"translated ports {xsrc} -> {xdst} of {r}")
        if r["type"] == "IPv4":
            check((xs, xd) == (r["src"], r["dst"]), f"translated addresses {xsrc} -> {xdst} of {r}")

    seen = collections.Counter()
    for t, ms, c in nfdump_text(flowdir, "extended"):
        # duration proto src -> dst flags tos packets bytes pps bps bpp flows
        proto = int(c[1])
        r = record(proto, c[2], c[4])
        seen["extended"] += 1
        check((t, ms, float(c[0])) == (int(r["start"]), 0, int(r["end"]) - int(r["start"])),
              f"extended: times {t} {c[0]} of {r}")
        check((int(c[7]), int(c[8]), int(c[-1])) == (int(r["packets"]), int(r["bytes"]), 1),
              f"extended: counters {c} of {r}")
        check(tcp_bits(c[5]) == (int(r["flags_all"]) if proto == 6 else 0), f"flags {c[5]} of {r}")
    for t, ms, c in nfdump_text(flowdir, "nsel"):
        # event xevent proto src -> dst xsrc -> xdst in-bytes out-bytes
        r = record(int(c[2]), c[3], c[5])
        seen["nsel"] += 1
        check((t, ms, c[0], c[1]) == (int(r["start"]), 0, "ADD", "Ignore"),
              f"nsel: event {t} {c[:2]} of {r}")
        xlate(r, c[6], c[8])
        check(int(c[9]) == int(r["bytes"]), f"nsel: bytes {c[9]} of {r}")
    for t, ms, c in nfdump_text(flowdir, "nel"):
        # event proto src -> dst xsrc -> xdst
        r = record(int(c[1]), c[2], c[4])
        seen["nel"] += 1
        check((t, ms, c[0]) == (int(r["start"]), 0, "ADD"), f"nel: event {t} {c[0]} of {r}")
        xlate(r, c[5], c[7])
    check(seen == {"extended": len(ok), "nsel": len(ok), "nel": len(ok)},
          f"nfdump lines {dict(seen)}, want {len(ok)} each")


def nfcapd_run(flowdir, opts):
    """nfcapd (Debian's nfdump) on a loopback port, dpflow with opts and
    --ipfix to it; nfcapd stops once it has read every datagram. Returns
    dpflow's (exit code, stdout, stderr) and the match of nfcapd's summary
    line (flows, packets, bytes, sequence errors)."""
    os.makedirs(flowdir)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A buffer of 1 MB (the kernel doubles it) absorbs a stall of nfcapd's of
    # about 0.2 s at the default rate, so a loaded test machine passes.
    with process(["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", flowdir, "-t", "3600",
                  "-B", "1048576"], env=clean_env()) as nf:
        deadline = time.time() + 20
        while udp_rx_queue(port) is None and time.time() < deadline and nf.poll() is None:
            time.sleep(0.05)
        check(udp_rx_queue(port) is not None, "nfcapd did not bind its port")
        rc, out, err = run_dpflow(opts + ["--ipfix", f"udp://127.0.0.1:{port}"], timeout=600)
        # nfcapd has read every datagram once its receive queue is empty.
        deadline = time.time() + 60
        while udp_rx_queue(port) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        nf.send_signal(signal.SIGTERM)
        try:
            nf_out, nf_err = nf.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise Fail("nfcapd did not stop")
    log = nf_out + nf_err
    m = re.search(r"Flows: (\d+), Packets: (\d+), Bytes: (\d+), Sequence Errors: (\d+)", log)
    check(m is not None, f"nfcapd summary: {log[-500:]}")
    return rc, out, err, m


def case_ipfix_nfcapd():
    """IPFIX over UDP into nfcapd (Debian's nfdump), a window of 100,000 flows
    closing at once (about 16 MB of datagrams in the kernel, 8 times nfcapd's
    2 MB socket buffer here), paced by default: nfcapd gets every record
    without a sequence error (unpaced, it lost 10-40% of them), and nfdump (json,
    -o extended, nsel, nel) shows the same flows, packets, bytes, times,
    flags, input interface, NAT event and IPv4 NAT views as dpflow's text
    records."""
    apt_install("nfdump")
    fwd_status = nfdump_version() >= (1, 7, 2)  # 1.7.1 has no IPFIX mapping for IE 89
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "n.pcap")
        gencap(cap, seed=7, packets=200000, flows=100000, v6=0.25, pps=8000)
        flowdir = os.path.join(tmp, "flows")
        rc, out, err, m = nfcapd_run(flowdir, ["--replay", cap, "--window", "60", "--output",
                                               "-", "--log-format", TEXT_FMT,
                                               "--flows-per-core", "262144"] + META + NAT_ACL)
        check(rc == 0, f"exit {rc}: {err[-1500:]}")
        lines = out.splitlines()[1:]
        check_nat_acl_coverage(lines)
        ok, other = text_rows(lines)
        check(len(ok) >= 100000, f"{len(ok)} records: not a large window")
        c = counters(err)
        check(int(c["ipfix records"]) == len(ok) and int(c["ipfix records-dropped"]) == 0,
              f"dpflow sent {c['ipfix records']} of {len(ok)}")
        check(int(m.group(1)) == len(ok), f"nfcapd got {m.group(1)} flows of {len(ok)} "
              f"({c['ipfix messages']} messages, {c.get('ipfix pace-waits')} pacing waits)")
        check("ipfix pace-waits" in c, "the pacing counter is reported")
        check(int(m.group(4)) == 0, f"nfcapd counted {m.group(4)} sequence errors")
        check(int(m.group(2)) == sum(int(r["packets"]) for r in ok), "nfcapd packet total")
        check(int(m.group(3)) == sum(int(r["bytes"]) for r in ok), "nfcapd byte total")
        want = sorted(want_nfdump(r, fwd_status) for r in ok)
        got = sorted(nfdump_flows(flowdir, fwd_status))
        check(got == want,
              f"nfdump shows other flows than the text records: {len(got)} vs {len(want)}; "
              f"missing {sorted(set(want) - set(got))[:2]}, extra {sorted(set(got) - set(want))[:2]}")
        check_nfdump_text(flowdir, ok)
        if not fwd_status:
            print(f"  nfdump {'.'.join(map(str, nfdump_version()))} does not decode "
                  "forwardingStatus from IPFIX (1.7.2 does): checked by ipfix_tcp only")


def nfdump_addr(r, side):
    """The address nfdump holds for a flow: one 128-bit field. A record that
    also carried the other family (the tunnel's outer addresses, decoded
    from the subTemplateList) shows both keys in -o json; the field is an
    IPv4 address when its upper 96 bits are zero."""
    v6 = r.get(side + "6_addr")
    if v6 is None:
        return r[side + "4_addr"]
    a = ipaddress.ip_address(v6)
    return str(ipaddress.IPv4Address(int(a))) if int(a) < 1 << 32 else str(a)


def case_ipfix_nfcapd_decap():
    """--decap with IPFIX into nfcapd (nfdump 1.7.1): the decapsulated
    records' templates carry the outer addresses in a subTemplateList, which
    nfdump decodes into the flow record it nests in. Every record still
    arrives (no sequence error) and nfdump holds the inner flow of each as
    tools/gencap.py overlay's model says: addresses, ports, protocol,
    packets, bytes, first and last, input interface (its index: the order
    of the exit summary's interface lines, plus one)."""
    apt_install("nfdump")
    with tempfile.TemporaryDirectory() as tmp:
        pcap, model, conf = (os.path.join(tmp, n) for n in ("o.pcap", "o.json", "o.conf"))
        subprocess.run([sys.executable, GENCAP, "overlay", pcap, "--expect", model, "--config",
                        conf, "--decap", "all", "--flows", "3000", "--seed", "7"], check=True,
                       capture_output=True)
        ok = [r for r in json.load(open(model))["records"] if r["log_status"] == "OK"]
        flowdir = os.path.join(tmp, "flows")
        rc, out, err, m = nfcapd_run(flowdir, ["--config", conf, "--replay", pcap, "--decap",
                                               "all", "--window", "60", "--output", "-"] + META)
        check(rc == 0, f"exit {rc}: {err[-1500:]}")
        c = counters(err)
        check(int(c["ipfix records"]) == len(ok) and int(c["ipfix records-dropped"]) == 0,
              f"dpflow sent {c['ipfix records']} of {len(ok)} (the model's)")
        check(int(m.group(1)) == len(ok), f"nfcapd got {m.group(1)} flows of {len(ok)}")
        check(int(m.group(4)) == 0, f"nfcapd counted {m.group(4)} sequence errors")
        check(int(m.group(2)) == sum(r["packets"] for r in ok), "nfcapd packet total")
        check(int(m.group(3)) == sum(r["bytes"] for r in ok), "nfcapd byte total")
        ifindex = {}
        for line in err.splitlines():
            mi = re.match(r"interface (\S+) port \d+ logged-packets: ", line)
            if mi:
                ifindex.setdefault(mi.group(1), len(ifindex) + 1)
        check(len(ifindex) > 5, f"interfaces in the summary: {ifindex}")
        tun = [r for r in ok if "tunnel_type" in r]
        check({r["tunnel_type"] for r in tun} == {"vxlan", "geneve", "gre", "ipip"} and
              any(":" in r["tunnel_src"] and r["type"] == "IPv4" for r in tun) and
              any(":" not in r["tunnel_src"] and r["type"] == "IPv6" for r in tun),
              "the model has every tunnel type and both mixed families")
        want = sorted((str(ipaddress.ip_address(r["srcaddr"])),
                       str(ipaddress.ip_address(r["dstaddr"])), r["srcport"],
                       r["dstport"] if r["protocol"] not in (1, 58) else 0, r["protocol"],
                       r["packets"], r["bytes"], r["start"], r["end"],
                       ifindex[r["interface_id"]]) for r in ok)
        t = lambda v: calendar.timegm(time.strptime(v.split(".")[0], "%Y-%m-%dT%H:%M:%S"))
        got = sorted((nfdump_addr(r, "src"), nfdump_addr(r, "dst"), r.get("src_port", 0),
                      r.get("dst_port", 0) if r["proto"] not in (1, 58) else 0, r["proto"],
                      r["in_packets"], r["in_bytes"], t(r["first"]), t(r["last"]),
                      r["input_snmp"])
                     for r in json.loads(nfdump(flowdir, "-o", "json")) if r["type"] == "FLOW")
        check(got == want,
              f"nfdump's flows differ from the model's: {len(got)} vs {len(want)}; missing "
              f"{[x for x in want if x not in got][:3]}, extra {[x for x in got if x not in want][:3]}")
        print(f"ok: {len(got)} records ({len(tun)} decapsulated)")


# ---------------------------------------------------------------- query

def doc_blocks():
    """Fenced blocks of doc/scale-out.md that follow a '<!-- test: NAME -->' marker."""
    with open(SCALE_OUT_DOC) as f:
        text = f.read()
    return {m.group(1): m.group(2) for m in
            re.finditer(r"<!-- test: ([a-z0-9-]+) -->\s*```[a-z]*\n(.*?)```", text, re.S)}


DUCK_RUNNER = r"""
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const stmts = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
let rows = [];
for (const s of stmts) {
  const r = await con.runAndReadAll(s);
  rows = r.getRowObjectsJson();
}
console.log(JSON.stringify(rows));
"""


def case_query_duckdb():
    """Two probes feed one bucket (Hive layout, gzip and zstd); the files are
    fetched with the AWS CLI and DuckDB runs doc/scale-out.md's table and
    top-talkers query on them as written; the result equals the same query
    computed here from dpflow's text records. The Athena table of the doc
    has the columns of the files' header and the partitions of their keys."""
    need_s3()
    blocks = doc_blocks()
    for b in ("athena-table", "duckdb-table", "top-talkers"):
        check(b in blocks, f"doc/scale-out.md has no '<!-- test: {b} -->' block")
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp) as (port, _):
        probes = [("eni-0aaaaaaaaaaaaaaaa", "fl-probe-a", "gzip", 11),
                  ("eni-0bbbbbbbbbbbbbbbb", "fl-probe-b", "zstd", 12)]
        talkers = collections.defaultdict(int)
        header = None
        for eni, fl, comp, seed in probes:
            cap = os.path.join(tmp, fl + ".pcap")
            gencap(cap, seed=seed, packets=8000, flows=600, v6=0.2, pps=50)
            meta = ["--account-id", ACCOUNT, "--interface-id", eni, "--region", "eu-west-1"]
            rc, out, err = run_dpflow(["--replay", cap, "--window", "60", "--output", "-"] + meta)
            check(rc == 0, f"{fl} reference: {err[-800:]}")
            header = out.splitlines()[0]
            for l in out.splitlines()[1:]:
                f = l.split(" ")
                if f[13] == "OK":
                    talkers[(f[2], f[3])] += int(f[9])
            rc, out, err = run_dpflow(["--replay", cap, "--window", "60", "--compress", comp,
                                       "--flow-log-id", fl, "--s3-layout", "hive",
                                       "--s3-prefix", "fleet"] + meta +
                                      s3_opts(f"http://127.0.0.1:{port}",
                                              os.path.join(tmp, "out-" + fl)), env=creds_env())
            check(rc == 0, f"{fl}: exit {rc}: {err[-800:]}")
            c = counters(err)
            check(int(c["s3 files-uploaded"]) == int(c["writer files"]), f"{fl}: uploads")
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        keys = list_objects(backend, "fleet/")
        aws(backend, "s3", "sync", "--no-progress", f"s3://{BUCKET}/fleet/",
            os.path.join(work, "flowlogs"))
        check(any(".log.gz" in k for k in keys) and any(".log.zst" in k for k in keys),
              "both compressions in the bucket")

        # Athena: columns as the header names them, partitions as the keys name them.
        ddl = blocks["athena-table"]
        body = ddl[ddl.index("(") + 1:ddl.index("PARTITIONED BY")]
        cols = [re.sub(r"[`\"]", "", c.strip().split()[0]) for c in body.rsplit(")", 1)[0].split(",")]
        check([c.replace("_", "-") for c in cols] == header.split(" "),
              f"Athena columns {cols} vs header {header}")
        part = ddl[ddl.index("PARTITIONED BY"):]
        part_cols = re.findall(r"`([a-z-]+)` string", part[:part.index(")")])
        key = next(k for k in keys if k.endswith(".log.gz"))
        key_parts = re.findall(r"([a-z-]+)=", key)
        check(part_cols == key_parts, f"Athena partitions {part_cols} vs key {key_parts}")

        # DuckDB, as the doc writes it, from the directory the doc syncs to.
        stmts = [s.strip() for s in (blocks["duckdb-table"] + ";" + blocks["top-talkers"]).split(";")
                 if s.strip()]
        got = [(r["interface_id"], r["srcaddr"], int(r["total_bytes"]), int(r["talker_rank"]))
               for r in duckdb_run(stmts, work)]
        want = []
        for eni in sorted({e for e, _ in talkers}):
            ranked = sorted(((a, b) for (e, a), b in talkers.items() if e == eni),
                            key=lambda x: (-x[1], x[0]))
            want += [(eni, a, b, i + 1) for i, (a, b) in enumerate(ranked[:5])]
        check(len(want) == 10, f"two interfaces, five talkers each: {want}")
        check(got == want, f"top talkers per interface:\n  duckdb {got}\n  want   {want}")


def case_telemetry_exporters():
    """The writer's, IPFIX's and S3's counters (and conservation's) through
    DPDK telemetry (/dpflow/exporters, /dpflow/conservation) and --metrics:
    once every window is written (wait), they are the exit summary's."""
    need_s3()
    import cli  # the prompt on a pty, the stock telemetry client
    try:
        telemetry_exporters(cli)
    except cli.Fail as e:
        raise Fail(str(e))


def telemetry_exporters(cli):
    prefix = "dpfexp%d" % os.getpid()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        mport = s.getsockname()[1]
    collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    collector.bind(("127.0.0.1", 0))
    eal = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
           "--log-level=lib.eal:error", "-l", "0-1"]
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp) as (port, log), collector:
        # The prompt's process inherits this one's environment: credentials, no proxy.
        os.environ.clear()
        os.environ.update(creds_env())
        t = cli.Pty(eal + ["--", "--replay", SAMPLE, "--window", "60", "--ipfix",
                           "udp://127.0.0.1:%d" % collector.getsockname()[1],
                           "--metrics", f"127.0.0.1:{mport}", "-i"] + META +
                    s3_opts(f"http://127.0.0.1:{port}", os.path.join(tmp, "out")))
        try:
            t.read_until(r"dpflow> ")
            t.send("wait\r")
            t.read_until(r"records: 45")
            docs = cli.telemetry_query(prefix, ["/dpflow/exporters", "/dpflow/conservation"])
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=60) as r:
                scrape = r.read().decode()
        finally:
            t.send("quit\r")
            rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1500:]}")
    check_no_secret(err, json.dumps(docs), scrape)
    c = counters(err)
    ex = docs["/dpflow/exporters"]
    check(set(ex) >= {"writer", "ipfix", "s3"}, f"exporters: {sorted(ex)}")
    n = int(c["writer files"])
    check(ex["writer"]["files"] == n >= 2 and ex["writer"]["lines"] == int(c["writer lines"]),
          f"writer: {ex['writer']} vs summary")
    check(ex["ipfix"]["records"] == int(c["ipfix records"]) == 45, f"ipfix: {ex['ipfix']}")
    # Spooling is the writer's (final after wait); uploads go on until the stop.
    check(ex["s3"]["files_spooled"] == int(c["s3 files-spooled"]) == n and
          ex["s3"]["files_uploaded"] <= int(c["s3 files-uploaded"]) == n and
          "spool_files" in ex["s3"] and "upload_failures" in ex["s3"], f"s3: {ex['s3']}")
    cons = docs["/dpflow/conservation"]
    check(cons["ok"] == 1 and cons["received"] == 88 == int(c["conservation received"]),
          f"conservation: {cons}")
    prom = dict(l.rsplit(" ", 1) for l in scrape.splitlines() if l and not l.startswith("#"))
    check(int(prom["dpflow_s3_files_spooled_total"]) == n and
          int(prom["dpflow_ipfix_records_total"]) == 45 and
          int(prom["dpflow_writer_files_total"]) == n, "metrics: exporters' counters")
    check("# TYPE dpflow_s3_spool_files gauge" in scrape and
          "# TYPE dpflow_s3_files_uploaded_total counter" in scrape, "metrics: s3 types")


def doc_block(path, name):
    """The fenced block of a doc that follows '<!-- test: NAME -->'."""
    with open(path) as f:
        m = re.search(rf"<!-- test: {name} -->\s*```[a-z]*\n(.*?)```", f.read(), re.S)
    check(m is not None, f"{path} has no '<!-- test: {name} -->' block")
    return m.group(1)


def duckdb_run(stmts, cwd):
    """Rows of the last statement, DuckDB (npm) run in cwd."""
    with open(os.path.join(cwd, "stmts.json"), "w") as f:
        json.dump(stmts, f)
    runner = os.path.join(NPM_DIR, "dpflow-duckdb-runner.mjs")
    with open(runner + ".tmp", "w") as f:
        f.write(DUCK_RUNNER)
    os.replace(runner + ".tmp", runner)
    p = subprocess.run(["node", runner, os.path.join(cwd, "stmts.json")], cwd=cwd,
                       capture_output=True, text=True, timeout=120, env=clean_env())
    check(p.returncode == 0, f"duckdb: {p.stderr[-1500:]}")
    return json.loads(p.stdout)


def load_conn():
    """tests/e2e/conn.py: the connection scenario and its model."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "conn", os.path.join(os.path.dirname(os.path.abspath(__file__)), "conn.py"))
    conn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conn)
    return conn


def case_ibm_s3():
    """IBM objects go to the bucket through the spool, next to the AWS files,
    under the prefix and IBM's own key (COS speaks S3): byte for byte the
    objects dpflow wrote."""
    need_s3()
    conn = load_conn()
    with tempfile.TemporaryDirectory() as tmp, s3rver(tmp) as backend, \
            gate(backend, tmp) as (port, _):
        cap = os.path.join(tmp, "conn.pcap")
        conn.build(cap)
        ibm = os.path.join(tmp, "ibm")
        rc, out, err = run_dpflow(conn.base_opts(tmp, cap, [
            "--ibm-output", ibm, "--s3-prefix", "cos", "--s3-keep-local", "yes"]) +
            s3_opts(f"http://127.0.0.1:{port}", os.path.join(tmp, "aws")), env=creds_env())
        check(rc == 0, f"exit {rc}: {err[-1500:]}")
        check_no_secret(out, err)
        c = counters(err)
        n_ibm, n_aws = int(c["ibm objects"]), int(c["writer files"])
        check(n_ibm >= 5, f"{n_ibm} IBM objects")
        n_tg = int(c["ibm tg-day-files"])
        check(n_tg == 1, f"{n_tg} daily tg-flow-logs files of a one-day capture")
        check(int(c["s3 files-uploaded"]) == n_ibm + n_aws + n_tg and
              int(c["s3 spool-files"]) == 0,
              f"uploaded {c['s3 files-uploaded']} of {n_ibm} + {n_aws} + {n_tg}")
        # The daily Trustgrid export: straight under the prefix, byte for byte
        # the local file, whose rows are the model's (conn.py's tg_daily).
        tg = {k: v for k, v in fetch_prefix(backend, "cos/", os.path.join(tmp, "fetch-all"))
              .items() if k.startswith("cos/tg-flow-logs-")}
        aws = os.path.join(tmp, "aws")
        tg_local = conn.tg_day_files(aws)
        check(sorted(tg) == ["cos/" + n for n in sorted(tg_local)],
              f"bucket {sorted(tg)} vs local {sorted(tg_local)}")
        for n in tg_local:
            check(tg["cos/" + n] == open(os.path.join(aws, n), "rb").read(), f"{n} bytes")
        want = [r for rows in conn.tg_model(cap).values() for r in rows]
        got = [r for rows in tg_local.values() for r in rows]
        check(sorted(json.dumps(r, sort_keys=True) for r in got) ==
              sorted(json.dumps(r, sort_keys=True) for r in want), "tg-flow-logs rows != model")
        objs = fetch_prefix(backend, "cos/ibm_vpc_flowlogs_v1/", os.path.join(tmp, "fetch"))
        local = {os.path.relpath(p, ibm): open(p, "rb").read() for p in files_under(ibm)}
        check(len(local) == n_ibm, f"{len(local)} local objects")
        check({"cos/" + k: v for k, v in local.items()} == objs,
              f"bucket {sorted(objs)[:2]} vs local {sorted(local)[:2]}")
        # A second run later the same day: the day's object is uploaded again,
        # whole (the first run's rows, then the second's), as the local file.
        cap2 = os.path.join(tmp, "conn2.pcap")
        conn.build(cap2, conn.W + 600)
        rc, out, err = run_dpflow(conn.base_opts(tmp, cap2, [
            "--ibm-output", ibm, "--s3-prefix", "cos", "--s3-keep-local", "yes"]) +
            s3_opts(f"http://127.0.0.1:{port}", aws), env=creds_env())
        check(rc == 0, f"second run: exit {rc}: {err[-1500:]}")
        check(counters(err).get("ibm tg-day-resumed") == "1", "the second run did not resume")
        tg = {k: v for k, v in fetch_prefix(backend, "cos/", os.path.join(tmp, "fetch-2"))
              .items() if k.startswith("cos/tg-flow-logs-")}
        tg_local = conn.tg_day_files(aws)
        check(sorted(tg) == ["cos/" + n for n in sorted(tg_local)] and len(tg) == 1,
              f"second run: bucket {sorted(tg)} vs local {sorted(tg_local)}")
        (n, rows), = tg_local.items()
        check(tg["cos/" + n] == open(os.path.join(aws, n), "rb").read(), f"second run: {n} bytes")
        want += [r for rows2 in conn.tg_model(cap2).values() for r in rows2]
        check(sorted(json.dumps(r, sort_keys=True) for r in rows) ==
              sorted(json.dumps(r, sort_keys=True) for r in want),
              f"second run: the day's object has {len(rows)} rows, both runs {len(want)}")


def case_ibm_duckdb():
    """DuckDB runs IBM's documented table FLOW and view FLOW_FLAT (IBM Cloud
    SQL Query's, https://cloud.ibm.com/docs/vpc?topic=vpc-fl-analyze, section
    "Analyzing flow logs by using IBM Cloud SQL Query"), as doc/records.md
    gives them in DuckDB, over dpflow's IBM objects: one row per flow log,
    with IBM's columns and types, the key's folders as columns; the rows equal
    tools/connmodel.py's flow logs for the same capture (tests/e2e/conn.py's
    scenario)."""
    npm_install()
    conn = load_conn()
    sql = doc_block(os.environ["RECORDS_DOC"], "ibm-duckdb")
    check("https://cloud.ibm.com/docs/vpc?topic=vpc-fl-analyze" in sql and
          "CREATE VIEW FLOW_FLAT" in sql, "the block is not IBM's documented view")
    stmts = [x.strip() for x in sql.split(";") if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "conn.pcap")
        conn.build(cap)
        rc, out, err = run_dpflow(conn.base_opts(tmp, cap, [
            "--output", os.path.join(tmp, "aws"), "--ibm-output", os.path.join(tmp, "ibm")]))
        check(rc == 0, f"dpflow: {err[-1500:]}")
        rows = duckdb_run(stmts, tmp)
        # IBM's view: its columns, in its order (was_termined: IBM's spelling).
        ibm_cols = ["version", "collector_crn", "attached_endpoint_type",
                    "network_interface_id", "instance_crn", "capture_start_time",
                    "capture_end_time", "vnic-id", "record-type", "year", "month", "day", "hour",
                    "stream-id", "start_time", "end_time", "connection_start_time", "direction",
                    "action", "initiator_ip", "target_ip", "initiator_port", "target_port",
                    "transport_protocol", "ether_type", "was_initiated", "was_termined",
                    "bytes_from_initiator", "packets_from_initiator", "bytes_from_target",
                    "packets_from_target", "cumulative_bytes_from_initiator",
                    "cumulative_packets_from_initiator", "cumulative_bytes_from_target",
                    "cumulative_packets_from_target"]
        check(rows and all(list(r) == ibm_cols for r in rows),
              f"FLOW_FLAT's columns: {list(rows[0]) if rows else None}")
        want = []
        for w, logs in conn.model(cap)["windows"].items():
            start = time.gmtime(int(w))
            for x in logs:
                r = {k: v for k, v in x.items() if k != "was_terminated"}
                r.update({"capture_start_time": time.strftime("%Y-%m-%d %H:%M:%S", start),
                          "network_interface_id": conn.ENI, "vnic-id": conn.ENI,
                          "record-type": "all", "year": start.tm_year, "month": start.tm_mon,
                          "day": start.tm_mday, "hour": start.tm_hour, "was_termined": None,
                          "version": "0.0.1", "attached_endpoint_type": "vnic"})
                want.append(r)
        check(len(want) > 10, f"the model has {len(want)} flow logs")
        for r in rows:
            check(re.fullmatch(r"\d{8}T\d{6}Z", r["stream-id"]) and
                  r["instance_crn"].endswith("::instance:0717_inst") and
                  r["collector_crn"].startswith("crn:v1:bluemix:public:is:us-south:a/a1b2c3::"),
                  f"header columns: {r}")
        skip = ("capture_end_time", "stream-id", "instance_crn", "collector_crn")
        norm = lambda r: json.dumps({k: (int(v) if isinstance(v, str) and v.isdigit() else v)
                                     for k, v in r.items() if k not in skip}, sort_keys=True)
        got = sorted(norm(r) for r in rows)
        check(got == sorted(norm(r) for r in want),
              f"DuckDB rows differ from the model:\n  duckdb {got[:3]}\n  model  "
              f"{sorted(norm(r) for r in want)[:3]}")
        print(f"ibm_duckdb: IBM's FLOW_FLAT view in DuckDB: {len(rows)} flow logs equal the "
              "model")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    name = sys.argv[1]
    try:
        CASES[name]()
    except Skip as e:
        print(f"SKIP {name}: {e}")
        sys.exit(SKIP)
    except Fail as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")
