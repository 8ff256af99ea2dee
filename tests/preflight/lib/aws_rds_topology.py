#!/usr/bin/env python3
"""tests/preflight/lib/aws_rds_topology.py: RDS layouts for tests/preflight/aws_rds.sh, built
with botocore in a moto server (MOTO_URL, signature checking on: the caller's keys).

  aws_rds_topology.py build LABEL...   one layout per label, each in its own region;
                                       prints shell assignments LABEL_NAME=value
  aws_rds_topology.py deny-user NAME   an IAM user allowed ec2:* and nothing of RDS;
                                       prints "AKID SECRET"

Every layout: the job (10.20.2.15, its interface in subnet 10.20.2.0/24, a route table
sending 10.10.0.0/16 over an accepted peering) and the database VPC 10.10.0.0/16 with two
subnets in two zones, 10.10.5.0/24 (zone a) and 10.10.6.0/24 (zone b), in a DB subnet group;
the database group lets tcp/5432 in from 10.20.0.0/16. Zone a's subnet has its own route
table with the route back over the peering. The RDS interface of the instance the name
points at now (10.10.5.20, zone a) is made by hand (moto makes none for RDS), a reader's
is not (its subnet and groups come from the RDS API).

  r_reader_unrouted  Aurora cluster orders: writer orders-1 (zone a), reader orders-2 (zone b);
                     zone b's subnet has a route table of its own without the peering route,
                     but with a route to the data team's VPC 10.30.0.0/16 (ca-central-1) over
                     a direct peering (the job's VPC is peered with it too)
  r_all_routed       the same cluster, zone b's subnet on zone a's table (the route back)
  r_dual             dual-stack VPCs (Amazon /56s, a /64 per subnet, custom ACLs allowing both
                     families, as AWS's default ACL does), IPv6 routes over the peering both
                     ways from zone a; zone b's own table routes the job back for IPv4 only
  r_instance         a single-AZ PostgreSQL instance solo in zone a, no cluster, and a
                     Multi-AZ one, duo (moto gives it no SecondaryAvailabilityZone)
"""
import ipaddress
import json
import os
import sys

import botocore.session

REGIONS = {"r_reader_unrouted": "us-east-1", "r_all_routed": "us-west-2",
           "r_instance": "eu-west-1", "r_dual": "ap-southeast-2"}
DATA_REGION = "ca-central-1"  # the data team's VPC (r_reader_unrouted)


def client(service, region, akid=None, secret=None):
    s = botocore.session.get_session()
    return s.create_client(service, region_name=region, endpoint_url=os.environ["MOTO_URL"],
                           aws_access_key_id=akid or os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"])


def v6_block(ec2, vpc):
    """An Amazon-provided IPv6 /56 for vpc (before its groups: they get ::/0 egress)."""
    return ec2.associate_vpc_cidr_block(VpcId=vpc, AmazonProvidedIpv6CidrBlock=True)[
        "Ipv6CidrBlockAssociation"]["Ipv6CidrBlock"]


def subnet(ec2, vpc, cidr, zone, v6_56=None, n=0):
    """A subnet; with v6_56, dual-stack (its n-th /64) under a custom ACL allowing both
    families (moto's default ACL has no IPv6 rule, AWS's has)."""
    kw = {}
    if v6_56:
        kw["Ipv6CidrBlock"] = str(list(ipaddress.ip_network(v6_56).subnets(new_prefix=64))[n])
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone, **kw)["Subnet"]
    if v6_56:
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for egress in (False, True):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1",
                                         RuleAction="allow", Egress=egress,
                                         CidrBlock="0.0.0.0/0")
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=101, Protocol="-1",
                                         RuleAction="allow", Egress=egress, Ipv6CidrBlock="::/0")
        cur = ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [sn["SubnetId"]]}])["NetworkAcls"]
        assoc = [a for a in cur[0]["Associations"] if a["SubnetId"] == sn["SubnetId"]][0]
        ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                            NetworkAclId=acl)
    return sn["SubnetId"], kw.get("Ipv6CidrBlock")


def network(ec2, region, dual=False):
    ids = {"REGION": region}
    job = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    db = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    job56 = v6_block(ec2, job) if dual else None
    db56 = v6_block(ec2, db) if dual else None
    sjob, _ = subnet(ec2, job, "10.20.2.0/24", region + "a", job56, 2)
    sa, _ = subnet(ec2, db, "10.10.5.0/24", region + "a", db56, 5)
    sb, sb64 = subnet(ec2, db, "10.10.6.0/24", region + "b", db56, 6)
    pcx = ec2.create_vpc_peering_connection(VpcId=job, PeerVpcId=db)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    sg_job = ec2.create_security_group(GroupName="job", Description="job", VpcId=job)["GroupId"]
    sg_db = ec2.create_security_group(GroupName="db", Description="db", VpcId=db)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg_db, IpPermissions=[
        dict({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
              "IpRanges": [{"CidrIp": "10.20.0.0/16"}]},
             **({"Ipv6Ranges": [{"CidrIpv6": job56}]} if dual else {}))])
    rtb_job = ec2.create_route_table(VpcId=job)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb_job, SubnetId=sjob)
    ec2.create_route(RouteTableId=rtb_job, DestinationCidrBlock="10.10.0.0/16",
                     VpcPeeringConnectionId=pcx)
    rtb_a = ec2.create_route_table(VpcId=db)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb_a, SubnetId=sa)
    ec2.create_route(RouteTableId=rtb_a, DestinationCidrBlock="10.20.0.0/16",
                     VpcPeeringConnectionId=pcx)
    v6 = {"Ipv6AddressCount": 1} if dual else {}
    if dual:
        ec2.create_route(RouteTableId=rtb_job, DestinationIpv6CidrBlock=db56,
                         VpcPeeringConnectionId=pcx)
        ec2.create_route(RouteTableId=rtb_a, DestinationIpv6CidrBlock=job56,
                         VpcPeeringConnectionId=pcx)
        ids.update(JOB_V6=job56, DB_V6=db56,
                   READER_IP6=str(ipaddress.ip_network(sb64)[0x20]))
    e = ec2.create_network_interface(SubnetId=sjob, PrivateIpAddress="10.20.2.15",
                                     Groups=[sg_job], Description="anonetl task",
                                     **v6)["NetworkInterface"]
    ids["JOB_IP6"] = (e.get("Ipv6Addresses") or [{}])[0].get("Ipv6Address", "")
    ec2.create_network_interface(SubnetId=sa, PrivateIpAddress="10.10.5.20", Groups=[sg_db],
                                 Description="RDSNetworkInterface", **v6)
    ids.update(JOB_VPC=job, DB_VPC=db, SUBNET_A=sa, SUBNET_B=sb, PCX=pcx, SG_DB=sg_db,
               RTB_A=rtb_a)
    return ids


