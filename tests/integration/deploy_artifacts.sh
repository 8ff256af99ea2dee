#!/usr/bin/env bash
# tests/integration/deploy_artifacts.sh: checks the provisioning and deployment files
# (infra/terraform, deploy/) without a cloud account or a container engine.
#
#   terraform   fmt -check; validate against a local provider mirror when there is one;
#               terraform test of each module's tests/ (validations, planned resources)
#               (ANONETL_TF_PLUGIN_DIR, default /opt/tf-plugins: nothing is downloaded);
#               the anonetl-config module rendered with fixed ids, appended to an
#               example config, accepted by `anonetl check` (and a wrong id refused)
#   IAM         deploy/iam-policy.json names exactly the actions of the task role
#               policy in modules/etl-task
#   ECS         deploy/ecs-task-definition.json parses and has the hardening settings,
#               and agrees with the Terraform task definition on user and command
#   Dockerfile  stages, non-root user, entrypoint, CA bundle path; every library the
#               binary links comes from a runtime package it installs; every
#               pkg-config module the Makefile uses from a -dev package it installs;
#               every COPY source exists. (docker build itself needs an engine: skipped.)
#   systemd     systemd-analyze verify (no output allowed), sandbox exposure, exit 7 ok
#   cron        the crontab command line run with a stand-in binary exiting 0, 3, 7
#   man page    renders without warnings; documents every command and exit status
#   examples    `anonetl check` accepts every deploy/examples/*.yaml
#
# Tools that are missing (terraform, man, systemd-analyze, ./anonetl) turn their tests
# into TAP SKIPs with the reason. Runs in well under 20 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

ANONETL=${ANONETL:-./anonetl}
TF_PLUGIN_DIR=${ANONETL_TF_PLUGIN_DIR:-/opt/tf-plugins}
work=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }
have_anonetl() { [ -x "$ANONETL" ]; }

# ---------------------------------------------------------------- terraform

# A CLI config of our own: no ~/.terraformrc warnings, never the network registry.
tfrc="$work/terraformrc"
if [ -d "$TF_PLUGIN_DIR/registry.terraform.io/hashicorp/aws" ]; then
    cat >"$tfrc" <<EOF
