"""tests/preflight/lib/aws_topology.py: builds copies of the seed AWS topology in a moto
server with botocore (signed requests, so it works with moto's signature checking on),
each with at most one fault, for tests/preflight/aws_moto.sh; and reads back the state
of given resources so the test can tell whether anything was changed.

    MOTO_URL=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
        python3 aws_topology.py build [--data-user] [LABEL=]FAULT...
    MOTO_URL=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
        python3 aws_topology.py state ID...

build: one topology per FAULT (all in the same moto, told apart by their ids), printed
as shell assignments LABEL_PCX_MAIN=... LABEL_PCX_DATA LABEL_RTB_ISO LABEL_RTB_MAIN
LABEL_SG_DB LABEL_IGW (LABEL defaults to FAULT), then DATA_CROSS_ACCOUNT=yes|no.
With --data-user (first, inside moto's no-auth window: 3 actions) an allow-all IAM user
is created in the data team's account 222222222222 with moto's default "testing" keys
and the data team VPCs are created in that account (moto checks the key against the
account in the x-moto-account-id header); without it they are in our account, other
region, and DATA_CROSS_ACCOUNT=no.

state: one line per resource, sorted, for diffing (ids: pcx-, rtb-, sg-):
    peering ID STATUS requester_dns=BOOL accepter_dns=BOOL
    route RTB DESTINATION TARGET STATE          (one line per route)
    sg ID PROTO FROM-TO SOURCE                 (one line per CIDR or group of a rule)

Topology (region us-east-1, our account = the IAM user's):
  main VPC 10.10.0.0/16 --pcx_main (accepted, DNS both sides)--> isolated VPC 10.20.0.0/16
  isolated VPC --pcx_data (pending-acceptance)--> data team VPC 10.30.0.0/16 (account
  222222222222, region eu-west-1; its acceptance is not exercised);
  rtb_iso (isolated VPC): 10.10.0.0/16 -> pcx_main, 10.30.0.0/16 -> pcx_data;
  rtb_main (main VPC): 10.20.0.0/16 -> pcx_main; an internet gateway on the isolated VPC;
  sg_db (isolated VPC): tcp 5432 from 10.10.0.0/16 and from 10.30.0.0/16.

FAULT p_*: the path analysis layouts of aws_path_topology.py (one region each; printed as
LABEL_JOB_VPC, LABEL_PCX, LABEL_RTB_JOB, LABEL_SG_DB, LABEL_REGION, ...).

FAULT: none, pending (pcx_main never accepted), dns_off (accepted, no DNS options),
missing_route (no 10.10.0.0/16 route in rtb_iso), blackhole (pcx_main deleted after the
routes were made: moto never marks a route blackhole itself, the check reads the
peering's state), igw (rtb_iso 10.10.0.0/16 via the internet gateway), igw_wide (no
10.10.0.0/16 route in rtb_iso, 10.0.0.0/8 via the internet gateway: the longest match
for the peer is wrong), wrong_pcx (rtb_iso 10.10.0.0/16 via pcx_data), sg_missing (no 5432 ingress from 10.10.0.0/16), repairable
(pending + dns_off + missing_route).
"""
import json
import os
import sys

import botocore.session

import aws_path_topology

REGION = "us-east-1"
DATA_REGION = "eu-west-1"
DATA_ACCOUNT = "222222222222"
# path layouts with the data team's VPC (aws_path_topology._data_team)
DATA_TEAM_LAYOUTS = ("p_lab", "p_iso_direct", "n_iso_direct")
FAULTS = {"none", "pending", "dns_off", "missing_route", "blackhole", "igw", "igw_wide",
          "wrong_pcx", "sg_missing", "repairable"}