def data_team(ec2, ids, rtb_b):
    """The data team's VPC 10.30.0.0/16 (in DATA_REGION) peered with the job's VPC (routed
    from the job's table) and directly with the database VPC, whose zone b table routes it
    back over that direct peering: the reader there is theirs to reach."""
    data = client("ec2", DATA_REGION)
    dv = data.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    pcx = {}
    for name, vpc in (("PCX_DATA", ids["JOB_VPC"]), ("PCX_DIRECT", ids["DB_VPC"])):
        pcx[name] = ec2.create_vpc_peering_connection(
            VpcId=vpc, PeerVpcId=dv, PeerRegion=DATA_REGION)["VpcPeeringConnection"][
                "VpcPeeringConnectionId"]
        data.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx[name])
    ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.30.0.0/16",
                     VpcPeeringConnectionId=pcx["PCX_DIRECT"])
    ids.update(DATA_VPC=dv, **pcx)


def build(label):
    region = REGIONS[label]
    ec2, rds = client("ec2", region), client("rds", region)
    ids = network(ec2, region, dual=label == "r_dual")
    if label in ("r_reader_unrouted", "r_dual"):  # zone b: a table of its own, the route back forgotten
        rtb_b = ec2.create_route_table(VpcId=ids["DB_VPC"])["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb_b, SubnetId=ids["SUBNET_B"])
        ids["RTB_B"] = rtb_b
        if label == "r_reader_unrouted":
            data_team(ec2, ids, rtb_b)
        if label == "r_dual":  # the IPv4 route back only: IPv6 forgotten
            ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.20.0.0/16",
                             VpcPeeringConnectionId=ids["PCX"])
    else:
        ec2.associate_route_table(RouteTableId=ids["RTB_A"], SubnetId=ids["SUBNET_B"])
    rds.create_db_subnet_group(DBSubnetGroupName="dbs", DBSubnetGroupDescription="databases",
                               SubnetIds=[ids["SUBNET_A"], ids["SUBNET_B"]])
    if label in ("r_reader_unrouted", "r_instance"):
        # a single-AZ instance in zone b: moto makes no interface for it, so the path judges
        # it from its RDS subnet (zone b's: unrouted in r_reader_unrouted, routed here)
        i = rds.create_db_instance(DBInstanceIdentifier="lone", Engine="postgres",
                                   DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                   MasterUsername="u", MasterUserPassword="password1",
                                   DBSubnetGroupName="dbs", VpcSecurityGroupIds=[ids["SG_DB"]],
                                   AvailabilityZone=region + "b")["DBInstance"]
        ids["LONE_HOST"] = i["Endpoint"]["Address"]
    if label == "r_instance":
        i = rds.create_db_instance(DBInstanceIdentifier="solo", Engine="postgres",
                                   DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                   MasterUsername="u", MasterUserPassword="password1",
                                   DBSubnetGroupName="dbs", VpcSecurityGroupIds=[ids["SG_DB"]],
                                   AvailabilityZone=region + "a")["DBInstance"]
        ids["INSTANCE_HOST"] = i["Endpoint"]["Address"]
        i = rds.create_db_instance(DBInstanceIdentifier="duo", Engine="postgres",
                                   DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                   MasterUsername="u", MasterUserPassword="password1",
                                   DBSubnetGroupName="dbs", VpcSecurityGroupIds=[ids["SG_DB"]],
                                   MultiAZ=True)["DBInstance"]
        ids["MULTI_AZ_HOST"] = i["Endpoint"]["Address"]
        return ids
    c = rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql",
                              MasterUsername="u", MasterUserPassword="password1",
                              DBSubnetGroupName="dbs",
                              VpcSecurityGroupIds=[ids["SG_DB"]])["DBCluster"]
    ids.update(CLUSTER_HOST=c["Endpoint"], READER_HOST=c["ReaderEndpoint"])
    for n, (name, zone) in enumerate((("orders-1", "a"), ("orders-2", "b")), 1):
        i = rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="orders",
                                   Engine="aurora-postgresql", DBInstanceClass="db.r6g.large",
                                   AvailabilityZone=region + zone,
                                   DBSubnetGroupName="dbs")["DBInstance"]
        ids["HOST_%d" % n] = i["Endpoint"]["Address"]
    return ids


def deny_user(name):
    iam = client("iam", "us-east-1")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="ec2-only", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    print(k["AccessKeyId"], k["SecretAccessKey"])


def main():
    if sys.argv[1] == "deny-user":
        deny_user(sys.argv[2])
        return 0
    for label in sys.argv[2:]:
        for k, v in build(label).items():
            print("%s_%s=%s" % (label, k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