plugin_cache_dir = "$TF_PLUGIN_DIR"
plugin_cache_may_break_dependency_lock_file = true
provider_installation {
  filesystem_mirror {
    path    = "$TF_PLUGIN_DIR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
else
    : >"$tfrc"
fi
export TF_CLI_CONFIG_FILE="$tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

if have terraform; then
    check "terraform fmt -check -recursive infra/terraform" terraform fmt -check -recursive -diff infra/terraform

    # every module has the files its README promises
    missing=""
    for m in infra/terraform/modules/*/; do
        for f in main.tf variables.tf outputs.tf versions.tf README.md; do
            [ -f "$m$f" ] || missing="$missing $m$f"
        done
    done
    expect_eq "every module has main, variables, outputs, versions and README" "" "$missing"

    # every variable and output has a description
    nodesc=$(awk '/^(variable|output) "/ { name = FILENAME ": " $1 " " $2; getline; if ($0 !~ /description/) print name }' \
        infra/terraform/modules/*/variables.tf infra/terraform/modules/*/outputs.tf \
        infra/terraform/examples/*/variables.tf infra/terraform/examples/*/outputs.tf)
    expect_eq "every variable and output starts with a description" "" "$nodesc"
else
    skip "terraform fmt -check -recursive infra/terraform" "terraform not installed"
    skip "every module has main, variables, outputs, versions and README" "terraform not installed"
    skip "every variable and output starts with a description" "terraform not installed"
fi

# validate: examples/complete (all modules but the accepter) plus the accepter module,
# in one root so the provider schema is loaded once.
if have terraform && [ -s "$tfrc" ]; then
    cp -r infra/terraform "$work/tf"
    root="$work/tf/examples/complete"
    cat >"$root/zz_accepter_validate.tf" <<'EOF'
module "validate_accepter" {
  source                    = "../../modules/peering-accepter"
  name                      = "validate"
  vpc_peering_connection_id = "pcx-0123456789abcdef0"
  requester_cidr            = "10.20.0.0/16"
  route_table_ids           = { a = "rtb-0123456789abcdef0" }
}
EOF
    if out=$(cd "$root" && terraform init -backend=false -input=false -no-color 2>&1); then
        ok "terraform init -backend=false (local provider mirror $TF_PLUGIN_DIR)"
        check "terraform validate examples/complete + peering-accepter" \
            sh -c "cd '$root' && terraform validate -no-color"
    else
        not_ok "terraform init -backend=false (local provider mirror $TF_PLUGIN_DIR)" "$out"
        skip "terraform validate examples/complete + peering-accepter" "init failed"
    fi
else
    skip "terraform init -backend=false" "no hashicorp/aws provider in $TF_PLUGIN_DIR (set ANONETL_TF_PLUGIN_DIR); providers cannot be downloaded here"
    skip "terraform validate examples/complete + peering-accepter" "no provider plugin"
fi

# terraform test (plan with a mocked provider, Terraform >= 1.7): each module's tests/
# check what its validation blocks refuse (CIDRs malformed or overlapping, Fargate
# cpu/memory pairs, retention values, ...) and what it plans (alerts, log groups, the
# config bucket, the rendered aws: section).
if have terraform && [ -s "$tfrc" ]; then
    for t in infra/terraform/modules/*/tests infra/terraform/examples/*/tests; do
        [ -d "$t" ] || continue
        d=${t%/tests}
        rm -rf "$work/tt" && cp -r infra/terraform "$work/tt"
        dd="$work/tt/${d#infra/terraform/}"
        if out=$(cd "$dd" && terraform init -backend=false -input=false -no-color 2>&1 &&
            terraform test -no-color 2>&1); then
            ok "terraform test ${d#infra/terraform/}: $(printf '%s\n' "$out" | grep -E '^Success!' | tail -1)"
        else
            not_ok "terraform test ${d#infra/terraform/}" "$(printf '%s\n' "$out" | tail -30)"
        fi
    done
else
    skip "terraform test of the modules" "no terraform or no hashicorp/aws provider in $TF_PLUGIN_DIR"
fi

# The whole scenario applied to moto on 127.0.0.1 and checked by anonetl preflight (one
# to two minutes): whenever terraform, the provider mirror and moto are here
# (ANONETL_TF_E2E=0 leaves it out). It ran only on request before, and broke unseen.
if [ "${ANONETL_TF_E2E:-1}" = 0 ]; then
    skip "infra/terraform/tests/moto_e2e.sh (terraform apply against moto, then preflight)" \
        "ANONETL_TF_E2E=0"
elif ! have terraform || [ ! -s "$tfrc" ] || ! python3 -c 'import moto, boto3' 2>/dev/null; then
    skip "infra/terraform/tests/moto_e2e.sh (terraform apply against moto, then preflight)" \
        "needs terraform, the hashicorp/aws provider in $TF_PLUGIN_DIR and python3 with moto and boto3"
elif out=$(bash infra/terraform/tests/moto_e2e.sh 2>&1) && ! printf '%s\n' "$out" | grep -q '^ok .* # SKIP'; then
    ok "infra/terraform/tests/moto_e2e.sh: apply, accept, re-apply against moto; preflight PASS"
else
    not_ok "infra/terraform/tests/moto_e2e.sh: apply, accept, re-apply against moto; preflight PASS" \
        "$(printf '%s\n' "$out" | grep -A8 -E '^not ok|# SKIP')"
fi

# anonetl-config needs no provider: render it for real and feed it to anonetl check.
if have terraform && have_anonetl; then
    cfg="$work/render"
    mkdir -p "$cfg"
    cat >"$cfg/main.tf" <<EOF
module "cfg" {
  source = "$PWD/infra/terraform/modules/anonetl-config"
  region = "eu-west-2"
  peerings = [
    { id = "pcx-0aaa1111bbbb2222c", dns_resolution = "true" },
    { id = "pcx-0ddd3333eeee4444f", dns_resolution = "requester", required = false },
  ]
  routes = [
    { route_table = "rtb-0123456789abcdef0", destination = "10.10.0.0/16", peering = "pcx-0aaa1111bbbb2222c" },
    { route_table = "rtb-0123456789abcdef0", destination = "10.30.0.0/16", peering = "pcx-0ddd3333eeee4444f" },
  ]
  security_groups = [{ group = "sg-0123456789abcdef0", port = 5432, from = "sg-0fedcba987654321f" }]
  endpoints = [
    { name = "source", expect_cidr = "10.10.0.0/16" },
    { name = "target", expect_cidr = "10.20.0.0/16" },
  ]
  base_yaml = file("$PWD/deploy/examples/minimal.yaml")
}
output "yaml" { value = module.cfg.yaml }
output "config_yaml" { value = module.cfg.config_yaml }
EOF
    if out=$(cd "$cfg" && terraform init -backend=false -input=false -no-color 2>&1 &&
        terraform apply -auto-approve -input=false -no-color 2>&1 &&
        terraform output -raw yaml >sections.yaml && terraform output -raw config_yaml >whole.yaml); then
        ok "anonetl-config module renders (terraform apply, no provider)"
        # the rendered sections appended to a config without them
        cat deploy/examples/minimal.yaml "$cfg/sections.yaml" >"$cfg/appended.yaml"
        check "rendered aws:/network: appended to minimal.yaml: anonetl check exits 0" \
            "$ANONETL" check -c "$cfg/appended.yaml"
        check "rendered whole config (base_yaml): anonetl check exits 0" "$ANONETL" check -c "$cfg/whole.yaml"
        expect_eq "dns_resolution true is a YAML boolean, requester a word" \
            '"dns_resolution": true|"dns_resolution": "requester"' \
            "$(grep -o '"dns_resolution": .*' "$cfg/sections.yaml" | paste -sd'|')"
        sed 's/pcx-0ddd3333eeee4444f/pcx-nothex/' "$cfg/appended.yaml" >"$cfg/bad.yaml"
        "$ANONETL" check -c "$cfg/bad.yaml" >"$cfg/bad.out" 2>&1
        rc=$?
        if [ "$rc" -eq 2 ] && grep -q 'aws.peerings\[1\].id' "$cfg/bad.out"; then
            ok "a wrong peering id in the rendered sections is refused (exit 2, names the key)"
        else
            not_ok "a wrong peering id in the rendered sections is refused (exit 2, names the key)" \
                "exit $rc: $(cat "$cfg/bad.out")"
        fi
    else
        not_ok "anonetl-config module renders (terraform apply, no provider)" "$out"
    fi
else
    skip "anonetl-config module renders and anonetl check accepts it" "needs terraform and $ANONETL"
fi

# ---------------------------------------------------------------- JSON, IAM, ECS

for f in deploy/*.json; do
    check "$f parses (python3 -m json.tool)" python3 -m json.tool "$f"
done

# The task role policy document block of modules/etl-task, its "service:Action" strings.
tf_actions=$(awk '/^data "aws_iam_policy_document" "task"/ { on = 1 } on { print } on && /^}/ { exit }' \
    infra/terraform/modules/etl-task/main.tf |
    awk '/actions *= *\[/ { on = 1 } on { print } on && /\]/ { on = 0 }' |
    grep -oE '"[a-z0-9-]+:[A-Za-z*]+"' | tr -d '"' | sort -u)
json_actions=$(python3 - deploy/iam-policy.json <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
acts = set()
for st in doc["Statement"]:
    a = st["Action"]
    acts.update([a] if isinstance(a, str) else a)
    assert st["Effect"] == "Allow", st
    assert "NotAction" not in st and "NotResource" not in st, st
print("\n".join(sorted(acts)))
EOF
)
if [ -n "$tf_actions" ]; then
    expect_eq "deploy/iam-policy.json has the same actions as the Terraform task role" "$tf_actions" "$json_actions"
else
    not_ok "deploy/iam-policy.json has the same actions as the Terraform task role" "no actions found in etl-task/main.tf"
fi
expect_eq "task role: the three repair actions exist only behind allow_repair" "3" \
    "$(awk '/^data "aws_iam_policy_document" "task"/ { on = 1 } on { print } on && /^}/ { exit }' \
        infra/terraform/modules/etl-task/main.tf |
        awk '/for_each = var.allow_repair/ { g = 1 } g && /"ec2:(Accept|Modify|Create)/ { n++ } /^  }$/ { g = 0 } END { print n + 0 }')"
check "iam-policy.json: no wildcard action, only Describe* on Resource *" python3 - deploy/iam-policy.json <<'EOF'
import json, sys
for st in json.load(open(sys.argv[1]))["Statement"]:
    acts = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
    res = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
    assert all("*" not in a for a in acts), acts
    if "*" in res:
        assert all(a.startswith("ec2:Describe") for a in acts), (acts, res)
EOF

check "ecs-task-definition.json: Fargate, read-only root, non-root, secrets, awslogs, no public surface" \
    python3 - deploy/ecs-task-definition.json <<'EOF'
import json, sys
td = json.load(open(sys.argv[1]))
assert td["requiresCompatibilities"] == ["FARGATE"], td["requiresCompatibilities"]
assert td["networkMode"] == "awsvpc"
assert td["taskRoleArn"] != td["executionRoleArn"]
(c,) = td["containerDefinitions"]
assert c["readonlyRootFilesystem"] is True
user = c["user"].split(":")[0]
assert user not in ("", "0", "root"), c["user"]
assert not c.get("privileged", False)
assert "portMappings" not in c, "the job serves nothing"
assert c["command"][:3] == ["run", "-c", "/etc/anonetl/anonetl.yaml"], c["command"]
assert "ALL" in c["linuxParameters"]["capabilities"]["drop"]
assert c["secrets"], "secrets come from Secrets Manager"
for s in c["secrets"]:
    assert s["valueFrom"].startswith("arn:aws:secretsmanager:"), s
for e in c.get("environment", []):
    assert not any(w in e["name"].upper() for w in ("KEY", "PASSWORD", "SECRET", "TOKEN", "DATABASE_URL")), e
lc = c["logConfiguration"]
assert lc["logDriver"] == "awslogs" and {"awslogs-group", "awslogs-region", "awslogs-stream-prefix"} <= lc["options"].keys()
EOF
tf_user=$(grep -oE 'user += "[0-9]+:[0-9]+"' infra/terraform/modules/etl-task/main.tf | grep -oE '[0-9]+:[0-9]+')
json_user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["containerDefinitions"][0]["user"])' deploy/ecs-task-definition.json)
docker_user=$(sed -n 's/^USER  *//p' deploy/Dockerfile | tail -1)
expect_eq "one non-root uid:gid in Dockerfile, ECS JSON and Terraform" "$docker_user $docker_user" "$json_user $tf_user"

# ---------------------------------------------------------------- Dockerfile

df=deploy/Dockerfile
expect_eq "Dockerfile: build stage debian:12, runtime debian:12-slim" \
    "FROM debian:12 AS build|FROM debian:12-slim AS runtime" "$(grep -E '^FROM ' $df | paste -sd'|')"
case "$docker_user" in
'' | 0 | 0:* | root | root:*) not_ok "Dockerfile: last USER is not root" "USER '$docker_user'" ;;
*) ok "Dockerfile: last USER is not root ($docker_user)" ;;
esac
expect_eq "Dockerfile: ENTRYPOINT is the binary" 'ENTRYPOINT ["/usr/local/bin/anonetl"]' "$(grep -E '^ENTRYPOINT' $df)"
expect_eq "Dockerfile: CMD runs the config" 'CMD ["run", "-c", "/etc/anonetl/anonetl.yaml"]' "$(grep -E '^CMD' $df)"
check "Dockerfile: RDS CA bundle path as ARG and ENV (ANONETL_RDS_CA, PGSSLROOTCERT)" sh -c \
    "grep -qE '^ARG ANONETL_RDS_CA=/etc/ssl/certs/rds-global-bundle.pem' $df &&
     grep -qE '^ENV ANONETL_RDS_CA=\\$\\{ANONETL_RDS_CA\\}' $df && grep -qE 'PGSSLROOTCERT=\\$\\{ANONETL_RDS_CA\\}' $df"

