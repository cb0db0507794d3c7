"""workload.py - a deterministic Python allocation workload for heaplab's
preload tests and `make bench-preload`: dicts, lists, strings, JSON.

    python3 workload.py [SCALE]     (default 1; the benchmark uses more)

SCALE rounds of each kind, three a unit; a SCALE below 1 (the tests use a
few hundredths) is one round with every count scaled down, for policies
whose malloc is linear in the free blocks.

Prints a digest of everything it built, the same under any malloc.  Run
with PYTHONHASHSEED=0 and PYTHONMALLOC=malloc so CPython's small objects
reach malloc instead of its own pools.
"""
import hashlib
import json
import sys

scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
rounds = int(3 * scale) if scale >= 1 else 1


def count(n):
    """n, or its share at a SCALE below 1"""
    return n if scale >= 1 else max(1, int(n * scale))


h = hashlib.sha256()

for rnd in range(rounds):
    # dicts that grow and shrink: keys of mixed lengths
    d = {}
    for i in range(count(20000)):
        d["k%d-%s" % (i, "x" * (i % 37))] = [i, str(i) * (i % 5), {"n": i}]
    for i in range(0, count(20000), 3):
        del d["k%d-%s" % (i, "x" * (i % 37))]
    h.update(str(len(d)).encode())

    # lists of strings: split, join, sort, slices
    words = [("w%05d" % ((i * 7919) % 50000)) * (1 + i % 4) for i in range(count(50000))]
    words.sort()
    text = " ".join(words[::7])
    h.update(text[:1000].encode())
    parts = text.split(" ")
    h.update(str(len(parts)).encode())

    # JSON round trips of nested structures
    doc = {"round": rnd, "items": [{"id": i, "tags": ["t%d" % (i % 13)] * (i % 6), "v": i * 1.5}
                                   for i in range(count(8000))]}
    s = json.dumps(doc, sort_keys=True)
    back = json.loads(s)
    h.update(s[-200:].encode())
    h.update(str(sum(it["id"] for it in back["items"])).encode())

    # string building and bytes
    chunks = []
    for i in range(count(30000)):
        chunks.append(("%x" % (i * 2654435761 % 2**32)).rjust(i % 24))
    blob = "".join(chunks).encode()
    h.update(hashlib.sha256(blob).digest())

print(h.hexdigest())