def client(region, account=None, service="ec2", akid=None, secret=None):
    s = botocore.session.get_session()
    c = s.create_client(
        service, region_name=region, endpoint_url=os.environ["MOTO_URL"],
        aws_access_key_id=akid or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"])
    if account:
        def add_header(request, **_):
            request.headers["x-moto-account-id"] = account
        c.meta.events.register("before-sign.%s.*" % service, add_header)
    return c


def vpc(c, cidr):
    return c.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def data_user():
    """An allow-all IAM user of the data team's account: (akid, secret)."""
    iam = client(REGION, DATA_ACCOUNT, "iam", "testing", "testing")
    iam.create_user(UserName="data-team")
    iam.put_user_policy(UserName="data-team", PolicyName="allow-all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="data-team")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def cmd_deny_user(args):
    """deny-user NAME ACTION...: an IAM user of our account allowed everything but ACTIONs
    (made with our user's signed keys); prints its key id and secret."""
    name, actions = args[0], args[1:]
    iam = client(REGION, None, "iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all-but", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Action": actions, "Resource": "*"}]}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    print(k["AccessKeyId"], k["SecretAccessKey"])


def peer(ec2, vpc_id, peer_vpc, **kw):
    return ec2.create_vpc_peering_connection(VpcId=vpc_id, PeerVpcId=peer_vpc, **kw)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]


def data_side(ec2, iso_vpc, data):
    """The data team's VPC and the pending peering to it."""
    if data:
        data_vpc = vpc(data, "10.30.0.0/16")
        return peer(ec2, iso_vpc, data_vpc, PeerOwnerId=DATA_ACCOUNT, PeerRegion=DATA_REGION)
    return peer(ec2, iso_vpc, vpc(client(DATA_REGION), "10.30.0.0/16"), PeerRegion=DATA_REGION)


def build(ec2, data, fault):
    """One topology with one fault; a dict of its ids."""
    main_vpc = vpc(ec2, "10.10.0.0/16")
    iso_vpc = vpc(ec2, "10.20.0.0/16")
    pcx_data = data_side(ec2, iso_vpc, data)
    pcx_main = peer(ec2, main_vpc, iso_vpc)
    if fault not in ("pending", "repairable"):
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_main)
        if fault != "dns_off":
            ec2.modify_vpc_peering_connection_options(
                VpcPeeringConnectionId=pcx_main,
                RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True},
                AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=iso_vpc)
    rtb_iso = ec2.create_route_table(VpcId=iso_vpc)["RouteTable"]["RouteTableId"]
    rtb_main = ec2.create_route_table(VpcId=main_vpc)["RouteTable"]["RouteTableId"]
    to_main = {"igw": {"GatewayId": igw}, "wrong_pcx": {"VpcPeeringConnectionId": pcx_data},
               "missing_route": None, "repairable": None, "igw_wide": None}.get(
                   fault, {"VpcPeeringConnectionId": pcx_main})
    if to_main:
        ec2.create_route(RouteTableId=rtb_iso, DestinationCidrBlock="10.10.0.0/16", **to_main)
    if fault == "igw_wide":
        ec2.create_route(RouteTableId=rtb_iso, DestinationCidrBlock="10.0.0.0/8", GatewayId=igw)
    ec2.create_route(RouteTableId=rtb_iso, DestinationCidrBlock="10.30.0.0/16",
                     VpcPeeringConnectionId=pcx_data)
    ec2.create_route(RouteTableId=rtb_main, DestinationCidrBlock="10.20.0.0/16",
                     VpcPeeringConnectionId=pcx_main)
    if fault == "blackhole":
        ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx_main)

    sg_db = ec2.create_security_group(GroupName="db-" + iso_vpc, Description="database",
                                      VpcId=iso_vpc)["GroupId"]
    ranges = [{"CidrIp": "10.30.0.0/16"}]
    if fault != "sg_missing":
        ranges.append({"CidrIp": "10.10.0.0/16"})
    ec2.authorize_security_group_ingress(
        GroupId=sg_db, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                       "IpRanges": ranges}])
    return {"PCX_MAIN": pcx_main, "PCX_DATA": pcx_data, "RTB_ISO": rtb_iso,
            "RTB_MAIN": rtb_main, "SG_DB": sg_db, "IGW": igw}