# the apt-get install lists of each stage
stage_pkgs() { # stage name -> packages its apt-get install names
    awk -v st="$1" '/^FROM / { cur = $NF } cur == st { print }' $df |
        sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep 'apt-get install' |
        sed 's/.*apt-get install//; s/&&.*//' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u
}
run_pkgs=$(stage_pkgs runtime)
build_pkgs=$(stage_pkgs build)
expect_eq "Dockerfile: no -dev package in the runtime stage" "" "$(printf '%s\n' "$run_pkgs" | grep -- '-dev$')"
if have_anonetl && have dpkg && have readelf && have ldd; then
    missing=""
    for lib in $(readelf -d "$ANONETL" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        # The copy the loader really uses (ldd), not any file of that name: libc6-i386
        # also ships a libm.so.6, under /lib32.
        path=$(ldd "$ANONETL" | awk -v l="$lib" '$1 == l && $3 ~ /^\// { print $3 }')
        pkg=$(dpkg -S "${path:-*/$lib}" 2>/dev/null | head -1 | cut -d: -f1)
        case "$pkg" in libc6 | '') continue ;; esac # libc6 is in every Debian image
        printf '%s\n' "$run_pkgs" | grep -qx "$pkg" || missing="$missing $lib($pkg)"
    done
    expect_eq "Dockerfile: runtime stage installs the package of every library $ANONETL links" "" "$missing"
