#!/usr/bin/python3
"""No comment cites a file outside the repository.

usage: check_citations.py SOURCE_DIR [FILE...]

Facts the code relies on are written in docs/ with their kernel source; a
comment names the kernel (file, function, release) or a file of this
repository, never a note or capture beside it. Comments are the text after
//, after # (in Python, CMake and shell files) and inside /* */ or a Python
docstring's first line block. Exit 0 when none cites an outside file, 1
otherwise (each as file:line: the citation).
"""
import os
import re
import subprocess
import sys

# What lies beside the repository: the shared reference notes, the captures
# and the regression reports, by folder or by name.
OUTSIDE = re.compile(
    r"\.\./shared|\bshared/(dumps|reference|regressions)\b|"
    r"\b(kho-model|kho-abi|upstream-2026-12|style-anchors)\.md\b")
LINE_COMMENT = {".cpp": "//", ".hpp": "//", ".h": "//", ".c": "//", ".in": "//",
                ".py": "#", ".cmake": "#", ".txt": "#", ".sh": "#", "": "#"}


def comments(path, text):
    ext = os.path.splitext(path)[1]
    marker = LINE_COMMENT.get(ext)
    if marker is None:
        return
    in_block = False
    in_doc = False
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if marker == "//":
            if in_block:
                yield n, line
                in_block = "*/" not in line
                continue
            if "/*" in line:
                yield n, line[line.index("/*"):]
                in_block = "*/" not in line[line.index("/*"):]
                continue
        if ext == ".py":
            if in_doc or s.startswith('"""'):
                yield n, line
                quotes = s.count('"""')
                in_doc = (not in_doc and quotes == 1) or (in_doc and quotes == 0)
                continue
        # A marker inside a string literal ("#include", "http://") is not a
        # comment; take the marker that follows code or starts the line.
        m = re.search(r'(^|\s)' + re.escape(marker), line)
        if m:
            yield n, line[m.end() - len(marker):]


def main(argv):
    src = argv[1]
    files = argv[2:] or subprocess.run(
        ["git", "-C", src, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    bad = 0
    for rel in files:
        if rel.startswith("docs/") or rel.endswith(".md"):
            continue
        path = os.path.join(src, rel)
        ext = os.path.splitext(rel)[1]
        script = ext == "" and rel.split("/")[0] in ("scripts", ".ci")
        if ext not in LINE_COMMENT or (ext == "" and not script):
            continue
        if ext == ".txt" and os.path.basename(rel) not in ("CMakeLists.txt", "layers.txt"):
            continue
        try:
            text = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        for n, comment in comments(rel, text):
            m = OUTSIDE.search(comment)
            if m:
                print(f"{rel}:{n}: comment cites {m.group(0)!r}, a file outside the repository: "
                      "cite the kernel, or write the fact in docs/ and cite that")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
