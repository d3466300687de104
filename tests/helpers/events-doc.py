#!/usr/bin/env python3
"""events-doc.py ROOT [LOG...]: checks docs/EVENTS.md against the code and logs.

Every event name agentd/*.c writes (the literal names in each
auditlog_begin/auditlog_reopen call; a call whose name is a variable carries
an "/* events: a b */" comment on the lines before it) has a "### `name`"
section. With LOG files: every event in them has a section, and every field
of each line (and of objects inside its arrays, and of its objects as
`obj.field`) is named in its event's
section, or among the common fields. Prints what is missing; exit 1 then.
"""
import glob, json, os, re, sys

root = sys.argv[1]
doc = open(os.path.join(root, "docs/EVENTS.md"), encoding="utf-8").read()
sections, common = {}, ""
for part in re.split(r"^(?=#{2,3} )", doc, flags=re.M):
    m = re.match(r"### (.*)", part)
    if m:
        for name in re.findall(r"`([a-z_]+)`", m.group(1)):
            sections[name] = part
    elif part.startswith("## Every line"):
        common = part

bad, written = [], set()
for f in sorted(glob.glob(os.path.join(root, "agentd/*.c"))):
    src = open(f, encoding="utf-8").read()
    for m in re.finditer(r"auditlog_(begin|reopen)\s*\(([^;]*?)\)\s*;", src, re.S):
        names = re.findall(r'"([a-z_]+)"', m.group(2))
        line = src.count("\n", 0, m.start()) + 1
        if not names:
            before = "\n".join(src.split("\n")[max(0, line - 4):line])
            c = re.search(r"events:\s*([a-z_ ,]+?)\s*\*/", before)
            if c is None:
                bad.append(f"{os.path.relpath(f, root)}:{line}: event name is not a literal "
                           "and no /* events: ... */ comment names it")
                continue
            names = re.findall(r"[a-z_]+", c.group(1))
        written.update(names)
if len(written) < 8:
    bad.append(f"only {len(written)} event names found in agentd/*.c: {sorted(written)}")
for e in sorted(written):
    if e not in sections:
        bad.append(f"event {e} (written by agentd/*.c) has no section in docs/EVENTS.md")

def named(sec, key, parent=None):
    return f"`{key}`" in sec or (parent is not None and f"`{parent}[].{key}`" in sec)

seen = set()
for path in sys.argv[2:]:
    for raw in open(path, encoding="utf-8"):
        ev = json.loads(raw)
        e = ev["event"]
        seen.add(e)
        sec = sections.get(e)
        if sec is None:
            bad.append(f"event {e} (in {os.path.basename(path)}) has no section in docs/EVENTS.md")
            continue
        for k, v in ev.items():
            if not (named(sec, k) or named(common, k)):
                bad.append(f"{e}: field {k} is not documented")
            if isinstance(v, dict):
                bad += [f"{e}: field {k}.{s} is not documented"
                        for s in v if f"`{k}.{s}`" not in sec]
            if isinstance(v, list):
                for o in v:
                    if isinstance(o, dict):
                        bad += [f"{e}: field {k}[].{s} is not documented"
                                for s in o if not named(sec, s, k)]
bad = sorted(set(bad), key=bad.index)
for b in bad:
    print(b)
if len(sys.argv) > 2:
    print(f"events seen: {' '.join(sorted(seen))}", file=sys.stderr)
sys.exit(1 if bad else 0)