else
    skip "Dockerfile: runtime stage installs the package of every library the binary links" "needs $ANONETL, dpkg, readelf"
fi
if have dpkg && have pkg-config; then
    missing=""
    # shellcheck disable=SC2013 # words, not lines
    for mod in $(sed -n 's/^PKGS *:= *//p' Makefile); do
        pc=$(pkg-config --variable=pcfiledir "$mod" 2>/dev/null)/$mod.pc
        pkg=$(dpkg -S "$pc" 2>/dev/null | head -1 | cut -d: -f1)
        [ -n "$pkg" ] || { missing="$missing $mod(not installed here)"; continue; }
        printf '%s\n' "$build_pkgs" | grep -qx "$pkg" || missing="$missing $mod($pkg)"
    done
    expect_eq "Dockerfile: build stage installs the -dev package of every pkg-config module in the Makefile" "" "$missing"
else
    skip "Dockerfile: build stage installs every pkg-config module of the Makefile" "needs dpkg and pkg-config"
fi
missing=""
# shellcheck disable=SC2013 # words, not lines
for src in $(grep -E '^COPY ' $df | grep -v -- '--from=' | awk '{ for (i = 2; i < NF; i++) print $i }'); do
    compgen -G "$src" >/dev/null || missing="$missing $src"
done
expect_eq "Dockerfile: every COPY source exists in the repository" "" "$missing"
if have docker && docker info >/dev/null 2>&1; then
    check "docker build -f deploy/Dockerfile" docker build -q -f $df -t anonetl:test .
