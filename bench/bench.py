#!/usr/bin/env python3
"""intake's benchmark orchestrator (run it through bench/run.sh, which builds and installs first).

For every workload and every server, in an order rotated from round to round: a fresh data
directory on the real disk, `sync` + drop the page cache (as root), start the server on a loopback
port, sample its process tree's RSS and CPU time while the load generator (bench/loadgen) runs,
stop the server by PID, remove its data. Writes bench/results/<date>-<host>.md and .json.

Standard library only. Every run is bounded in time; traffic goes to 127.0.0.1 only.
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1 << 20
GiB = 1 << 30

# PIDs this run started: the shell's EXIT trap reads this file and stops whatever is left.
PIDFILE = None
STARTED = {}


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def note_pid(pid, what):
    STARTED[pid] = what
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{pid}\n")


def stop_pid(proc, grace=10.0):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        STARTED.pop(getattr(proc, "pid", None), None)
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass
    STARTED.pop(proc.pid, None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def http(method, url, body=None, headers=None, timeout=60.0):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url, proc, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            http("GET", url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} does not answer after {timeout} s")


# --------------------------------------------------------------------------- process sampling


def proc_children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids = proc_children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def read_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        fields = st[st.rindex(")") + 2 :].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def read_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


class Sampler:
    """Polls a process tree: summed VmRSS (peak), each process's VmHWM, CPU ticks before/after."""

    def __init__(self, root_pid, interval=0.05):
        self.root, self.interval = root_pid, interval
        self.first_ticks, self.last_ticks, self.hwm = {}, {}, {}
        self.peak_rss = 0
        self.samples = 0
        self._stop = threading.Event()
        self.pids = tree(root_pid)
        for p in self.pids:
            t = read_cpu_ticks(p)
            if t is not None:
                self.first_ticks[p] = self.last_ticks[p] = t
        self._t = threading.Thread(target=self._run, daemon=True)

    def _poll(self):
        total = 0
        for p in self.pids:
            st = read_status(p)
            total += st.get("VmRSS", 0)
            if "VmHWM" in st:
                self.hwm[p] = max(self.hwm.get(p, 0), st["VmHWM"])
            t = read_cpu_ticks(p)
            if t is not None:
                self.first_ticks.setdefault(p, 0)  # appeared during the run: count all its time
                self.last_ticks[p] = t
        self.peak_rss = max(self.peak_rss, total)
        self.samples += 1

    def _run(self):
        n = 0
        while not self._stop.is_set():
            if n % 10 == 0:
                self.pids = tree(self.root)
            self._poll()
            n += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._poll()

    def result(self):
        ticks = sum(self.last_ticks[p] - self.first_ticks.get(p, 0) for p in self.last_ticks)
        return {
            "server_cpu_s": ticks / TICK,
            "peak_rss_mib": round(sum(self.hwm.values()) / MiB, 1),
            "peak_rss_polled_mib": round(self.peak_rss / MiB, 1),
            "processes": len(self.last_ticks),
        }


# --------------------------------------------------------------------------- servers


