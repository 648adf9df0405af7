#!/usr/bin/python3
"""Checks every #include and every link of a khospec target against layers.txt.

usage: check_layers.py SOURCE_DIR [LINKS_FILE]
       check_layers.py SOURCE_DIR --markdown     (the arrows as a table, for docs)

LINKS_FILE is written by CMake at configure time (cmake/KhospecLayers.cmake):
one line per khospec target, "target<TAB>source folder<TAB>linked targets;...".
Exit 0 when nothing crosses a forbidden arrow, 1 otherwise (each crossing is
printed as file:line: what it includes and which arrow it would need).
"""
import os
import re
import sys

link_of = {}  # header prefix -> its link target (for the docs table)
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = (".cpp", ".hpp", ".h", ".cc", ".in")


def load_layers(path):
    folders, external, external_links = {}, {}, {}
    global link_of
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("<") else line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(.*?):(?=\s|$)(.*)$", line)
            key, rest = (m.group(1), m.group(2)) if m else (line, None)
            if rest is None:
                sys.exit(f"{path}:{n}: expected 'folder: folders...'")
            if key.startswith("<"):
                # "<libfdt.h> khospec_libfdt:" -> header prefix "libfdt.h", link target
                header, _, link = key.partition(">")
                external[header.lstrip("<")] = rest.split()
                if link.strip():
                    external_links[link.strip()] = rest.split()
                    link_of[header.lstrip("<")] = link.strip()
            else:
                folders[key.strip()] = rest.split()
    for k, uses in folders.items():
        for u in uses:
            if u not in folders:
                sys.exit(f"{path}: '{k}' may use '{u}', which is not a listed folder")
    for k, users in external.items():
        for u in users:
            if u not in folders and u != "tests":
                sys.exit(f"{path}: <{k}> names '{u}', which is not a listed folder")
    return folders, external, external_links


def folder_of(rel, folders):
    best = None
    for f in folders:
        if rel == f or rel.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


def check_includes(src, folders, external):
    bad = []
    for folder in sorted(folders):
        root = os.path.join(src, folder)
        if not os.path.isdir(root):
            continue
        for dirpath, _, files in os.walk(root):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, src)
                own = folder_of(rel, folders)
                if own != folder:
                    continue  # a deeper listed folder owns it
                allowed = set(folders[own]) | {own}
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, inc = m.groups()
                        if kind == '"':
                            target = folder_of(inc, folders)
                            if target is not None and target not in allowed:
                                bad.append(f"{rel}:{n}: #include \"{inc}\": {own} -> {target} is not an arrow in layers.txt")
                        else:
                            is_test = name.endswith("_test.cpp")
                            for prefix, users in external.items():
                                if inc.startswith(prefix) and not (is_test and "tests" in users) and not any(
                                        own == u or own.startswith(u + "/") for u in users):
                                                        bad.append(f"{rel}:{n}: #include <{inc}>: only {', '.join(users)} may include it directly")
    return bad


def check_links(links_file, src, folders, external_links):
    bad = []
    target_folder = {}
    rows = []
    with open(links_file, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            tgt, sdir, deps = parts
            rel = os.path.relpath(sdir, src)
            target_folder[tgt] = folder_of(rel, folders)
            rows.append((tgt, rel, [d for d in deps.split(";") if d]))
    for tgt, rel, deps in rows:
        own = target_folder[tgt]
        if own is None:
            continue
        allowed = set(folders[own]) | {own}
        for d in deps:
            dep_folder = target_folder.get(d)
            if dep_folder is not None and dep_folder not in allowed:
                bad.append(f"{rel}: target {tgt} links {d}: {own} -> {dep_folder} is not an arrow in layers.txt")
            users = external_links.get(d)
            if users is not None and not (tgt.endswith("_test") and "tests" in users) and not any(
                    own == u or own.startswith(u + "/") for u in users):
                bad.append(f"{rel}: target {tgt} links {d}: only {', '.join(users)} may link it")
    return bad, len(rows)


def markdown(folders, external):
    out = ["| folder | may use |", "|---|---|"]
    for k, uses in folders.items():
        out.append(f"| `{k}/` | {', '.join('`' + u + '/`' for u in uses) or '(nothing)'} |")
    out.append("")
    out.append("| library header (link target) | only in |")
    out.append("|---|---|")
    for k, users in external.items():
        link = f" (`{link_of[k]}`)" if k in link_of else ""
        out.append(f"| `<{k}>`{link} | {', '.join(u if u == 'tests' else '`' + u + '/`' for u in users)} |")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sys.argv[1]
    folders, external, external_links = load_layers(os.path.join(src, "layers.txt"))
    if len(sys.argv) > 2 and sys.argv[2] == "--markdown":
        sys.stdout.write(markdown(folders, external))
        return 0
    bad = check_includes(src, folders, external)
    nlinks = 0
    if len(sys.argv) > 2:
        lbad, nlinks = check_links(sys.argv[2], src, folders, external_links)
        bad += lbad
    for b in bad:
        print(b)
    print(f"layers: {len(folders)} folders, {nlinks} targets checked, {len(bad)} crossing(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
