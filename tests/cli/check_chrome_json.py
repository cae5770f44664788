#!/usr/bin/env python3
"""tests/cli/check_chrome_json.py FILE[.gz]: structural check of a Chrome
trace-event JSON file as gort-trace export writes it, against the rules the
importers (chrome://tracing's and Perfetto's JSON importer) rely on:
  - top level {"traceEvents": [...]} with known "ph" values only;
  - every event has integer pid/tid and, except metadata, a ts >= 0;
  - "X" slices have dur >= 0 and nest properly per (pid, tid)
    (no partial overlap, which Perfetto drops as "improperly nested");
  - async "b"/"e" pair up by (cat, name, id), end not before begin;
  - flows "s"/"t"/"f" carry an id, and every flow id has one "s" and one "f";
  - counters "C" have numeric args; metadata "M" names threads that exist.
Prints a summary and exits 1 on the first violation."""
import gzip
import json
import sys
from collections import defaultdict

def fail(msg):
    print("chrome-json: " + msg)
    sys.exit(1)

opener = gzip.open if sys.argv[1].endswith(".gz") else open
d = json.load(opener(sys.argv[1], "rt"))
if not isinstance(d, dict) or not isinstance(d.get("traceEvents"), list):
    fail("no traceEvents array")
evs = d["traceEvents"]
known = set("XBEbenstfiICM")
slices = defaultdict(list)
asyncs = defaultdict(list)
flows = defaultdict(lambda: defaultdict(int))
tids = set()
for e in evs:
    ph = e.get("ph")
    if ph not in known:
        fail("unknown ph %r in %r" % (ph, e))
    if not isinstance(e.get("pid"), int) or not isinstance(e.get("tid"), int):
        fail("pid/tid not integers: %r" % e)
    if ph != "M":
        if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
            fail("bad ts: %r" % e)
        tids.add((e["pid"], e["tid"]))
    if ph == "X":
        if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
            fail("bad dur: %r" % e)
        slices[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
    elif ph in "be":
        if "id" not in e:
            fail("async event without id: %r" % e)
        asyncs[(e.get("cat"), e["name"], e["id"])].append((ph, e["ts"]))
    elif ph in "stf":
        if "id" not in e:
            fail("flow event without id: %r" % e)
        flows[(e.get("cat"), e["id"])][ph] += 1
    elif ph == "C":
        if not e.get("args") or not all(isinstance(v, (int, float)) for v in e["args"].values()):
            fail("counter without numeric args: %r" % e)
    elif ph == "M":
        if e.get("name") not in ("process_name", "thread_name", "thread_sort_index", "process_sort_index"):
            fail("unknown metadata %r" % e)
eps = 1e-6
for key, xs in slices.items():
    xs.sort(key=lambda s: (s[0], -s[1]))
    stack = []
    for a, b, name in xs:
        while stack and stack[-1][1] <= a + eps:
            stack.pop()
        if stack and b > stack[-1][1] + eps:
            fail("slices overlap without nesting on %r: %r and %r" % (key, stack[-1], (a, b, name)))
        stack.append((a, b, name))
for key, xs in asyncs.items():
    bs = sorted(t for p, t in xs if p == "b")
    es = sorted(t for p, t in xs if p == "e")
    if len(bs) != len(es):
        fail("async %r: %d begins, %d ends" % (key, len(bs), len(es)))
    if any(e < b - eps for b, e in zip(bs, es)):
        fail("async %r ends before it begins" % (key,))
for key, c in flows.items():
    if c["s"] != 1 or c["f"] > 1:
        fail("flow %r: %r" % (key, dict(c)))
names = {(e["pid"], e["tid"]) for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
unnamed = tids - names
if unnamed:
    fail("tracks without a thread_name: %r" % sorted(unnamed)[:5])
print("chrome-json: ok: %d events, %d slice tracks, %d async spans, %d flows" %
      (len(evs), len(slices), len(asyncs), len(flows)))