class Server:
    name = "?"
    label = "?"
    proto_big = proto_small = "multipart"

    def __init__(self, workdir, args):
        self.dir, self.args, self.proc = workdir, args, None
        self.data = os.path.join(workdir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.logf = open(os.path.join(workdir, "server.log"), "w")

    def stop(self):
        stop_pid(self.proc)
        self.logf.close()

    def loadgen_target(self, mode):
        """(url, proto, extra loadgen args) for a workload mode."""
        raise NotImplementedError


class Intake(Server):
    name, label = "intake", "intake"
    policy = {"scan": "off", "respond": "async"}

    def start(self):
        self.key = "bench_" + secrets.token_hex(16)
        out = os.path.join(self.dir, "stdout")
        env = dict(os.environ, INTAKE_ADMIN_KEY=self.key, INTAKE_LOG="warn")
        with open(out, "w") as so:
            self.proc = subprocess.Popen(
                [self.args.intake_bin, "serve", "--data-dir", self.data, "--listen", "127.0.0.1:0"]
                + (["--config", self.config] if getattr(self, "config", None) else []),
                stdout=so, stderr=self.logf, stdin=subprocess.DEVNULL, env=env, cwd=self.dir,
            )
        note_pid(self.proc.pid, "intake")
        end = time.time() + 60
        self.base = None
        while time.time() < end and self.base is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"intake exited with {self.proc.returncode}: see {self.logf.name}")
            with open(out) as f:
                m = re.search(r"intake listening on (http://\S+)", f.read())
            if m:
                self.base = m.group(1).rstrip("/")
            else:
                time.sleep(0.05)
        if self.base is None:
            raise RuntimeError("intake did not print its address within 60 s")
        st, body = http("PATCH", f"{self.base}/v1/projects/default", json.dumps({"policy": self.policy}).encode(),
                        {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        if st // 100 != 2:
            raise RuntimeError(f"PATCH policy: {st} {body[:300]!r}")

    def auth(self):
        return {"Authorization": f"Bearer {self.key}"}

    def loadgen_target(self, mode):
        return f"{self.base}/v1/projects/default/files", "multipart", ["--key", self.key]

    def catalog_metrics(self):
        """Commit latency quantiles and WAL fsyncs from /metrics (the SQLite catalog's group commit)."""
        st, body = http("GET", f"{self.base}/metrics")
        return commit_stats(body.decode()) if st == 200 else {}


class IntakeProc(Intake):
    """Every default on, and the upload answered after processing (respond: sync)."""
    name, label = "intake_proc", "intake, processing on (sync)"
    policy = {"respond": "sync"}


class IntakeS3(Intake):
    """intake with its blobs in an S3 store (Garage, from INTAKE_TEST_S3_*); processing off."""
    name, label = "intake_s3", "intake, S3 store (Garage)"

    def start(self):
        e = os.environ
        conf = os.path.join(self.dir, "intake.toml")
        with open(conf, "w") as f:
            f.write(f"""[storage]
backend = "s3"

[storage.s3]
endpoint = {json.dumps(e["INTAKE_TEST_S3_ENDPOINT"])}
bucket = {json.dumps(e["INTAKE_TEST_S3_BUCKET"])}
region = {json.dumps(e.get("INTAKE_TEST_S3_REGION", "garage"))}
access_key_id = {json.dumps(e["INTAKE_TEST_S3_ACCESS_KEY_ID"])}
secret_access_key = {json.dumps(e["INTAKE_TEST_S3_SECRET_ACCESS_KEY"])}
prefix = {json.dumps("bench-" + secrets.token_hex(6) + "/")}
""")
        self.config = conf
        super().start()


class Nginx(Server):
    name, label = "nginx", "nginx WebDAV PUT"

    def start(self):
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        tmp = os.path.join(self.data, ".tmp")
        os.makedirs(tmp, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
{user}
worker_processes 2;
worker_rlimit_nofile 16384;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_max_body_size 0;
  client_body_temp_path {tmp};
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    location /files/ {{
      root {self.data};
      dav_methods PUT;
      create_full_put_path on;
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir, "-e", f"{self.dir}/error.log"],
                                     stdout=self.logf, stderr=self.logf, stdin=subprocess.DEVNULL)
        note_pid(self.proc.pid, "nginx")
        wait_port(self.port, self.proc)
        time.sleep(0.2)  # workers up

    def loadgen_target(self, mode):
        return f"http://127.0.0.1:{self.port}/files/", "put", []


class Tus(Server):
    name, label = "tus", "@tus/server (one PATCH)"
    chunked = False

    def start(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["node", os.path.join(BENCH, "peers/tus/server.mjs"), str(self.port), self.data],
                                     stdout=self.logf, stderr=self.logf, stdin=subprocess.DEVNULL,
                                     cwd=os.path.join(BENCH, "peers/tus"))
        note_pid(self.proc.pid, "node @tus/server")
        wait_port(self.port, self.proc)

    def loadgen_target(self, mode):
        proto = "tus-chunked" if (self.chunked and mode == "big") else "tus"
        return f"http://127.0.0.1:{self.port}/files", proto, ["--chunk", str(8 * MiB)]


class TusChunked(Tus):
    name, label = "tus_chunked", "@tus/server (8 MiB PATCHes)"
    chunked = True


class FastAPI(Server):
    name, label = "fastapi", "FastAPI + uvicorn (2 workers)"

    def start(self):
        self.port = free_port()
        tmp = os.path.join(self.data, ".tmp")
        os.makedirs(tmp, exist_ok=True)
        env = dict(os.environ, BENCH_DATA_DIR=self.data, TMPDIR=tmp)
        self.proc = subprocess.Popen(
            [self.args.uvicorn, "app:app", "--app-dir", os.path.join(BENCH, "peers/fastapi"),
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2", "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning", "--backlog", "4096",
             "--timeout-keep-alive", "60"],
            stdout=self.logf, stderr=self.logf, stdin=subprocess.DEVNULL, env=env, cwd=self.dir)
        note_pid(self.proc.pid, "uvicorn")
        wait_http(f"http://127.0.0.1:{self.port}/openapi.json", self.proc, timeout=60)
        time.sleep(0.5)  # both workers up

    def loadgen_target(self, mode):
        return f"http://127.0.0.1:{self.port}/upload", "multipart", []


SERVERS = {c.name: c for c in (Intake, IntakeProc, IntakeS3, Nginx, Tus, TusChunked, FastAPI)}


# --------------------------------------------------------------------------- workloads


def workloads(args):
    """(id, title, mode, loadgen args, servers) per workload."""
    s = args.smoke
    peers = [] if s else ["nginx", "tus", "fastapi"]
    proc = ["intake_proc"] if args.with_proc else []
    big = 16 * MiB if s else args.big_size
    dur = "1" if s else str(args.duration)
    slow_n = 50 if s else 1000
    slow_rate = MiB if s else args.slow_rate
    return [
        ("big", f"1. one {big / MiB:.0f} MiB upload", "big", ["--size", str(big), "--timeout", "600"],
         ["intake"] + proc + peers + ([] if s else ["tus_chunked"]), args.rounds),
        ("small4k", "2a. 4 KiB uploads, 64 connections", "small",
         ["--size", "4096", "--conns", "64", "--duration", dur], ["intake"] + proc + peers, args.small_rounds),
        ("small64k", "2b. 64 KiB uploads, 8 connections", "small",
         ["--size", str(64 << 10), "--conns", "8", "--duration", dur], ["intake"] + peers, args.small_rounds),
        ("slow", f"3. {slow_n} concurrent slow uploads of 1 MiB at {slow_rate >> 10} KiB/s", "slow",
         ["--size", str(MiB), "--count", str(slow_n), "--rate", str(slow_rate), "--timeout", "120"],
         ["intake"] + peers, 1),
    ] + ([("s3", f"4a. one {big / MiB:.0f} MiB upload into the S3 store (Garage on loopback)", "big",
           ["--size", str(big), "--timeout", "600"], ["intake_s3"], 1)] if args.with_s3 else [])


def commit_stats(text):
    """p50/p99 (ms, linear within the bucket) of intake_catalog_commit_seconds, commits and WAL fsyncs."""
    buckets, count, fsyncs = [], 0, 0
    for line in text.splitlines():
        m = re.match(r'intake_catalog_commit_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m and m.group(1) != "+Inf":
            buckets.append((float(m.group(1)), float(m.group(2))))
        elif line.startswith("intake_catalog_commit_seconds_count "):
            count = int(float(line.split()[1]))
        elif line.startswith("intake_catalog_wal_fsyncs_total "):
            fsyncs = int(float(line.split()[1]))
    if not count:
        return {}

    def quantile(q):
        rank, prev_le, prev_n = q * count, 0.0, 0.0
        for le, n in sorted(buckets):
            if n >= rank:
                share = (rank - prev_n) / (n - prev_n) if n > prev_n else 1.0
                return (prev_le + share * (le - prev_le)) * 1000
            prev_le, prev_n = le, n
        return None  # beyond the last bucket

    return {"commit_p50_ms": quantile(0.5), "commit_p99_ms": quantile(0.99), "commits": count,
            "wal_fsyncs": fsyncs}


def drop_caches(args):
    os.sync()
    if args.no_drop_caches:
        return False
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run_case(args, wl, name, rnd):
    wid, _title, mode, lg_args, _servers, _rounds = wl
    workdir = os.path.join(args.scratch, f"{wid}-{name}-r{rnd}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    dropped = drop_caches(args)
    srv = SERVERS[name](workdir, args)
    res = {"workload": wid, "server": name, "round": rnd, "caches_dropped": dropped}
    try:
        srv.start()
        url, proto, extra = srv.loadgen_target(mode)
        cmd = [args.loadgen, mode, "--url", url, "--proto", proto] + extra + lg_args
        if mode == "small":
            cmd += ["--threads", str(args.client_threads)]
        with Sampler(srv.proc.pid) as smp:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        try:
            res.update(json.loads(p.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            res.update({"ok": 0, "errors": 1, "error_samples": [f"loadgen: {p.stderr[-500:]}"]})
        res.update(smp.result())
        if hasattr(srv, "catalog_metrics") and mode == "small":
            res["catalog"] = srv.catalog_metrics()
        n = res.get("ok", 0)
        if n:
            res["server_cpu_us_per_upload"] = res["server_cpu_s"] / n * 1e6
        if mode == "big" and res.get("ok"):
            res["server_cpu_s_per_gib"] = res["server_cpu_s"] / (res["bytes"] / GiB)
    except Exception as e:  # a server that fails to start is a result too
        res.update({"ok": 0, "errors": 1, "error_samples": [f"{type(e).__name__}: {e}"]})
    finally:
        srv.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
    brief = {k: res.get(k) for k in ("mb_per_s", "uploads_per_s", "p99_ms", "ok", "errors", "server_cpu_s",
                                      "peak_rss_mib") if res.get(k) is not None}
    log(f"{wid} {name} r{rnd}: {json.dumps(brief)}" + (f" {res.get('error_samples')}" if res.get("errors") else ""))
    return res


# --------------------------------------------------------------------------- intake-only


def make_pdf(pages):
    """A valid PDF of `pages` Letter pages, each with a line of text."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for i in range(pages):
        content = f"BT /F1 24 Tf 72 700 Td (intake benchmark page {i + 1}) Tj ET".encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        cnum = len(objs)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 3 0 R >> >> >>" % cnum)
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % pages
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def multipart(filename, data, ctype):
    b = "----benchpdf" + secrets.token_hex(8)
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


FINAL = {"ready", "rejected", "infected", "failed", "expired"}


def pdf_inspection(args, pages, wait_total):
    """Upload a `pages`-page PDF with the default policy (processing on, respond async) and time
    until its status is final, long-polling GET /v1/files/{id}?wait=30s."""
    workdir = os.path.join(args.scratch, f"pdf-{pages}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    drop_caches(args)
    srv = type("IntakeDefault", (Intake,), {"policy": {"respond": "async"}})(workdir, args)
    res = {"workload": "pdf", "server": "intake", "pages": pages}
    try:
        pdf = make_pdf(pages)
        res["bytes"] = len(pdf)
        srv.start()
        with Sampler(srv.proc.pid) as smp:
            body, ctype = multipart("report.pdf", pdf, "application/pdf")
            t0 = time.time()
            st, raw = http("POST", f"{srv.base}/v1/projects/default/files", body,
                           dict(srv.auth(), **{"Content-Type": ctype}))
            res["upload_status"] = st
            res["upload_s"] = time.time() - t0
            if st // 100 != 2:
                raise RuntimeError(f"upload answered {st}: {raw[:300]!r}")
            f = json.loads(raw)["files"][0]
            res["ok"], res["errors"] = 1, 0
            status, end = f.get("status"), t0 + wait_total
            while status not in FINAL and time.time() < end:
                w = max(1, min(30, int(end - time.time())))
                st, raw = http("GET", f"{srv.base}/v1/files/{f['id']}?wait={w}s", None, srv.auth(), timeout=w + 10)
                if st != 200:
                    raise RuntimeError(f"GET file answered {st}: {raw[:300]!r}")
                status = json.loads(raw).get("status")
            res["final_status"] = status
            res["until_final_s"] = time.time() - t0 if status in FINAL else None
            if status not in FINAL:
                res["note"] = f"status still {status!r} after {wait_total} s: processing not running in this build"
        res.update(smp.result())
    except Exception as e:
        res.update({"ok": 0, "errors": 1, "error_samples": [f"{type(e).__name__}: {e}"]})
    finally:
        srv.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
    log(f"pdf {pages} pages: {json.dumps({k: res.get(k) for k in ('final_status', 'until_final_s', 'ok')})}")
    return res


def s3_direct_put(args, size):
    """The same bytes PUT straight to the S3 store (Garage) with SigV4 and UNSIGNED-PAYLOAD, streamed
    from Python in 1 MiB writes: the store's own ceiling for workload 4."""
    import hashlib
    import hmac
    import http.client
    import urllib.parse
    e = os.environ
    ep = urllib.parse.urlparse(e["INTAKE_TEST_S3_ENDPOINT"])
    if ep.hostname not in ("127.0.0.1", "localhost", "::1"):
        return {"ok": 0, "errors": 1, "error_samples": ["S3 endpoint is not on loopback"]}
    bucket, region = e["INTAKE_TEST_S3_BUCKET"], e.get("INTAKE_TEST_S3_REGION", "garage")
    ak, sk = e["INTAKE_TEST_S3_ACCESS_KEY_ID"], e["INTAKE_TEST_S3_SECRET_ACCESS_KEY"]
    key = f"bench-direct-{secrets.token_hex(6)}"
    host = ep.netloc
    now = dt.datetime.now(dt.timezone.utc)
    amzdate, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")

    def sign(method, path):
        hdrs = {"host": host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": amzdate}
        names = ";".join(sorted(hdrs))
        canon = "\n".join([method, path, "", "".join(f"{k}:{hdrs[k]}\n" for k in sorted(hdrs)), names,
                           "UNSIGNED-PAYLOAD"])
        scope = f"{day}/{region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = ("AWS4" + sk).encode()
        for part in (day, region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={names}, "
                                 f"Signature={sig}")
        return hdrs

    res = {"workload": "s3", "server": "garage_direct", "bytes": size}
    chunk = os.urandom(MiB)
    path = f"/{bucket}/{key}"
    try:
        c = http.client.HTTPConnection(ep.hostname, ep.port or 80, timeout=600)
        t0 = time.time()
        c.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        for k, v in sign("PUT", path).items():
            c.putheader(k, v)
        c.putheader("content-length", str(size))
        c.endheaders()
        left = size
        while left:
            n = min(left, MiB)
            c.send(chunk[:n])
            left -= n
        r = c.getresponse()
        body = r.read()
        secs = time.time() - t0
        if r.status // 100 != 2:
            raise RuntimeError(f"PUT answered {r.status}: {body[:200]!r}")
        res.update({"ok": 1, "errors": 0, "seconds": secs, "mb_per_s": size / 1e6 / secs})
        c.request("DELETE", path, headers=sign("DELETE", path))
        c.getresponse().read()
        c.close()
    except Exception as ex:
        res.update({"ok": 0, "errors": 1, "error_samples": [f"{type(ex).__name__}: {ex}"]})
    log(f"s3 direct PUT to Garage: {json.dumps({k: res.get(k) for k in ('mb_per_s', 'ok', 'error_samples')})}")
    return res


def count_fsyncs(args):
    """strace -c the intake process during a short run of small and big uploads: fsyncs per upload."""
    if not shutil.which("strace"):
        return {"note": "strace not installed"}
    out = {}
    for label, mode, lg in (("4 KiB uploads, 8 connections, 3 s", "small",
                             ["--size", "4096", "--conns", "8", "--duration", "3"]),
                            ("one 256 MiB upload", "big", ["--size", str(256 * MiB)])):
        workdir = os.path.join(args.scratch, f"strace-{mode}")
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        srv = Intake(workdir, args)
        st = None
        try:
            srv.start()
            sfile = os.path.join(workdir, "strace.txt")
            st = subprocess.Popen(["strace", "-f", "-c", "-o", sfile, "-e",
                                   "trace=fsync,fdatasync,sync_file_range,fadvise64,syncfs,msync,rename,renameat,renameat2",
                                   "-p", str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            note_pid(st.pid, "strace")
            time.sleep(1.0)
            url, proto, extra = srv.loadgen_target(mode)
            p = subprocess.run([args.loadgen, mode, "--url", url, "--proto", proto] + extra + lg,
                               capture_output=True, text=True, timeout=300)
            r = json.loads(p.stdout.strip().splitlines()[-1])
            time.sleep(0.5)
            os.kill(st.pid, signal.SIGINT)
            st.wait(timeout=20)
            STARTED.pop(st.pid, None)
            calls = {}
            with open(sfile) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 5 and parts[-1] not in ("syscall", "total") and parts[0][0].isdigit():
                        calls[parts[-1]] = int(parts[3])
            n = max(r.get("ok", 0), 1)
            out[label] = {"uploads": r.get("ok", 0), "syscalls": calls,
                          "fsyncs_per_upload": round((calls.get("fsync", 0) + calls.get("fdatasync", 0)) / n, 2),
                          "sync_file_range_per_upload": round(calls.get("sync_file_range", 0) / n, 2),
                          "writeback_hints_per_upload": round((calls.get("sync_file_range", 0)
                                                               + calls.get("fadvise64", 0)) / n, 2),
                          "renames_per_upload": round(sum(v for k, v in calls.items() if k.startswith("rename")) / n, 2)}
        except Exception as e:
            out[label] = {"error": f"{type(e).__name__}: {e}"}
        finally:
            if st is not None and st.poll() is None:
                stop_pid(st, grace=5)
            srv.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        log(f"fsyncs, {label}: {json.dumps(out[label])}")
    return out


def profile_intake(args):
    """perf record (cpu-clock, call graphs) on intake during workloads 1 and 2; top symbols."""
    out = {}
    if subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
                      capture_output=True).returncode != 0:
        return {"note": "perf record -e cpu-clock does not work here"}
    for label, mode, lg in (("workload 1: one 1 GiB upload", "big", ["--size", str(GiB)]),
                            ("workload 2: 4 KiB uploads, 64 connections, 5 s", "small",
                             ["--size", "4096", "--conns", "64", "--duration", "5"])):
        workdir = os.path.join(args.scratch, f"perf-{mode}")
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        drop_caches(args)
        srv = Intake(workdir, args)
        pr = None
        try:
            srv.start()
            data = os.path.join(workdir, "perf.data")
            pr = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499", "-g", "-o", data,
                                   "-p", str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            note_pid(pr.pid, "perf")
            time.sleep(0.5)
            url, proto, extra = srv.loadgen_target(mode)
            subprocess.run([args.loadgen, mode, "--url", url, "--proto", proto] + extra + lg,
                           capture_output=True, text=True, timeout=300)
            os.kill(pr.pid, signal.SIGINT)
            pr.wait(timeout=60)
            STARTED.pop(pr.pid, None)
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol",
                                  "-g", "none", "--percent-limit", "1.5"], capture_output=True, text=True,
                                 timeout=300).stdout
            top = [re.sub(r"\s+-\s+-\s*$", "", l).rstrip() for l in rep.splitlines()
                   if l.strip() and not l.startswith("#")][:25]
            rep2 = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso",
                                   "-g", "none"], capture_output=True, text=True, timeout=300).stdout
            dso = [l.rstrip() for l in rep2.splitlines() if l.strip() and not l.startswith("#")][:8]
            out[label] = {"top_symbols": top, "by_dso": dso}
        except Exception as e:
            out[label] = {"error": f"{type(e).__name__}: {e}"}
        finally:
            if pr is not None and pr.poll() is None:
                stop_pid(pr, grace=30)
            srv.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        log(f"profiled {label}")
    return out


# --------------------------------------------------------------------------- machine, versions


def sh(cmd, default="?"):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip() or default
    except Exception:
        return default


def machine(args):
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "host": socket.gethostname(),
        "nproc": os.cpu_count(),
        "cpu": sh("awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo"),
        "memory": mem,
        "kernel": platform.release(),
        "disk": sh(f"findmnt -no SOURCE,FSTYPE,OPTIONS -T {args.scratch}"),
        "scratch": args.scratch,
    }


def versions(args):
    def node_pkg(name):
        try:
            with open(os.path.join(BENCH, "peers/tus/node_modules", name, "package.json")) as f:
                return json.load(f)["version"]
        except OSError:
            return None

    rev = sh(f"git -C {ROOT} rev-parse --short HEAD")
    dirty = sh(f"git -C {ROOT} status --porcelain --untracked-files=no -- crates Cargo.toml", default="")
    v = {"intake": os.environ.get("BENCH_INTAKE_VERSION") or (rev + (" (work tree modified)" if dirty else "")),
         "rustc": sh("rustc --version")}
    if not args.smoke:
        v.update({
            "nginx": sh("nginx -v 2>&1"),
            "node": sh("node --version"),
            "@tus/server": node_pkg("@tus/server"),
            "@tus/file-store": node_pkg("@tus/file-store"),
            "tus-js-client": node_pkg("tus-js-client"),
            "python": sh(f"{args.python} --version"),
        })
        v.update(json.loads(sh(
            f"{args.python} -c 'import json, importlib.metadata as m; print(json.dumps({{p: m.version(p) for p in "
            f"[\"fastapi\", \"python-multipart\", \"uvicorn\", \"uvloop\", \"httptools\", \"starlette\"]}}))'",
            default="{}")))
    return v


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --------------------------------------------------------------------------- report


def median_of(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None and r.get("ok")]
    return statistics.median(vals) if vals else None


def summarize(results):
    """Median per (workload, server) over rounds."""
    out = {}
    for r in results:
        out.setdefault(r["workload"], {}).setdefault(r["server"], []).append(r)
    summ = {}
    for wid, by in out.items():
        for name, rows in by.items():
            s = {"rounds": len(rows), "ok": sum(r.get("ok", 0) for r in rows),
                 "errors": sum(r.get("errors", 0) for r in rows),
                 "error_samples": [e for r in rows for e in r.get("error_samples", [])][:3]}
            for k in ("mb_per_s", "uploads_per_s", "p50_ms", "p99_ms", "max_ms", "server_cpu_s",
                      "server_cpu_s_per_gib", "server_cpu_us_per_upload", "peak_rss_mib", "peak_rss_polled_mib",
                      "seconds"):
                m = median_of(rows, k)
                if m is not None:
                    s[k] = m
            s["peak_rss_mib"] = max((r.get("peak_rss_mib") or 0) for r in rows)  # worst round
            if wid == "slow":
                s["all_ok"] = all(r.get("all_ok") for r in rows)
            if rows[-1].get("catalog"):
                s["catalog"] = rows[-1]["catalog"]
            summ.setdefault(wid, {})[name] = s
    return summ


def fmt(v, nd=0):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(a, b, higher_is_better=True):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def report_md(meta, summ, extra, labels):
    L = []
    L.append(f"# intake benchmark — {meta['date']} on {meta['machine']['host']}")
    L.append("")
    L.append(f"Command: `{meta['command']}`{' (smoke mode: intake only, tiny sizes; not a measurement)' if meta['smoke'] else ''}")
    L.append("")
    m = meta["machine"]
    L.append(f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, kernel {m['kernel']}")
    L.append(f"- Data on the real disk: `{m['scratch']}` ({m['disk']}); fresh directory per server and run; "
             f"page cache {'dropped (sync; echo 3 > /proc/sys/vm/drop_caches)' if meta['caches_dropped'] else 'NOT dropped'} "
             "before each run. No tmpfs: fsync costs are real for this (host-cached) virtual disk.")
    L.append(f"- Load average before: {meta['load_before']}; after: {meta['load_after']}"
             + ("" if meta["quiet"] else " — **the machine was busy (other builds): absolute figures are low and noisy; compare ratios**"))
    L.append(f"- Client and servers share the machine; load generator: bench/loadgen (Rust, hyper), "
             f"{meta['client_threads']} thread(s) for small uploads. Order of servers rotated per round; figures are medians over rounds "
             f"(workload 1: {meta['rounds']} rounds; workloads 2: {meta['small_rounds']}).")
    L.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v))
    L.append("- MB = 10^6 bytes. Server CPU = utime+stime of the server's process tree during the run; "
             "peak RSS = sum of VmHWM over the tree (exact for one process).")
    L.append("")
    for wid, title in meta["workload_titles"]:
        rows = summ.get(wid)
        if not rows:
            continue
        L.append(f"## {title}")
        L.append("")
        big = wid in ("big", "s3")
        slow = wid == "slow"
        if big:
            L.append("| server | MB/s | server CPU-s | CPU-s per GiB | peak RSS MiB | errors |")
            L.append("|---|---:|---:|---:|---:|---:|")
        elif slow:
            L.append("| server | succeeded | all ok | p50 s | max s | server CPU-s | peak RSS MiB |")
            L.append("|---|---:|---|---:|---:|---:|---:|")
        else:
            L.append("| server | uploads/s | p50 ms | p99 ms | errors | CPU µs per upload | peak RSS MiB |")
            L.append("|---|---:|---:|---:|---:|---:|---:|")
        for name, s in rows.items():
            lab = labels.get(name, name)
            if big:
                L.append(f"| {lab} | {fmt(s.get('mb_per_s'))} | {fmt(s.get('server_cpu_s'), 2)} | "
                         f"{fmt(s.get('server_cpu_s_per_gib'), 2)} | {fmt(s.get('peak_rss_mib'), 1)} | {s['errors']} |")
            elif slow:
                L.append(f"| {lab} | {s['ok']} | {'yes' if s.get('all_ok') else '**no**'} | "
                         f"{fmt((s.get('p50_ms') or 0) / 1000, 1)} | {fmt((s.get('max_ms') or 0) / 1000, 1)} | "
                         f"{fmt(s.get('server_cpu_s'), 2)} | {fmt(s.get('peak_rss_mib'), 1)} |")
            else:
                L.append(f"| {lab} | {fmt(s.get('uploads_per_s'))} | {fmt(s.get('p50_ms'), 2)} | "
                         f"{fmt(s.get('p99_ms'), 2)} | {s['errors']} | {fmt(s.get('server_cpu_us_per_upload'))} | "
                         f"{fmt(s.get('peak_rss_mib'), 1)} |")
        errs = [(n, s["error_samples"]) for n, s in rows.items() if s.get("error_samples")]
        for n, e in errs:
            L.append(f"\nErrors of {labels.get(n, n)}: `{'`; `'.join(x[:200] for x in e)}`")
        # Ratios: intake against each peer, same run.
        me = rows.get("intake")
        peers = [p for p in ("nginx", "tus", "tus_chunked", "fastapi") if p in rows]
        if me and peers:
            L.append("")
            if big:
                L.append("| intake ÷ | throughput | CPU-s per GiB | peak RSS |")
                L.append("|---|---:|---:|---:|")
                for p in peers:
                    s = rows[p]
                    L.append(f"| {labels.get(p, p)} | {ratio(me.get('mb_per_s'), s.get('mb_per_s'))} | "
                             f"{ratio(me.get('server_cpu_s_per_gib'), s.get('server_cpu_s_per_gib'))} | "
                             f"{ratio(me.get('peak_rss_mib'), s.get('peak_rss_mib'))} |")
            elif slow:
                L.append("| intake ÷ | peak RSS | server CPU-s |")
                L.append("|---|---:|---:|")
                for p in peers:
                    s = rows[p]
                    L.append(f"| {labels.get(p, p)} | {ratio(me.get('peak_rss_mib'), s.get('peak_rss_mib'))} | "
                             f"{ratio(me.get('server_cpu_s'), s.get('server_cpu_s'))} |")
            else:
                L.append("| intake ÷ | uploads/s | p99 latency | CPU per upload | peak RSS |")
                L.append("|---|---:|---:|---:|---:|")
                for p in peers:
                    s = rows[p]
                    L.append(f"| {labels.get(p, p)} | {ratio(me.get('uploads_per_s'), s.get('uploads_per_s'))} | "
                             f"{ratio(me.get('p99_ms'), s.get('p99_ms'))} | "
                             f"{ratio(me.get('server_cpu_us_per_upload'), s.get('server_cpu_us_per_upload'))} | "
                             f"{ratio(me.get('peak_rss_mib'), s.get('peak_rss_mib'))} |")
        L.append("")
    L.append("## 4. intake only")
    L.append("")
    pdf = extra.get("pdf")
    if pdf:
        if pdf.get("ok"):
            L.append(f"- PDF inspection: a {pdf['pages']}-page PDF ({pdf['bytes'] / 1e3:.0f} kB), default policy: upload answered "
                     f"{pdf.get('upload_status')} in {pdf.get('upload_s', 0) * 1000:.0f} ms; "
                     + (f"final status `{pdf['final_status']}` after {pdf['until_final_s']:.2f} s"
                        if pdf.get("until_final_s") is not None else f"**{pdf.get('note')}**")
                     + f"; server CPU {pdf.get('server_cpu_s', 0):.2f} s, peak RSS {pdf.get('peak_rss_mib')} MiB.")
        else:
            L.append(f"- PDF inspection: **failed**: {pdf.get('error_samples')}")
    L.append(f"- Processing off vs on: {extra.get('proc_note')}")
    s3 = summ.get("s3", {})
    if s3:
        me, direct = s3.get("intake_s3", {}), s3.get("garage_direct", {})
        L.append(f"- S3 store: intake into Garage {fmt(me.get('mb_per_s'))} MB/s (server CPU {fmt(me.get('server_cpu_s'), 2)} s, "
                 f"peak RSS {fmt(me.get('peak_rss_mib'), 1)} MiB, errors {me.get('errors')}); a direct SigV4 PUT of the "
                 f"same size to Garage {fmt(direct.get('mb_per_s'))} MB/s (errors {direct.get('errors')}); "
                 f"ratio {ratio(me.get('mb_per_s'), direct.get('mb_per_s'))}.")
    else:
        L.append("- S3 store: not run (no INTAKE_TEST_S3_ENDPOINT; `eval \"$(scripts/garage/start.sh DIR)\"` first).")
    cat = summ.get("small4k", {}).get("intake", {}).get("catalog")
    if cat:
        L.append(f"- Catalog commit latency under workload 2a (`intake_catalog_commit_seconds`: a write's start until "
                 f"its commit is durable, from buckets): p50 {fmt(cat.get('commit_p50_ms'), 2)} ms, "
                 f"**p99 {fmt(cat.get('commit_p99_ms'), 2)} ms**; {fmt(cat.get('commits'))} commits shared "
                 f"{fmt(cat.get('wal_fsyncs'))} WAL fsyncs "
                 f"({cat['commits'] / max(cat.get('wal_fsyncs') or 1, 1):.1f} commits per fsync).")
    else:
        L.append("- Catalog commit latency under workload 2: not run (workload 2a with intake was not selected).")
    L.append("")
    fs = extra.get("fsyncs")
    if fs:
        L.append("## Durability syscalls per upload (intake, strace -c -f; not a timing run)")
        L.append("")
        L.append("| run | uploads | fsync+fdatasync per upload | writeback started early (sync_file_range, fadvise) per upload | renames per upload | all counted |")
        L.append("|---|---:|---:|---:|---:|---|")
        for label, r in fs.items():
            if "error" in r or "note" in r:
                L.append(f"| {label} | — | — | — | — | {r.get('error') or r.get('note')} |")
            else:
                L.append(f"| {label} | {r['uploads']} | {r['fsyncs_per_upload']} | {r.get('writeback_hints_per_upload', r['sync_file_range_per_upload'])} | "
                         f"{r['renames_per_upload']} | `{json.dumps(r['syscalls'])}` |")
        L.append("")
    prof = extra.get("profile")
    if prof:
        L.append("## Profiles of intake (perf record -e cpu-clock -g, self time)")
        L.append("")
        for label, r in prof.items():
            L.append(f"### {label}")
            L.append("")
            if isinstance(r, dict) and "top_symbols" in r:
                L.append("By shared object:")
                L.append("```")
                L.extend(r["by_dso"])
                L.append("```")
                L.append("Top symbols (≥ 1.5 %):")
                L.append("```")
                L.extend(r["top_symbols"])
                L.append("```")
            else:
                L.append(f"{r}")
            L.append("")
    if extra.get("findings"):
        L.append("## Findings")
        L.append("")
        L.append(extra["findings"])
        L.append("")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="about a second per workload, intake only, tiny sizes")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of workload 1 (median reported)")
    ap.add_argument("--small-rounds", type=int, default=1, help="rounds of workloads 2")
    ap.add_argument("--duration", type=int, default=10, help="seconds per small-upload run")
    ap.add_argument("--big-size", type=int, default=GiB)
    ap.add_argument("--slow-rate", type=int, default=128 << 10, help="bytes/s per slow upload")
    ap.add_argument("--client-threads", type=int, default=1)
    ap.add_argument("--servers", default="", help="comma-separated subset (intake,intake_proc,nginx,tus,tus_chunked,fastapi)")
    ap.add_argument("--workloads", default="", help="comma-separated subset (big,small4k,small64k,slow,pdf,fsync,profile)")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--no-drop-caches", action="store_true")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--scratch", default=os.path.join(BENCH, "scratch"))
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    ap.add_argument("--intake-bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                                                         "release", "intake"))
    ap.add_argument("--loadgen", default=os.path.join(BENCH, "loadgen/target/release/intake-loadgen"))
    ap.add_argument("--python", default=os.path.join(BENCH, ".venv/bin/python"))
    ap.add_argument("--uvicorn", default=os.path.join(BENCH, ".venv/bin/uvicorn"))
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--findings", default=None, help="a Markdown file whose text goes into the report's Findings")
    args = ap.parse_args()

    global PIDFILE
    PIDFILE = args.pidfile
    args.scratch = os.path.abspath(args.scratch)
    args.intake_bin, args.loadgen = os.path.abspath(args.intake_bin), os.path.abspath(args.loadgen)
    if args.smoke:
        args.rounds = args.small_rounds = 1
    os.makedirs(args.scratch, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    only_w = set(filter(None, args.workloads.split(",")))
    only_s = set(filter(None, args.servers.split(",")))
    load_before = loadavg()
    quiet = float(load_before.split()[0]) < 1.0
    log(f"load average {load_before}{'' if quiet else ' (busy: figures will be noisy)'}")
    started = dt.datetime.now()

    results, extra = [], {}
    # Probe: does processing run in this build? (decides whether 'processing on' variants are run)
    args.with_proc = False
    if not only_w or "pdf" in only_w:
        pdf_pages = 500
        extra["pdf"] = pdf_inspection(args, pdf_pages, 10 if args.smoke else 60)
        args.with_proc = extra["pdf"].get("until_final_s") is not None
    if "pdf" not in extra:
        extra["proc_note"] = "not run (the PDF probe was not selected)."
    elif args.with_proc:
        extra["proc_note"] = ("`intake` runs with `scan: off, respond: async` (answered once durable); "
                              "`intake, processing on` with `respond: sync` (answered after processing) in workloads 1 and 2a.")
    else:
        extra["proc_note"] = ("**not measured**: processing did not finish in this build (the PDF's status never "
                              "became final), so only `scan: off, respond: async` (processing off) was run.")
    if only_s and "intake_proc" in only_s:
        args.with_proc = True

    args.with_s3 = (not args.smoke and bool(os.environ.get("INTAKE_TEST_S3_ENDPOINT"))
                    and (not only_w or "s3" in only_w))
    wls = workloads(args)
    labels = dict({n: c.label for n, c in SERVERS.items()}, garage_direct="Garage, direct SigV4 PUT (Python client)")
    failures = 0
    for wi, wl in enumerate(wls):
        wid, title, mode, lg, servers, rounds = wl
        if only_w and wid not in only_w:
            continue
        if only_s:
            servers = [s for s in servers if s in only_s]
        for rnd in range(rounds):
            k = (rnd + wi) % len(servers) if servers else 0
            for name in servers[k:] + servers[:k]:
                r = run_case(args, wl, name, rnd)
                results.append(r)
                if name.startswith("intake") and (r.get("errors") or not r.get("ok")):
                    failures += 1
    if args.with_s3:
        results.append(s3_direct_put(args, args.big_size))
    if extra.get("pdf") and not extra["pdf"].get("ok"):
        failures += 1

    if not args.smoke and (not only_w or "fsync" in only_w):
        extra["fsyncs"] = count_fsyncs(args)
    if not args.smoke and not args.no_profile and (not only_w or "profile" in only_w):
        extra["profile"] = profile_intake(args)
    if args.findings and os.path.exists(args.findings):
        with open(args.findings) as f:
            extra["findings"] = f.read().strip()

    load_after = loadavg()
    summ = summarize(results)
    host = socket.gethostname()
    stamp = started.strftime("%Y-%m-%d-%H%M")
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "command": os.environ.get("BENCH_COMMAND", "").strip() or ("python3 bench/bench.py " + " ".join(sys.argv[1:])).strip(),
        "smoke": args.smoke,
        "machine": machine(args),
        "versions": versions(args),
        "load_before": load_before,
        "load_after": load_after,
        "quiet": quiet,
        "caches_dropped": any(r.get("caches_dropped") for r in results),
        "rounds": args.rounds,
        "small_rounds": args.small_rounds,
        "client_threads": args.client_threads,
        "workload_titles": [(w[0], w[1]) for w in wls],
        "targets": {"big_vs_nginx": 1.0, "big_vs_tus": 2.0, "small4k_vs_tus": 2.0, "small4k_vs_nginx": 0.5,
                    "peak_rss_big_mib": 32, "peak_rss_slow_mib": 128},
    }
    md = report_md(meta, summ, extra, labels)
    base = os.path.join(args.out if not args.smoke else os.path.join(args.out, "tmp"),
                        f"{stamp}-{host}{'-smoke' if args.smoke else ''}")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + ".md", "w") as f:
        f.write(md)
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "summary": summ, "extra": extra, "runs": results}, f, indent=1, default=str)
    print(md)
    log(f"wrote {base}.md and .json")
    if failures:
        log(f"{failures} intake run(s) had failed uploads")
        return 1
    return 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    finally:
        for pid in list(STARTED):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    sys.exit(rc)