else
    skip "docker build -f deploy/Dockerfile" "no container engine here (docker info fails)"
fi

# ---------------------------------------------------------------- systemd

svc=deploy/anonetl.service
for want in 'Type=oneshot' 'SuccessExitStatus=7 143' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
    'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'DynamicUser=yes' \
    'EnvironmentFile=/etc/anonetl/anonetl.env' 'LimitCORE=0' 'SystemCallErrorNumber=EPERM'; do
    check "anonetl.service: $want" grep -qxF "$want" $svc
done
for want in 'Persistent=true' 'Unit=anonetl.service'; do
    check "anonetl.timer: $want" grep -qxF "$want" deploy/anonetl.timer
done
check "anonetl.timer: OnCalendar and RandomizedDelaySec" sh -c \
    "grep -qE '^OnCalendar=.+' deploy/anonetl.timer && grep -qE '^RandomizedDelaySec=.+' deploy/anonetl.timer"
if have systemd-analyze; then
    sd="$work/systemd"
    mkdir -p "$sd/units" "$sd/man/man1"
    cp deploy/anonetl.timer "$sd/units/"
    bin=$(readlink -f "$ANONETL" 2>/dev/null)
    [ -x "$bin" ] || bin=/bin/true
    sed "s#/usr/local/bin/anonetl#$bin#" $svc >"$sd/units/anonetl.service"
    cp deploy/anonetl.1 "$sd/man/man1/"       # so Documentation=man:anonetl(1) resolves
    out=$(cd "$sd/units" && MANPATH="$sd/man" systemd-analyze verify ./anonetl.service ./anonetl.timer 2>&1)
    expect_eq "systemd-analyze verify anonetl.service anonetl.timer (no output)" "" "$out"
    check "systemd-analyze security: exposure at most 2.0" \
        systemd-analyze security --offline=yes --threshold=20 "$sd/units/anonetl.service"
else
    skip "systemd-analyze verify anonetl.service anonetl.timer" "systemd-analyze not installed"
    skip "systemd-analyze security" "systemd-analyze not installed"
