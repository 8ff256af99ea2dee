#!/usr/bin/env bash
# infra/terraform/tests/moto_e2e.sh: the seed scenario applied end to end against moto
# (a local AWS API emulator on 127.0.0.1), then checked by anonetl's own preflight.
#
#   1. moto_server on a free loopback port; the production VPC (two route tables, the
#      source database security group) and the data team VPC (eu-west-1) made with boto3
#   2. examples/complete: terraform apply (data team peering pending-acceptance), with
#      config_file: the config bucket (versioned, encrypted) and the object; then the
#      new resources read back with boto3: the EventBridge rule on task exit codes
#      (moto's pattern matcher: exit 1 and 3 and a task that failed to start match, exit
#      0 and 7 and another cluster's task do not) and its SNS target, the alarm on Runs{Outcome=failed}, the RDS log
#      groups with their retention, the bucket's versioning and encryption; anonetl
#      reads its config from the bucket (`check -c s3://...`, signed GetObject)
#   3. its anonetl_aws_network_yaml appended to deploy/examples/minimal.yaml;
#      anonetl preflight --only peering,dns-option,route,sg: no FAIL, the pending
#      peering and its routes are WARN (the return routes on the production side PASS)
#   4. examples/data-team-accepter applied in eu-west-1 (accept, route, DNS option)
#   5. examples/complete applied again with data_team_peering_accepted=true
#   6. preflight again: every check PASS
#
# Needs terraform, the hashicorp/aws provider in a local mirror (ANONETL_TF_PLUGIN_DIR,
# default /opt/tf-plugins), python3 with moto and boto3, and ./anonetl. Prints TAP.
# Takes one to two minutes: tests/integration/deploy_artifacts.sh runs it whenever the
# tools are here (ANONETL_TF_E2E=0 leaves it out); ANONETL_TF_E2E_KEEP=1 keeps its
# work directory. All traffic stays on 127.0.0.1.
set -u
cd "$(dirname "$0")/../../.." || exit 1
. tests/lib/tap.sh

ANONETL=${ANONETL:-./anonetl}
TF_PLUGIN_DIR=${ANONETL_TF_PLUGIN_DIR:-/opt/tf-plugins}
work=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-tf-e2e.XXXXXX")
moto_pid=""
cleanup() {
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
    [ "${ANONETL_TF_E2E_KEEP:-0}" = 1 ] || rm -rf "$work" # keep: its logs, pf.json
}
trap cleanup EXIT

if ! command -v terraform >/dev/null || [ ! -d "$TF_PLUGIN_DIR/registry.terraform.io/hashicorp/aws" ] ||
    ! python3 -c 'import moto, boto3' 2>/dev/null || [ ! -x "$ANONETL" ]; then
    skip "terraform apply against moto" "needs terraform, the aws provider in $TF_PLUGIN_DIR, python3 moto+boto3 and $ANONETL"
    done_testing
    exit $?
fi

