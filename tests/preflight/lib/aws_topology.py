"""tests/preflight/lib/aws_topology.py: builds the seed AWS topology in a moto server with
botocore (signed requests, so it works with moto's signature checking on), optionally
with one fault, and prints the ids as shell assignments for tests/preflight/aws_moto.sh.

    MOTO_URL=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
    [DATA_AWS_ACCESS_KEY_ID=... DATA_AWS_SECRET_ACCESS_KEY=...] \
        python3 aws_topology.py [FAULT]
    MOTO_URL=... python3 aws_topology.py data-user
        (inside moto's no-auth window: 3 actions) creates an allow-all IAM user in the
        data team's account and prints "AKID SECRET"

Topology (region us-east-1, our account = the IAM user's):
  main VPC 10.10.0.0/16 --pcx_main (accepted, DNS both sides)--> isolated VPC 10.20.0.0/16
  isolated VPC --pcx_data (pending-acceptance)--> data team VPC 10.30.0.0/16, created in
  account 222222222222 and region eu-west-1 through moto's x-moto-account-id header with
  that account's own IAM user (DATA_AWS_*; moto checks the key against the account in the
  header). Without DATA_AWS_* the data VPC is in our account, other region, and
  DATA_CROSS_ACCOUNT=no is printed. Acceptance by the other account is not exercised;
  rtb_iso (isolated VPC): 10.10.0.0/16 -> pcx_main, 10.30.0.0/16 -> pcx_data;
  rtb_main (main VPC): 10.20.0.0/16 -> pcx_main; an internet gateway on the isolated VPC;
  sg_db (isolated VPC): tcp 5432 from 10.10.0.0/16 and from 10.30.0.0/16.

FAULT: none, pending (pcx_main never accepted), dns_off (accepted, no DNS options),
missing_route (no 10.10.0.0/16 route in rtb_iso), blackhole (pcx_main deleted after
the routes were made), igw (rtb_iso 10.10.0.0/16 via the internet gateway), sg_missing
(no 5432 ingress from 10.10.0.0/16), repairable (pending + dns_off + missing_route).
"""
import os
import sys

import botocore.session

REGION = "us-east-1"
DATA_REGION = "eu-west-1"
DATA_ACCOUNT = "222222222222"


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
    import json
    iam = client(REGION, DATA_ACCOUNT, "iam", "testing", "testing")
    iam.create_user(UserName="data-team")
    iam.put_user_policy(UserName="data-team", PolicyName="allow-all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="data-team")["AccessKey"]
    print(k["AccessKeyId"], k["SecretAccessKey"])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "data-user":
        return data_user()
    fault = sys.argv[1] if len(sys.argv) > 1 else "none"
    faults = {"none", "pending", "dns_off", "missing_route", "blackhole", "igw", "sg_missing",
              "repairable"}
    if fault not in faults:
        sys.exit("unknown fault %s" % fault)
    ec2 = client(REGION)
    main_vpc = vpc(ec2, "10.10.0.0/16")
    iso_vpc = vpc(ec2, "10.20.0.0/16")

    if os.environ.get("DATA_AWS_ACCESS_KEY_ID"):
        cross = "yes"
        data = client(DATA_REGION, DATA_ACCOUNT, "ec2", os.environ["DATA_AWS_ACCESS_KEY_ID"],
                      os.environ["DATA_AWS_SECRET_ACCESS_KEY"])
        data_vpc = vpc(data, "10.30.0.0/16")
        pcx_data = ec2.create_vpc_peering_connection(
            VpcId=iso_vpc, PeerVpcId=data_vpc, PeerOwnerId=DATA_ACCOUNT,
            PeerRegion=DATA_REGION)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    else:
        cross = "no"
        data_vpc = vpc(client(DATA_REGION), "10.30.0.0/16")
        pcx_data = ec2.create_vpc_peering_connection(
            VpcId=iso_vpc, PeerVpcId=data_vpc,
            PeerRegion=DATA_REGION)["VpcPeeringConnection"]["VpcPeeringConnectionId"]

    pcx_main = ec2.create_vpc_peering_connection(
        VpcId=main_vpc, PeerVpcId=iso_vpc)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
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
    if fault == "igw":
        ec2.create_route(RouteTableId=rtb_iso, DestinationCidrBlock="10.10.0.0/16",
                         GatewayId=igw)
    elif fault not in ("missing_route", "repairable"):
        ec2.create_route(RouteTableId=rtb_iso, DestinationCidrBlock="10.10.0.0/16",
                         VpcPeeringConnectionId=pcx_main)
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

    for k, v in [("PCX_MAIN", pcx_main), ("PCX_DATA", pcx_data), ("RTB_ISO", rtb_iso),
                 ("RTB_MAIN", rtb_main), ("SG_DB", sg_db), ("IGW", igw),
                 ("DATA_CROSS_ACCOUNT", cross)]:
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
