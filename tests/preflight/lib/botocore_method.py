#!/usr/bin/env python3
"""tests/preflight/lib/botocore_method.py: for each layout, which credential provider
botocore picks (Session.get_credentials().method, resolved lazily: no STS call is made)
against the source anonetl's chain reports (`$PROBE creds`, build/asan/aws_probe).

Arguments: a profile name (botocore Session(profile=NAME), aws_probe creds -p NAME: both
mean an explicitly named profile), or AWS_PROFILE=NAME (the variable only), optionally
with "+envkeys" (static keys in the environment too). Prints the disagreements, one line
each; nothing when they all agree. Uses the caller's environment (shared files, endpoints).
"""
import os
import subprocess
import sys

import botocore.session

OURS = {"env": "env", "shared-credentials-file": "shared-credentials",
        "config-file": "shared-config", "custom-process": "process",
        "assume-role": "assume-role", "assume-role-with-web-identity": "web-identity",
        "container-role": "container", "iam-role": "imds"}


def main():
    bad = []
    base_env = dict(os.environ)
    for layout in sys.argv[1:]:
        env = dict(base_env)
        profile = None
        if layout.startswith("AWS_PROFILE="):
            name, _, extra = layout[len("AWS_PROFILE="):].partition("+")
            env["AWS_PROFILE"] = name
            if extra == "envkeys":
                env["AWS_ACCESS_KEY_ID"] = "AKIAENVLAYOUT0000001"
                env["AWS_SECRET_ACCESS_KEY"] = "layout-secret-not-used"
        else:
            profile = layout
        os.environ.clear()
        os.environ.update(env)
        session = botocore.session.Session(profile=profile)
        creds = session.get_credentials()
        want = OURS.get(creds.method, creds.method) if creds else "none"
        args = [env["PROBE"], "creds"] + (["-p", profile] if profile else [])
        out = subprocess.run(args, env=env, capture_output=True, text=True).stdout
        got = out.split()[0].split("=", 1)[1] if out.startswith("source=") else "error"
        if got != want:
            bad.append(f"{layout}: botocore {want}, anonetl {got}")
    os.environ.clear()
    os.environ.update(base_env)
    print("\n".join(bad))


if __name__ == "__main__":
    main()