cat >"$work/terraformrc" <<TF
plugin_cache_dir = "$TF_PLUGIN_DIR"
plugin_cache_may_break_dependency_lock_file = true
provider_installation {
  filesystem_mirror {
    path    = "$TF_PLUGIN_DIR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
TF
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null && break
    sleep 0.2
done

python3 - "$work/ids.sh" <<'PY' || { not_ok "seed the production and data team VPCs in moto" "$(cat "$work/moto.log")"; done_testing; exit 1; }
import os, sys, boto3
ec2 = boto3.client("ec2", region_name="eu-west-2")
prod = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
rts = [ec2.create_route_table(VpcId=prod)["RouteTable"]["RouteTableId"] for _ in range(2)]
sg = ec2.create_security_group(GroupName="prod-db", Description="prod db", VpcId=prod)["GroupId"]
west1 = boto3.client("ec2", region_name="eu-west-1")
dt = west1.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
dt_rt = west1.create_route_table(VpcId=dt)["RouteTable"]["RouteTableId"]
account = boto3.client("sts", region_name="eu-west-2").get_caller_identity()["Account"]
with open(sys.argv[1], "w") as f:
    f.write(f"prod={prod} rt_a={rts[0]} rt_b={rts[1]} sg={sg} dt={dt} dt_rt={dt_rt} account={account}\n")
PY
ok "seed the production and data team VPCs in moto"
# shellcheck disable=SC1091 # written just above
. "$work/ids.sh"
# shellcheck disable=SC2154 # prod rt_a rt_b sg dt dt_rt account come from ids.sh
: "$prod $rt_a $rt_b $sg $dt $dt_rt $account"

cp -r infra/terraform "$work/tf"
complete="$work/tf/examples/complete"
cat >"$complete/terraform.tfvars" <<TF
production_vpc_id           = "$prod"
production_cidr             = "10.10.0.0/16"
production_route_table_ids  = { db-a = "$rt_a", db-b = "$rt_b" }
source_db_security_group_id = "$sg"
data_team_account_id        = "$account"
data_team_region            = "eu-west-1"
data_team_vpc_id            = "$dt"
data_team_cidr              = "10.30.0.0/16"
image                       = "$account.dkr.ecr.eu-west-2.amazonaws.com/anonetl@sha256:0000"
secret_arns                 = ["arn:aws:secretsmanager:eu-west-2:$account:secret:anonetl/source-reader-AbCdEf"]
container_secrets           = [{ name = "ANONETL_HASH_KEY", secret_arn = "arn:aws:secretsmanager:eu-west-2:$account:secret:anonetl/hash-key-AbCdEf" }]
allow_repair                = true
config_file                 = "$work/config.yaml"
TF
cp deploy/examples/minimal.yaml "$work/config.yaml"
# moto serves plain HTTP on loopback: the bucket's TLS-only policy would refuse the upload.
cat >"$complete/moto_override.tf" <<TF
module "config" {
  require_tls = false
}
TF

tf() { (cd "$1" && shift && terraform "$@" -input=false -no-color) >>"$work/terraform.log" 2>&1; }
# The checks run (peering, DNS options, routes, security groups) read the AWS APIs only, but
# the config names its databases by environment: loopback DSNs that nothing listens on.
preflight() { SOURCE_DATABASE_URL="host=127.0.0.1 port=9 dbname=app user=anonetl" \
    TARGET_DATABASE_URL="host=127.0.0.1 port=9 dbname=anon user=anonetl" \
    ANONETL_HASH_KEY=$(printf '%064d' 7) "$ANONETL" preflight -c "$work/anonetl.yaml" --only peering,dns-option,route,sg --json >"$work/pf.json" 2>"$work/pf.err"; }
count() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for c in d['checks'] if c['status']==sys.argv[2]))" "$work/pf.json" "$1" 2>/dev/null || echo "?"; }

if tf "$complete" init -backend=false && tf "$complete" apply -auto-approve; then
    ok "examples/complete: terraform apply (first step)"
else
    not_ok "examples/complete: terraform apply (first step)" "$(tail -30 "$work/terraform.log")"
    done_testing
    exit 1
fi
(cd "$complete" && terraform output -raw anonetl_aws_network_yaml) >"$work/sections.yaml" 2>>"$work/terraform.log"

# The alerting, logging and config resources, read back from moto.
s3_url=$(cd "$complete" && terraform output -raw config_s3_url 2>>"$work/terraform.log")
check "new resources: EventBridge rule on exit codes, SNS target, failed-run alarm, RDS log groups, config bucket" \
    python3 - "$s3_url" <<'PY'
import json, sys
import boto3
events = boto3.client("events", region_name="eu-west-2")
(rule,) = [r for r in events.list_rules()["Rules"] if r["Name"].endswith("-task-failed")]
pattern = rule["EventPattern"]
# moto implements neither TestEventPattern nor SNS targets: its own EventBridge pattern
# matcher (the one its PutEvents uses) judges the pattern as applied. That matcher does
# not descend into arrays of objects, which AWS flattens (containers[].exitCode is the
# array of the containers' exit codes); for this one-container task the flattened values
# are those of the container object itself, so the event carries that object.
from moto.events.models import EventPattern
def matches(**detail):
    d = {"clusterArn": json.loads(pattern)["detail"]["clusterArn"][0], "lastStatus": "STOPPED"}
    d.update(detail)
    if isinstance(d.get("containers"), list) and len(d["containers"]) == 1:
        d["containers"] = d["containers"][0]
    return EventPattern.load(pattern).matches_event(
        {"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": d})
