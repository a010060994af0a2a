#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run the fuzz targets (doc/reliability.md, "Fuzzing").

  fuzz.py replay BINARY TARGET
      Replay the seed corpus and tests/fuzz/crashes/TARGET (inputs that once
      crashed) through a target built without libFuzzer. Part of every build.
  fuzz.py run BINARY TARGET SECONDS [--corpus DIR] [--jobs N]
      libFuzzer for SECONDS, starting from the seeds (and DIR, which keeps the
      corpus across runs). Prints executions, coverage and corpus size; a
      crash fails the run and its input is saved as crash-* in the current
      directory (or DIR). tools/test.sh runs each target for a few seconds;
      doc/reliability.md has the longer command and its figures.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def seeds(target, out):
    subprocess.run([sys.executable, os.path.join(HERE, "seeds.py"), target, out], check=True,
                   stdout=subprocess.DEVNULL)
    crashes = os.path.join(HERE, "crashes", target)
    if os.path.isdir(crashes):
        for f in os.listdir(crashes):
            shutil.copy(os.path.join(crashes, f), os.path.join(out, "crash-" + f))


def replay(binary, target):
    with tempfile.TemporaryDirectory() as d:
        seeds(target, d)
        p = subprocess.run([binary, d], capture_output=True, text=True)
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr[-4000:])
        return p.returncode


def run(binary, target, seconds, corpus=None, jobs=1):
    with tempfile.TemporaryDirectory() as d:
        work = corpus or os.path.join(d, "corpus")
        os.makedirs(work, exist_ok=True)
        seed_dir = os.path.join(d, "seeds")
        seeds(target, seed_dir)
        artifacts = (corpus or os.getcwd()).rstrip("/") + "/"
        cmd = [binary, f"-max_total_time={seconds}", "-close_fd_mask=3", "-print_final_stats=1",
               "-timeout=10", "-rss_limit_mb=2048", "-max_len=16384",
               f"-artifact_prefix={artifacts}", work, seed_dir]
        if jobs > 1:
            cmd[1:1] = [f"-fork={jobs}", "-ignore_crashes=0"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        log = p.stderr
        execs = re.findall(r"stat::number_of_executed_units:\s+(\d+)", log)
        cov = re.findall(r"\bcov: (\d+) ft: (\d+) corp: (\d+)", log)
        crashed = p.returncode != 0
        summary = (f"fuzz {target}: {seconds} s, executions {execs[-1] if execs else '?'}, "
                   f"coverage {cov[-1][0] if cov else '?'} edges / {cov[-1][1] if cov else '?'} "
                   f"features, corpus {cov[-1][2] if cov else '?'}, "
                   f"crashes {1 if crashed else 0}")
        print(summary)
        if crashed:
            print(log[-6000:])
            return 1
        return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "replay":
        sys.exit(replay(sys.argv[2], sys.argv[3]))
    if len(sys.argv) >= 5 and sys.argv[1] == "run":
        args = sys.argv[5:]
        corpus = args[args.index("--corpus") + 1] if "--corpus" in args else None
        jobs = int(args[args.index("--jobs") + 1]) if "--jobs" in args else 1
        sys.exit(run(sys.argv[2], sys.argv[3], int(sys.argv[4]), corpus, jobs))
    sys.exit(__doc__)