def cmd_build(args):
    data = None
    data_keys = None
    if args and args[0] == "--data-user":
        args = args[1:]
        try:
            akid, secret = data_user()
            data_keys = (akid, secret)
            data = client(DATA_REGION, DATA_ACCOUNT, "ec2", akid, secret)
        except Exception as e:  # an older moto: the data VPCs go into our account
            print("aws_topology.py: no data team account (%s)" % e, file=sys.stderr)
    ec2 = client(REGION)
    regions = iter(aws_path_topology.REGIONS)
    region_of = {}
    for arg in args:
        label, _, fault = arg.rpartition("=")
        # FAULT@LABEL: in LABEL's region (every region is taken; a layout of the netns plan,
        # n_*, has addresses of its own and can sit beside one of the reference plan)
        fault, _, beside = fault.partition("@")
        label = label or fault
        if aws_path_topology.is_fault(fault) and label.isidentifier():
            region = region_of[beside] if beside else next(regions)
            region_of[label] = region
            dc = client(region, DATA_ACCOUNT, "ec2", data_keys[0], data_keys[1]) \
                if data_keys else None
            if fault == "p_xregion":  # our account, another region
                dc = client(DATA_REGION)
            elif fault in DATA_TEAM_LAYOUTS:  # the data team's VPC: their account and region
                dc = client(DATA_REGION, DATA_ACCOUNT, "ec2", data_keys[0], data_keys[1]) \
                    if data_keys else client(DATA_REGION)
            ids = aws_path_topology.build(client(region), fault, dc)
        elif fault in FAULTS and label.isidentifier():
            ids = build(ec2, data, fault)
        else:
            sys.exit("aws_topology.py: unknown fault or bad label %r" % arg)
        for k, v in ids.items():
            print("%s_%s=%s" % (label, k, v))
    print("DATA_CROSS_ACCOUNT=%s" % ("yes" if data else "no"))


def dns(opts):
    return str(bool((opts or {}).get("AllowDnsResolutionFromRemoteVpc"))).lower()


def cmd_state(ids):
    ec2 = client(REGION)
    lines = []
    pcx = [i for i in ids if i.startswith("pcx-")]
    rtb = [i for i in ids if i.startswith("rtb-")]
    sgs = [i for i in ids if i.startswith("sg-")]
    if pcx:
        for p in ec2.describe_vpc_peering_connections(
                VpcPeeringConnectionIds=pcx)["VpcPeeringConnections"]:
            lines.append("peering %s %s requester_dns=%s accepter_dns=%s" % (
                p["VpcPeeringConnectionId"], p["Status"]["Code"],
                dns(p.get("RequesterVpcInfo", {}).get("PeeringOptions")),
                dns(p.get("AccepterVpcInfo", {}).get("PeeringOptions"))))
    if rtb:
        for t in ec2.describe_route_tables(RouteTableIds=rtb)["RouteTables"]:
            for r in t["Routes"]:
                target = next((r[k] for k in ("VpcPeeringConnectionId", "GatewayId",
                                              "NatGatewayId", "TransitGatewayId") if r.get(k)),
                              "-")
                lines.append("route %s %s %s %s" % (t["RouteTableId"],
                                                    r.get("DestinationCidrBlock", "-"), target,
                                                    r.get("State", "-")))
    if sgs:
        for g in ec2.describe_security_groups(GroupIds=sgs)["SecurityGroups"]:
            for p in g["IpPermissions"]:
                srcs = [x["CidrIp"] for x in p.get("IpRanges", [])] + \
                       [x["GroupId"] for x in p.get("UserIdGroupPairs", [])]
                for s in srcs:
                    lines.append("sg %s %s %s-%s %s" % (g["GroupId"], p["IpProtocol"],
                                                        p.get("FromPort"), p.get("ToPort"), s))
    print("\n".join(sorted(lines)))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("build", "state", "deny-user"):
        sys.exit("usage: aws_topology.py build [--data-user] [LABEL=]FAULT... | state ID... | "
                 "deny-user NAME ACTION...")
    if sys.argv[1] == "build":
        cmd_build(sys.argv[2:])
    elif sys.argv[1] == "deny-user":
        cmd_deny_user(sys.argv[2:])
    else:
        cmd_state(sys.argv[2:])


if __name__ == "__main__":
    main()
