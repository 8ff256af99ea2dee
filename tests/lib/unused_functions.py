#!/usr/bin/env python3
"""tests/lib/unused_functions.py: the functions a header of anonymise/, infra/ or etl/
declares that nothing calls (no indented line of the program or of a test names them),
one "header: name" a line. A call, a table entry or a function pointer sits on an indented
line; declarations and definitions start at column 0, comments and strings are left out.
Used by tests/integration/lint.sh: dead code is removed, not kept "in case".
"""
import glob
import re


def strip(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def main():
    headers = sorted(glob.glob("anonymise/*.h") + glob.glob("infra/*.h") + glob.glob("etl/*.h"))
    sources = sorted(set(glob.glob("anonymise/*.[ch]") + glob.glob("infra/*.[ch]")
                         + glob.glob("etl/*.[ch]") + glob.glob("tests/**/*.[ch]", recursive=True)))
    indented = "\n".join(line for f in sources for line in strip(open(f).read()).split("\n")
                         if line[:1] in (" ", "\t"))
    declaration = re.compile(
        r"^(?!#|typedef|struct \w+ \{|enum |static const)[A-Za-z_][\w \*]*?\b([a-z_]\w*)\s*\(",
        flags=re.M)
    for h in headers:
        for m in declaration.finditer(strip(open(h).read())):
            if not re.search(r"\b" + re.escape(m.group(1)) + r"\b", indented):
                print("%s: %s" % (h, m.group(1)))


if __name__ == "__main__":
    main()