fi

# ---------------------------------------------------------------- cron

line=$(grep -E '^[0-9*]' deploy/crontab.example | grep anonetl | head -1 | sed -E 's/^([^ ]+ +){6}//')
if [ -n "$line" ]; then
    printf 'FROM_ENV_FILE=yes\n' >"$work/anonetl.env"
    for code in 0 3 7; do
        cat >"$work/fake-anonetl" <<EOF
#!/bin/sh
[ "\$FROM_ENV_FILE" = yes ] || { echo "env file not exported" >&2; exit 99; }
echo '{"level":"info","msg":"fake run"}' >&2
exit $code
EOF
        chmod +x "$work/fake-anonetl"
        # systemd-cat execs the command (keeps its status); env does the same without journald
        cmd=$(printf '%s' "$line" | sed "s#/etc/anonetl/anonetl.env#$work/anonetl.env#; s#/usr/local/bin/anonetl#$work/fake-anonetl#; s#systemd-cat -t anonetl#env#")
        out=$(sh -c "$cmd" 2>/dev/null)
        case $code in
        3) expect_eq "crontab line: exit 3 prints one line (cron mails it)" \
            "anonetl run failed with exit status 3: journalctl -t anonetl" "$out" ;;
        *) expect_eq "crontab line: exit $code prints nothing (no mail)" "" "$out" ;;
        esac
    done
    case "$line" in *%*) not_ok "crontab line has no % (cron would cut it)" "$line" ;; *) ok "crontab line has no % (cron would cut it)" ;; esac
else
    not_ok "crontab.example has an anonetl line" "none found"
fi

# ---------------------------------------------------------------- man page

if have man && have groff; then
    out=$(man --warnings -l deploy/anonetl.1 2>&1 >/dev/null)
    expect_eq "man --warnings -l deploy/anonetl.1: no warnings" "" "$out"
    text=$(MANWIDTH=200 man -l deploy/anonetl.1 2>/dev/null | col -b 2>/dev/null || MANWIDTH=200 man -l deploy/anonetl.1 2>/dev/null)
    missing=""
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES 'SEE ALSO'; do
        printf '%s\n' "$text" | grep -qx "$s" || missing="$missing [$s]"
    done
    expect_eq "man page has every section" "" "$missing"
    cmds=$(printf '%s\n' "$text" | sed -n '/^COMMANDS$/,/^OPTIONS$/p')
    exits=$(printf '%s\n' "$text" | sed -n '/^EXIT STATUS$/,/^ENVIRONMENT$/p')
    missing=""
    for c in 0 1 2 3 4 5 6 7; do printf '%s\n' "$exits" | grep -qE "^ +$c( |$)" || missing="$missing $c"; done
    expect_eq "man page documents exit statuses 0-7" "" "$missing"
    if have_anonetl; then
        missing=""
        for c in $("$ANONETL" help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
            printf '%s\n' "$cmds" | grep -qE "^ +$c( |$)" || missing="$missing $c"
        done
        expect_eq "man page documents every command \`anonetl help\` lists" "" "$missing"
        missing=""
        opts=$("$ANONETL" help 2>&1 | grep -oE -- '--[a-z][a-z-]+')
        for c in $("$ANONETL" help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
            opts="$opts $("$ANONETL" help "$c" 2>&1 | grep -oE -- '--[a-z][a-z-]+')"
        done
        # shellcheck disable=SC2086 # split the option list
        for o in $(printf '%s\n' $opts | sort -u); do
            printf '%s\n' "$text" | grep -qF -- "$o" || missing="$missing $o"
        done
        expect_eq "man page mentions every option of every command's help" "" "$missing"
    else
        skip "man page documents every command \`anonetl help\` lists" "$ANONETL not built"
        skip "man page mentions every option of every command's help" "$ANONETL not built"
    fi
else
    skip "man --warnings -l deploy/anonetl.1" "man/groff not installed (apt-get install man-db groff-base)"
fi

# ---------------------------------------------------------------- example configs

for f in deploy/examples/*.yaml; do
    if have_anonetl; then
        check "anonetl check -c $f" "$ANONETL" check -c "$f"
    else
        skip "anonetl check -c $f" "$ANONETL not built (make anonetl)"
    fi
done

done_testing
