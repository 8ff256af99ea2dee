#!/usr/bin/env python3
"""tests/preflight/lib/pfjson.py: read `anonetl preflight --json` output.

  pfjson.py FILE status GROUP SUBJECT_PREFIX   the statuses of matching checks, one a line
  pfjson.py FILE detail GROUP SUBJECT_PREFIX   their details, one a line
  pfjson.py FILE summary                       "pass=N warn=N fail=N"
"""
import json
import sys


def main() -> int:
    path, what = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if what == "summary":
        s = doc["summary"]
        print(f"pass={s['pass']} warn={s['warn']} fail={s['fail']}")
        return 0
    group, prefix = sys.argv[3], sys.argv[4]
    for c in doc["checks"]:
        if c["group"] == group and c["subject"].startswith(prefix):
            print(c["status"] if what == "status" else c["detail"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