assert matches(containers=[{"name": "anonetl", "exitCode": 1}]), "exit 1 must alert"
assert matches(containers=[{"name": "anonetl", "exitCode": 3}]), "exit 3 must alert"
assert not matches(containers=[{"name": "anonetl", "exitCode": 0}]), "exit 0 must not alert"
assert not matches(containers=[{"name": "anonetl", "exitCode": 7}]), "exit 7 (skipped) must not alert"
assert matches(stopCode="TaskFailedToStart", containers=[{"name": "anonetl"}]), "a task that failed to start must alert"
assert not matches(clusterArn="arn:aws:ecs:eu-west-2:123456789012:cluster/other",
                   containers=[{"name": "anonetl", "exitCode": 1}]), "another cluster's task must not alert"
(target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
sns = boto3.client("sns", region_name="eu-west-2")
topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
assert target["Arn"] in topics, (target, topics)
cw = boto3.client("cloudwatch", region_name="eu-west-2")
(alarm,) = [a for a in cw.describe_alarms()["MetricAlarms"] if a["AlarmName"].endswith("-run-failed")]
assert (alarm["Namespace"], alarm["MetricName"]) == ("anonetl", "Runs"), alarm
assert alarm["Dimensions"] == [{"Name": "Outcome", "Value": "failed"}], alarm["Dimensions"]
assert alarm["AlarmActions"] == [target["Arn"]], alarm["AlarmActions"]
logs = boto3.client("logs", region_name="eu-west-2")
groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups(logGroupNamePrefix="/aws/rds/instance/")["logGroups"]}
assert any(n.endswith("/postgresql") and r == 30 for n, r in groups.items()), groups
assert any(n.endswith("/upgrade") and r == 30 for n, r in groups.items()), groups
s3 = boto3.client("s3", region_name="eu-west-2")
bucket = sys.argv[1][5:].split("/", 1)[0]
assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rules
PY
s3_version=$(cd "$complete" && terraform output -raw config_s3_version_id 2>>"$work/terraform.log")
if out=$("$ANONETL" check -c "$s3_url" --log-format json 2>&1) &&
    printf '%s' "$out" | grep -q "\"event\":\"config_loaded\".*\"version_id\":\"$s3_version\""; then
    ok "anonetl check -c s3://...: the config Terraform uploaded, at the version it reported"
else
    not_ok "anonetl check -c s3://...: the config Terraform uploaded, at the version it reported" \
        "version=$s3_version $out"
fi
cat deploy/examples/minimal.yaml "$work/sections.yaml" >"$work/anonetl.yaml"
check "rendered config: anonetl check" "$ANONETL" check -c "$work/anonetl.yaml"

preflight
expect_eq "preflight after step 1: no FAIL" "0" "$(count FAIL)"
expect_eq "preflight after step 1: the pending data team peering and its 2 routes WARN" "3" "$(count WARN)"

pcx=$(cd "$complete" && terraform output -raw peering_data_team_id 2>/dev/null)
acc="$work/tf/examples/data-team-accepter"
if tf "$acc" init -backend=false &&
    tf "$acc" apply -auto-approve -var region=eu-west-1 -var "vpc_peering_connection_id=$pcx" \
        -var isolated_cidr=10.20.0.0/16 -var "route_table_ids={ analysts = \"$dt_rt\" }"; then
    ok "examples/data-team-accepter: terraform apply in eu-west-1"
else
    not_ok "examples/data-team-accepter: terraform apply in eu-west-1" "$(tail -30 "$work/terraform.log")"
fi
check "examples/complete: second apply with data_team_peering_accepted=true" \
    tf "$complete" apply -auto-approve -var data_team_peering_accepted=true

preflight
expect_eq "preflight after the accepter: no FAIL, no WARN" "0 0" "$(count FAIL) $(count WARN)"
expect_eq "preflight after the accepter: 12 PASS (2 peerings, 2 DNS options, 4 routes, 2 return routes, 2 security groups)" \
    "12" "$(count PASS)"

done_testing
