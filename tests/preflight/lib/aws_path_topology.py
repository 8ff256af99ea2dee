"""tests/preflight/lib/aws_path_topology.py: the layouts of the path analysis scenarios
(tests/preflight/aws_moto.sh, issue 12), built in moto with botocore; imported by
aws_topology.py (`build ... p_FAULT`).

Each scenario gets its own region, so every copy keeps the addresses of the config
reference (DescribeNetworkInterfaces by private IP must find one interface per address):

  job VPC 10.20.0.0/16 (ours)                      database VPC 10.10.0.0/16 (ours)
    subnet a 10.20.1.0/24  -- rtb_job                subnet db 10.10.5.0/24 -- rtb_db
    subnet b 10.20.2.0/24  -- rtb_job                  ENI 10.10.5.20 "RDSNetworkInterface", sg_db
      ENI 10.20.2.15 (the job), sg_job               acl_db: in tcp 5432 from 10.20.0.0/16,
    subnet t 10.20.3.0/24 (main table)                       out tcp 1024-65535 to 10.20.0.0/16
      ENI 10.20.3.30 (the target database), sg_tgt
    acl_job on a and b: out tcp 5432 to 10.10.0.0/16, in tcp 1024-65535 from 10.10.0.0/16
  pcx (job <-> database, active, DNS resolution off)
  rtb_job: 10.10.0.0/16 -> pcx;  rtb_db: 10.20.0.0/16 -> pcx
  sg_db: tcp 5432 from 10.20.1.0/24 and 10.20.2.0/24 (each job subnet; the config says
         from: 10.20.0.0/16);  sg_tgt: tcp 5432 from sg_job;  sg_job: egress all.

FAULT (one per copy): see FAULTS below. A fault named n_X is fault p_X on the addresses of
the network namespaces of tests/preflight/netns.sh (PLANS["netns"]): the job at 10.77.18.15
in 10.77.16.0/20, the database at 10.77.5.20 in 10.77.4.0/22. Moto quirks worked around: moto's RDS makes no
network interface, so the database is a plain interface described the way RDS describes
its own; moto never marks a route blackhole, so a blackhole is a route over a deleted
peering (the checks read the peering's state).
"""

import ipaddress

REGIONS = ["us-east-2", "us-west-1", "us-west-2", "eu-west-2", "eu-west-3", "eu-central-1",
           "eu-north-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ca-central-1", "sa-east-1", "eu-south-1",
           "af-south-1", "me-south-1", "ap-east-1", "eu-central-2", "ap-south-2",
           "ap-southeast-3", "il-central-1", "me-central-1", "ap-east-2", "ap-southeast-4",
           "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-south-2",
           "mx-central-1"]
# (every region of moto's aws partition but us-east-1, the seed's, and eu-west-1, the data
# team's: the IAM user does not exist in the other partitions, us-gov and cn; more layouts
# go side by side in one region, as p_lab and p_rtlab do)

PLANS = {
    "reference": {"JOB_VPC": "10.20.0.0/16", "SUBNET_A": "10.20.1.0/24",
                  "SUBNET_B": "10.20.2.0/24", "SUBNET_T": "10.20.3.0/24",
                  "JOB_IP": "10.20.2.15", "TGT_IP": "10.20.3.30", "DB_VPC": "10.10.0.0/16",
                  "SUBNET_DB": "10.10.5.0/24", "SUBNET_DB2": "10.10.6.0/24", "DB_IP": "10.10.5.20",
                  "OTHER_VPC": "10.30.0.0/16"},
    "netns": {"JOB_VPC": "10.77.16.0/20", "SUBNET_A": "10.77.17.0/24",
              "SUBNET_B": "10.77.18.0/24", "SUBNET_T": "10.77.19.0/24",
              "JOB_IP": "10.77.18.15", "TGT_IP": "10.77.19.30", "DB_VPC": "10.77.4.0/22",
              "SUBNET_DB": "10.77.5.0/24", "SUBNET_DB2": "10.77.6.0/24", "DB_IP": "10.77.5.20",
              "OTHER_VPC": "10.78.0.0/16"},
}

P = PLANS["reference"]

FAULTS = {
    "p_ok": "healthy: the SG allows each job subnet, the config says 10.20.0.0/16 (n_ok: the "
            "job's interface is the second one of an instance, see _instance_lab)",
    "p_sg_group": "the SG rule names the job's group (in the peer VPC, over the peering)",
    "p_sg_cidr_cfg_group": "the SG allows 10.20.0.0/16, the config names the job's group",
    "p_sg_prefix_list": "the SG rule is a managed prefix list of the job subnets",
    "p_sg_wrong_subnet": "the SG allows subnet a only; the job runs in subnet b",
    "p_route_specific_pcx": "10.10.5.0/24 (the database subnet) goes via another peering",
    "p_route_specific_blackhole": "10.10.5.0/24 goes via a deleted peering (blackhole)",
    "p_route_other_table": "the job's subnet b is associated with another table",
    "p_route_pl": "the job's table reaches the database VPC through a prefix-list route",
    "p_tgw_allowed": "both VPCs attached to a transit gateway (allowed) whose table routes "
                     "each to the other; the subnets' tables send the other's /16 to it",
    "p_tgw_denied": "the job's table sends 10.10.0.0/16 to a transit gateway the config does "
                    "not allow",
    "p_tgw_no_route": "the job's table sends 10.10.0.0/16 to an allowed transit gateway whose "
                      "route table has no route to it (the database VPC is not attached)",
    "p_tgw_blackhole": "as p_tgw_allowed, but the gateway's route to 10.10.0.0/16 is a "
                       "blackhole",
    "p_tgw_zone": "as p_tgw_allowed, but the job's subnet b is in another zone than subnet a, "
                  "the only subnet of the job VPC's attachment (the gateway takes nothing "
                  "from zone b)",
    "p_tgw_zone_back": "as p_tgw_allowed, but the database VPC's attachment has its subnet "
                       "(SUBNET_DB2) in another zone than the database's subnet: the "
                       "replies cannot enter the gateway",
    "p_tgw_sg_ref": "as p_tgw_allowed, but the database group admits the job's group (a "
                    "reference over the gateway, no peering named) and the job's group lets "
                    "5432 out only to the database's group",
    "p_tgw_sg_pcx": "as p_tgw_allowed, but the database group admits the job's group over the "
                    "peering, which the job's packets do not take (its table sends the "
                    "database VPC to the gateway)",
    "p_tgw_nacl": "as p_tgw_allowed, but the database subnet (the database VPC's attachment "
                  "subnet too) has no inbound rule for its own replies entering the gateway",
    "p_no_return": "the database subnet's table has no route back to the job",
    "p_nacl_no_ephemeral": "the database ACL lets 5432 in but no reply out",
    "p_nacl_linux_only": "the job ACL lets replies in on 32768-65535 only",
    "p_nacl_deny_first": "the database ACL denies subnet b (rule 90) before allowing (rule 100)",
    "p_sg_egress": "the job's group only lets 443 out",
    "p_cross_account": "the database is in the data team's account (not visible)",
    "p_many": "healthy, with 150 extra routes, 50 extra SG rules and 40 extra ACL rules",
    # second shift: neighbours of the issue's reproductions
    "p_overlap_db": "an unrelated VPC of the region reuses the database's CIDR and address "
                    "(its interface listed first)",
    "p_overlap_job": "an unrelated VPC of the region reuses the job's CIDR and address "
                     "(its interface listed first)",
    "p_xacct_overlap": "the database is in the data team's account; an unrelated VPC of ours "
                       "holds the same address",
    "p_route_pl_inner": "10.10.0.0/16 via the peering, a prefix-list route sends 10.10.5.0/24 "
                        "to an internet gateway",
    "p_appliance": "10.10.5.0/24 goes through a firewall appliance's interface",
    "p_egress_ref_hidden": "the job may only reach groups it names; the database is in the "
                           "data team's account (its groups unknown)",
    "p_nacl_cis": "both ACLs deny 22 and 3389 in from 0.0.0.0/0 first (CIS 5.1), as "
                  "regulated teams do",
    "p_route_main_table": "the job's subnet b has no association: it uses the VPC's main "
                          "table (no route to the database), not the configured one",
    "p_standby": "a standby of the database at 10.10.6.20, in a subnet on the VPC's main "
                 "table, which has no route back to the job (DSN host list: primary,standby)",
    # session 3: more layouts per region (extra job and database interfaces at addresses of
    # their own, picked by aws.job.ip and DSN host lists), see _labs
    "p_lab": "healthy base; remote DNS resolution on the database VPC's side only; beside it "
             "(_sglab) databases 10.10.5.21 (a self-referencing group only), .22 (that group "
             "and the one allowing the job), .23 (all protocols from the job's subnet), .24 "
             "(ICMP and ssh only), jobs 10.20.2.16 (egress to a prefix list of the database "
             "VPC), .17 (egress to a prefix list of another block), .18 (two groups, one "
             "allowing 443 only), .19 (egress to its own group only), an instance interface "
             "10.20.2.30 with secondary address 10.20.2.31; (_nacllab) network ACLs, one "
             "database subnet each: 10.10.6.20 (the VPC's default ACL, its rules 100 replaced: "
             "replies 32768-60999 only, rule 32767 listed), 10.10.7.20 (a custom ACL, the same "
             "rules), 10.10.8.20 (all protocols in and out, an ICMP rule first), 10.10.9.20 "
             "(ICMP and ssh only in), 10.10.10.20 (5400-5500 in, replies 49152-65535 only), "
             "10.10.11.20 (rule 90 denies all protocols from the job's subnet); (_pcxlab) the "
             "job's table routes 10.41/16 (pending-acceptance), 10.42/16 (rejected) and "
             "10.43/16 (deleted) to peerings of their own, each with a database at .5.20; a "
             "database 10.10.5.25 whose group references the job's group over an older, "
             "deleted peering of the same two VPCs; (_isolab) the data team's VPC 10.30.0.0/16 "
             "(their account, eu-west-1) peered with the job's (isolated) VPC, whose table "
             "routes it there, and directly with the database VPC too; database subnets, one "
             "database each, whose tables route 10.30.0.0/16: 10.10.21.20 via the isolated "
             "VPC's peering (not transitive: no way back), 10.10.22.20 via the direct peering, "
             "10.10.23.20 the /16 via the isolated VPC and 10.30.1.0/24 via the direct peering, "
             "10.10.24.20 10.0.0.0/8 via a transit gateway production is attached to, whose "
             "table has no route to them, 10.10.26.20 the same via one whose table has a "
             "static route for 10.30.0.0/16 (moto names no attachment for it), 10.10.25.20 a "
             "prefix list of 10.30.0.0/16 via the direct peering, a second group admitting "
             "10.30.0.0/16 (the base "
             "database 10.10.5.20 has no route to them)",
    "p_iso_direct": "healthy; the data team's VPC 10.30.0.0/16 (eu-west-1) peered with the "
                    "job's (isolated) VPC, whose table routes it there, and directly with the "
                    "database VPC, whose database subnet's table routes it back over that "
                    "direct peering (netns.sh: the live probes pass, the isolation FAILs)",
    "p_xregion": "the database VPC is in another region (eu-west-1) of our account, over an "
                 "inter-region peering: nothing of it is described from the job's region",
    "p_rtlab": "route tables (_rtlab): the database subnet's association replaced by a table "
               "without the route back; the job's table sends the target's subnet "
               "10.20.3.0/24 (more specific than local) over the peering; a job 10.20.4.15 "
               "whose table sends it through a firewall's interface; secondary blocks "
               "(_secondary): the database VPC's 10.11.0.0/16 (database 10.11.5.20, its own "
               "group), the job VPC's 100.64.0.0/16 (job 100.64.2.15); the job's table and the "
               "database's route only the primary blocks; a job 10.20.5.15 whose table routes "
               "both database blocks; dual-stack (_v6lab): both VPCs get an IPv6 /56, the "
               "job subnet 10.20.6.0/24 and the database subnet 10.10.12.0/24 an IPv6 /64 "
               "each (ACLs allowing both families); the job subnet's table routes "
               "10.10.0.0/16 via the peering and ::/0 to an egress-only internet gateway (no "
               "IPv6 route to the database); jobs 10.20.6.15 (IPv6 too, egress tcp 5432 to "
               "10.10.0.0/16 only), 10.20.6.16 (IPv6 too, the job's group: all IPv4 out, no "
               "IPv6 rule, as a group made before its VPC had an IPv6 block), 10.20.6.17 (no "
               "IPv6 address); databases 10.10.12.20 (IPv6 too, 5432 from the job subnets' IPv4 "
               "and IPv6 blocks), 10.10.12.21 (IPv6 too, 5432 from ::/0 only)",
}


def _tag(ec2, rid, name):
    ec2.create_tags(Resources=[rid], Tags=[{"Key": "Name", "Value": name}])


def _acl(ec2, vpc, subnets, rules):
    """A custom network ACL with rules [(number, egress, cidr, from, to, action)], made the
    ACL of each subnet; its id."""
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for num, egress, cidr, lo, hi, action in rules:
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=num, Protocol="6",
                                     RuleAction=action, Egress=egress, CidrBlock=cidr,
                                     PortRange={"From": lo, "To": hi})
    for sn in subnets:
        cur = ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [sn]}])["NetworkAcls"]
        assoc = [a for a in cur[0]["Associations"] if a["SubnetId"] == sn][0]
        ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                            NetworkAclId=acl)
    return acl


def _pcx(ec2, vpc, peer, accepter=None, **kw):
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer, **kw)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    (accepter or ec2).accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    return pcx


# the transit gateway layouts whose gateway routes both ways
TGW_HUBS = ("p_tgw_allowed", "p_tgw_blackhole", "p_tgw_zone", "p_tgw_zone_back", "p_tgw_sg_ref",
            "p_tgw_sg_pcx", "p_tgw_nacl")
# the subnet a zone fault moves to the region's second zone
TGW_MOVED = {"p_tgw_zone": "SUBNET_B", "p_tgw_zone_back": "SUBNET_DB2"}


def _zone(ec2, f, subnet):
    """create_subnet's zone argument: a transit gateway takes packets only from the zones of
    its attachment's subnets, and moto picks a random zone for a subnet made without one, so
    the transit gateway layouts put every subnet in the region's first zone (but the one a
    zone fault moves)."""
    if not f.startswith("p_tgw_"):
        return {}
    zones = sorted(z["ZoneName"] for z in
                   ec2.describe_availability_zones()["AvailabilityZones"])
    return {"AvailabilityZone": zones[1 if TGW_MOVED.get(f) == subnet else 0]}


def _job_side(ec2, f):
    """The job VPC; a dict of ids."""
    ids = {}
    vpc = ec2.create_vpc(CidrBlock=P["JOB_VPC"])["Vpc"]["VpcId"]
    sa = ec2.create_subnet(VpcId=vpc, CidrBlock=P["SUBNET_A"],
                           **_zone(ec2, f, "SUBNET_A"))["Subnet"]["SubnetId"]
    sb = ec2.create_subnet(VpcId=vpc, CidrBlock=P["SUBNET_B"],
                           **_zone(ec2, f, "SUBNET_B"))["Subnet"]["SubnetId"]
    st = ec2.create_subnet(VpcId=vpc, CidrBlock=P["SUBNET_T"],
                           **_zone(ec2, f, "SUBNET_T"))["Subnet"]["SubnetId"]
    sg_job = ec2.create_security_group(GroupName="job", Description="anonetl job",
                                       VpcId=vpc)["GroupId"]
    if f == "p_sg_egress":
        ec2.revoke_security_group_egress(GroupId=sg_job, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_egress(GroupId=sg_job, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    sg_tgt = ec2.create_security_group(GroupName="target", Description="target database",
                                       VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg_tgt, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": sg_job}]}])
    ids.update(JOB_VPC=vpc, SUBNET_A=sa, SUBNET_B=sb, SG_JOB=sg_job, SG_TGT=sg_tgt)
    ids["JOB_ENI"] = ec2.create_network_interface(
        SubnetId=sb, PrivateIpAddress=P["JOB_IP"], Groups=[sg_job],
        Description="anonetl task")["NetworkInterface"]["NetworkInterfaceId"]
    ec2.create_network_interface(SubnetId=st, PrivateIpAddress=P["TGT_IP"], Groups=[sg_tgt],
                                 Description="RDSNetworkInterface")
    job_in = (32768 if f == "p_nacl_linux_only" else 1024, 65535)
    ids["ACL_JOB"] = _acl(ec2, vpc, [sa, sb], [
        (100, True, P["DB_VPC"], 5432, 5432, "allow"),
        (110, True, P["JOB_VPC"], 5432, 5432, "allow"),
        (100, False, P["DB_VPC"], job_in[0], job_in[1], "allow"),
        (110, False, P["JOB_VPC"], 1024, 65535, "allow")])
    return ids


def _db_side(ec2, f, owner=None):
    ids = {}
    vpc = ec2.create_vpc(CidrBlock=P["DB_VPC"])["Vpc"]["VpcId"]
    sd = ec2.create_subnet(VpcId=vpc, CidrBlock=P["SUBNET_DB"],
                           **_zone(ec2, f, "SUBNET_DB"))["Subnet"]["SubnetId"]
    if f == "p_tgw_zone_back":  # the attachment's subnet, in the region's second zone
        ids["SUBNET_DB2"] = ec2.create_subnet(VpcId=vpc, CidrBlock=P["SUBNET_DB2"],
                                              **_zone(ec2, f, "SUBNET_DB2"))["Subnet"]["SubnetId"]
    sg_db = ec2.create_security_group(GroupName="db", Description="source database",
                                      VpcId=vpc)["GroupId"]
    ids.update(DB_VPC=vpc, SUBNET_DB=sd, SG_DB=sg_db)
    ids["DB_ENI"] = ec2.create_network_interface(
        SubnetId=sd, PrivateIpAddress=P["DB_IP"], Groups=[sg_db],
        Description="RDSNetworkInterface")["NetworkInterface"]["NetworkInterfaceId"]
    rules = [(100, False, P["JOB_VPC"], 5432, 5432, "allow")]
    if f == "p_nacl_deny_first":
        rules.insert(0, (90, False, P["SUBNET_B"], 5432, 5432, "deny"))
    if f != "p_nacl_no_ephemeral":
        rules.append((100, True, P["JOB_VPC"], 1024, 65535, "allow"))
    if f in TGW_HUBS and f != "p_tgw_nacl":
        # the replies enter the gateway from this subnet (the attachment's): AWS judges them
        # by its inbound rules, on the database's own address
        rules.append((110, False, P["DB_VPC"], 1024, 65535, "allow"))
    ids["ACL_DB"] = _acl(ec2, vpc, [sd], rules)
    return ids


def _db_ingress(ec2, f, ids):
    """The database group's rule for the job, in the scenario's form."""
    perm = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}
    if f in ("p_sg_group", "p_tgw_sg_pcx"):
        perm["UserIdGroupPairs"] = [{"GroupId": ids["SG_JOB"], "UserId": ids["OWNER"],
                                     "VpcPeeringConnectionId": ids["PCX"]}]
    elif f == "p_tgw_sg_ref":
        perm["UserIdGroupPairs"] = [{"GroupId": ids["SG_JOB"], "UserId": ids["OWNER"]}]
    elif f == "p_sg_cidr_cfg_group":
        perm["IpRanges"] = [{"CidrIp": P["JOB_VPC"]}]
    elif f == "p_sg_prefix_list":
        perm["PrefixListIds"] = [{"PrefixListId": ids["PL_JOBS"]}]
    elif f == "p_sg_wrong_subnet":
        perm["IpRanges"] = [{"CidrIp": P["SUBNET_A"]}]
    else:
        perm["IpRanges"] = [{"CidrIp": P["SUBNET_A"]}, {"CidrIp": P["SUBNET_B"]}]
    return perm


def _route_job(ec2, f, ids, rtb):
    pcx = ids["PCX"]
    if f.startswith("p_tgw_"):
        tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
        a_job = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw["TransitGatewayId"], VpcId=ids["JOB_VPC"],
            SubnetIds=[ids["SUBNET_A"]])["TransitGatewayVpcAttachment"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=P["DB_VPC"],
                         TransitGatewayId=tgw["TransitGatewayId"])
        ids["TGW"] = tgw["TransitGatewayId"]
        if f in TGW_HUBS:  # the whole hub: both ways
            table = tgw["Options"]["AssociationDefaultRouteTableId"]
            a_db = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw["TransitGatewayId"], VpcId=ids["DB_VPC"],
                SubnetIds=[ids.get("SUBNET_DB2", ids["SUBNET_DB"])])[
                    "TransitGatewayVpcAttachment"]
            ec2.create_transit_gateway_route(
                TransitGatewayRouteTableId=table, DestinationCidrBlock=P["DB_VPC"],
                **({"Blackhole": True} if f == "p_tgw_blackhole" else
                   {"TransitGatewayAttachmentId": a_db["TransitGatewayAttachmentId"]}))
            ec2.create_transit_gateway_route(
                TransitGatewayRouteTableId=table, DestinationCidrBlock=P["JOB_VPC"],
                TransitGatewayAttachmentId=a_job["TransitGatewayAttachmentId"])
            ids.update(TGW_RTB=table, TGW_ATT_DB=a_db["TransitGatewayAttachmentId"],
                       TGW_ATT_JOB=a_job["TransitGatewayAttachmentId"])
        return
    if f == "p_route_pl":
        pl = ec2.create_managed_prefix_list(PrefixListName="databases", MaxEntries=5,
                                            AddressFamily="IPv4",
                                            Entries=[{"Cidr": P["DB_VPC"]}])["PrefixList"]
        ec2.create_route(RouteTableId=rtb, DestinationPrefixListId=pl["PrefixListId"],
                         VpcPeeringConnectionId=pcx)
        ids["PL_DBS"] = pl["PrefixListId"]
        return
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=P["DB_VPC"],
                     VpcPeeringConnectionId=pcx)
    if f in ("p_route_specific_pcx", "p_route_specific_blackhole"):
        other = ec2.create_vpc(CidrBlock=P["OTHER_VPC"])["Vpc"]["VpcId"]
        pcx2 = _pcx(ec2, ids["JOB_VPC"], other)
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=P["SUBNET_DB"],
                         VpcPeeringConnectionId=pcx2)
        if f == "p_route_specific_blackhole":
            ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx2)
        ids["PCX_OTHER"] = pcx2


def _many(ec2, ids):
    """Bulk: routes to unrelated /24s, SG rules and ACL rules that decide nothing."""
    for i in range(150):
        ec2.create_route(RouteTableId=ids["RTB_JOB"],
                         DestinationCidrBlock="172.%d.%d.0/24" % (16 + i // 200, i % 200),
                         VpcPeeringConnectionId=ids["PCX"])
    ec2.authorize_security_group_ingress(GroupId=ids["SG_DB"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 6000 + i, "ToPort": 6000 + i,
         "IpRanges": [{"CidrIp": "192.168.%d.0/24" % i}]} for i in range(50)])
    for i in range(40):
        ec2.create_network_acl_entry(NetworkAclId=ids["ACL_DB"], RuleNumber=200 + i,
                                     Protocol="6", RuleAction="deny", Egress=False,
                                     CidrBlock="192.168.%d.0/24" % i,
                                     PortRange={"From": 22, "To": 22})


def _unrelated(ec2, vpc_cidr, subnet_cidr, ip):
    """An unrelated VPC (staging, another team) reusing a block and an address."""
    vpc = ec2.create_vpc(CidrBlock=vpc_cidr)["Vpc"]["VpcId"]
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock=subnet_cidr)["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=sn, PrivateIpAddress=ip, Description="staging")
    return vpc


def _second_shift(ec2, f, ids):
    """The faults added after the first layouts, on a built healthy layout."""
    if f == "p_route_pl_inner":
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=ids["JOB_VPC"])
        pl = ec2.create_managed_prefix_list(PrefixListName="public-services", MaxEntries=5,
                                            AddressFamily="IPv4",
                                            Entries=[{"Cidr": P["SUBNET_DB"]}])["PrefixList"]
        ec2.create_route(RouteTableId=ids["RTB_JOB"], DestinationPrefixListId=pl["PrefixListId"],
                         GatewayId=igw)
        ids["PL_DBS"] = pl["PrefixListId"]
    elif f == "p_appliance":
        sn = ec2.create_subnet(VpcId=ids["JOB_VPC"], CidrBlock="10.20.9.0/24")["Subnet"]["SubnetId"]
        eni = ec2.create_network_interface(SubnetId=sn, PrivateIpAddress="10.20.9.9",
                                           Description="firewall")["NetworkInterface"]
        ec2.create_route(RouteTableId=ids["RTB_JOB"], DestinationCidrBlock=P["SUBNET_DB"],
                         NetworkInterfaceId=eni["NetworkInterfaceId"])
        ids["FW_ENI"] = eni["NetworkInterfaceId"]
    elif f == "p_egress_ref_hidden":
        ec2.revoke_security_group_egress(GroupId=ids["SG_JOB"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_egress(GroupId=ids["SG_JOB"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "UserIdGroupPairs": [{"GroupId": ids["SG_TGT"]}]}])
    elif f == "p_standby":
        sn = ec2.create_subnet(VpcId=ids["DB_VPC"], CidrBlock="10.10.6.0/24")["Subnet"]["SubnetId"]
        ids["STANDBY_ENI"] = ec2.create_network_interface(
            SubnetId=sn, PrivateIpAddress="10.10.6.20", Groups=[ids["SG_DB"]],
            Description="RDSNetworkInterface")["NetworkInterface"]["NetworkInterfaceId"]
        ids["SUBNET_STANDBY"] = sn
    elif f == "p_nacl_cis":
        for acl in (ids["ACL_JOB"], ids["ACL_DB"]):
            for num, port in ((50, 22), (60, 3389)):
                ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=num, Protocol="6",
                                             RuleAction="deny", Egress=False,
                                             CidrBlock="0.0.0.0/0",
                                             PortRange={"From": port, "To": port})
    elif f == "p_xacct_overlap":
        ids["STAGING_VPC"] = _unrelated(ec2, P["DB_VPC"], P["SUBNET_DB"], P["DB_IP"])


def _eni(ec2, subnet, ip, groups, description="anonetl task", secondary=None):
    if secondary:
        kw = {"PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True},
                                     {"PrivateIpAddress": secondary, "Primary": False}]}
    else:
        kw = {"PrivateIpAddress": ip}
    return ec2.create_network_interface(SubnetId=subnet, Groups=groups, Description=description,
                                        **kw)["NetworkInterface"]["NetworkInterfaceId"]


def _sg(ec2, vpc, name, ingress=(), egress=None):
    """A group with these ingress permissions; egress replaces the default allow-all."""
    g = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
    perms = [dict(p, **({"UserIdGroupPairs": [{"GroupId": g}]} if p.pop("self", False) else {}))
             for p in (dict(x) for x in ingress)]
    if perms:
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=perms)
    if egress is not None:
        ec2.revoke_security_group_egress(GroupId=g, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        perms = [dict(p, **({"UserIdGroupPairs": [{"GroupId": g}]} if p.pop("self", False)
                            else {})) for p in (dict(x) for x in egress)]
        if perms:
            ec2.authorize_security_group_egress(GroupId=g, IpPermissions=perms)
    return g


def _pl(ec2, name, cidrs):
    return ec2.create_managed_prefix_list(PrefixListName=name, MaxEntries=5, AddressFamily="IPv4",
                                          Entries=[{"Cidr": c} for c in cidrs])["PrefixList"][
                                              "PrefixListId"]


def _sglab(ec2, ids):
    ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=ids["PCX"],
        AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    tcp = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}
    dbv, jv = ids["DB_VPC"], ids["JOB_VPC"]
    sg_self = _sg(ec2, dbv, "self", [{"IpProtocol": "-1", "self": True}])
    sg_all = _sg(ec2, dbv, "all", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": P["SUBNET_B"]}]}])
    sg_icmp = _sg(ec2, dbv, "icmp", [
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
         "IpRanges": [{"CidrIp": P["JOB_VPC"]}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": P["JOB_VPC"]}]}])
    sd = ids["SUBNET_DB"]
    ids["DB_SELF"] = _eni(ec2, sd, "10.10.5.21", [sg_self], "RDSNetworkInterface")
    ids["DB_MULTI"] = _eni(ec2, sd, "10.10.5.22", [sg_self, ids["SG_DB"]], "RDSNetworkInterface")
    ids["DB_ALL"] = _eni(ec2, sd, "10.10.5.23", [sg_all], "RDSNetworkInterface")
    ids["DB_ICMP"] = _eni(ec2, sd, "10.10.5.24", [sg_icmp], "RDSNetworkInterface")
    ids.update(SG_SELF=sg_self, SG_ALL=sg_all, SG_ICMP=sg_icmp)
    pl_db, pl_other = _pl(ec2, "dbs", [P["DB_VPC"]]), _pl(ec2, "others", [P["OTHER_VPC"]])
    sn = ids["SUBNET_B"]
    sg_pl = _sg(ec2, jv, "egress-pl", egress=[dict(tcp, PrefixListIds=[{"PrefixListId": pl_db}])])
    sg_pl2 = _sg(ec2, jv, "egress-pl2", egress=[dict(tcp, PrefixListIds=[{"PrefixListId": pl_other}])])
    sg_443 = _sg(ec2, jv, "egress-443", egress=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    sg_jself = _sg(ec2, jv, "egress-self", egress=[{"IpProtocol": "-1", "self": True}])
    ids["JOB_PL"] = _eni(ec2, sn, "10.20.2.16", [sg_pl])
    ids["JOB_PL2"] = _eni(ec2, sn, "10.20.2.17", [sg_pl2])
    ids["JOB_TWO"] = _eni(ec2, sn, "10.20.2.18", [sg_443, ids["SG_JOB"]])
    ids["JOB_SELF"] = _eni(ec2, sn, "10.20.2.19", [sg_jself])
    ids["JOB_EC2"] = _eni(ec2, sn, "10.20.2.30", [ids["SG_JOB"]], "instance", "10.20.2.31")
    ids.update(PL_DBS=pl_db, PL_OTHER=pl_other, SG_PL=sg_pl, SG_PL2=sg_pl2, SG_443=sg_443,
               SG_JSELF=sg_jself)


def _subnet(ec2, vpc, cidr, rtb=None, acl_from=None):
    """A subnet, associated with rtb; with the network ACL of subnet acl_from when given."""
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    if rtb:
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=sn)
    if acl_from:
        acl = ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [acl_from]}])["NetworkAcls"][0]
        _associate_acl(ec2, acl["NetworkAclId"], sn)
    return sn


def _associate_acl(ec2, acl, sn):
    cur = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [sn]}])["NetworkAcls"]
    assoc = [a for a in cur[0]["Associations"] if a["SubnetId"] == sn][0]
    ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                        NetworkAclId=acl)


def _entries(ec2, acl, rules):
    """rules: (number, egress, protocol, cidr, from, to, action); from None: no ports."""
    for num, egress, proto, cidr, lo, hi, action in rules:
        kw = {"PortRange": {"From": lo, "To": hi}} if lo is not None else {}
        if proto == "1":
            kw["IcmpTypeCode"] = {"Type": -1, "Code": -1}
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=num, Protocol=proto,
                                     RuleAction=action, Egress=egress, CidrBlock=cidr, **kw)


def _secondary(ec2, ids):
    dbv, jv = ids["DB_VPC"], ids["JOB_VPC"]
    ec2.associate_vpc_cidr_block(VpcId=dbv, CidrBlock="10.11.0.0/16")
    ec2.associate_vpc_cidr_block(VpcId=jv, CidrBlock="100.64.0.0/16")
    sd2 = _subnet(ec2, dbv, "10.11.5.0/24", ids["RTB_DB"], ids["SUBNET_DB"])
    sg_db2 = _sg(ec2, dbv, "db2", [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                    "IpRanges": [{"CidrIp": P["JOB_VPC"]}]}])
    ids["DB2_ENI"] = _eni(ec2, sd2, "10.11.5.20", [sg_db2], "RDSNetworkInterface")
    sj2 = _subnet(ec2, jv, "100.64.2.0/24", ids["RTB_JOB"], ids["SUBNET_B"])
    ids["JOB2_ENI"] = _eni(ec2, sj2, "100.64.2.15", [ids["SG_JOB"]])
    rtb_full = ec2.create_route_table(VpcId=jv)["RouteTable"]["RouteTableId"]
    for cidr in (P["DB_VPC"], "10.11.0.0/16"):
        ec2.create_route(RouteTableId=rtb_full, DestinationCidrBlock=cidr,
                         VpcPeeringConnectionId=ids["PCX"])
    sj3 = _subnet(ec2, jv, "10.20.5.0/24", rtb_full)  # the VPC's default ACL: allow all
    ids["JOB3_ENI"] = _eni(ec2, sj3, "10.20.5.15", [ids["SG_JOB"]])
    ids.update(SUBNET_DB2=sd2, SG_DB2=sg_db2, SUBNET_JOB2=sj2, RTB_FULL=rtb_full)


def _rtlab(ec2, ids):
    dbv, jv = ids["DB_VPC"], ids["JOB_VPC"]
    rtb_db2 = ec2.create_route_table(VpcId=dbv)["RouteTable"]["RouteTableId"]
    assoc = [a for a in ec2.describe_route_tables(RouteTableIds=[ids["RTB_DB"]])[
        "RouteTables"][0]["Associations"] if a.get("SubnetId") == ids["SUBNET_DB"]][0]
    ec2.replace_route_table_association(AssociationId=assoc["RouteTableAssociationId"],
                                       RouteTableId=rtb_db2)
    ec2.create_route(RouteTableId=ids["RTB_JOB"], DestinationCidrBlock=P["SUBNET_T"],
                     VpcPeeringConnectionId=ids["PCX"])
    fw_sn = _subnet(ec2, jv, "10.20.9.0/24")
    fw = _eni(ec2, fw_sn, "10.20.9.9", [ids["SG_JOB"]], "firewall")
    rtb_fw = ec2.create_route_table(VpcId=jv)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb_fw, DestinationCidrBlock=P["DB_VPC"],
                     VpcPeeringConnectionId=ids["PCX"])
    ec2.create_route(RouteTableId=rtb_fw, DestinationCidrBlock=P["SUBNET_T"],
                     NetworkInterfaceId=fw)
    sj2 = _subnet(ec2, jv, "10.20.4.0/24", rtb_fw)
    ids["JOB2_ENI"] = _eni(ec2, sj2, "10.20.4.15", [ids["SG_JOB"]])
    ids.update(RTB_DB2=rtb_db2, FW_ENI=fw, RTB_FW=rtb_fw)


def _nacllab(ec2, ids):
    dbv, job = ids["DB_VPC"], P["JOB_VPC"]
    default = ec2.describe_network_acls(Filters=[
        {"Name": "vpc-id", "Values": [dbv]}, {"Name": "default", "Values": ["true"]}])[
            "NetworkAcls"][0]["NetworkAclId"]
    linux = [(100, False, "6", job, 5432, 5432, "allow"),
             (100, True, "6", job, 32768, 60999, "allow")]
    for egress in (False, True):  # tightened: no more "100 allow all" (32767 stays)
        ec2.delete_network_acl_entry(NetworkAclId=default, RuleNumber=100, Egress=egress)
    _entries(ec2, default, linux)
    plans = [  # (ip, subnet, rules): a custom ACL each, None: the default one
        ("10.10.6.20", "10.10.6.0/24", None),
        ("10.10.7.20", "10.10.7.0/24", linux),
        ("10.10.8.20", "10.10.8.0/24", [(50, False, "1", "0.0.0.0/0", None, None, "allow"),
                                        (100, False, "-1", job, None, None, "allow"),
                                        (100, True, "-1", "0.0.0.0/0", None, None, "allow")]),
        ("10.10.9.20", "10.10.9.0/24", [(100, False, "1", job, None, None, "allow"),
                                        (110, False, "6", job, 22, 22, "allow"),
                                        (100, True, "-1", job, None, None, "allow")]),
        ("10.10.10.20", "10.10.10.0/24", [(100, False, "6", job, 5400, 5500, "allow"),
                                          (100, True, "6", "0.0.0.0/0", 49152, 65535, "allow")]),
        ("10.10.11.20", "10.10.11.0/24", [(90, False, "-1", P["SUBNET_B"], None, None, "deny"),
                                          (100, False, "6", job, 5432, 5432, "allow"),
                                          (100, True, "6", job, 1024, 65535, "allow")]),
    ]
    for ip, cidr, rules in plans:
        sn = _subnet(ec2, dbv, cidr, ids["RTB_DB"])
        if rules is not None:
            acl = ec2.create_network_acl(VpcId=dbv)["NetworkAcl"]["NetworkAclId"]
            _entries(ec2, acl, rules)
            _associate_acl(ec2, acl, sn)
        else:
            acl = default
        key = "N%s" % ip.split(".")[2]
        ids[key + "_ENI"] = _eni(ec2, sn, ip, [ids["SG_DB"]], "RDSNetworkInterface")
        ids[key + "_ACL"] = acl


def _pcxlab(ec2, ids):
    jv = ids["JOB_VPC"]
    old = ec2.create_vpc_peering_connection(VpcId=jv, PeerVpcId=ids["DB_VPC"])[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=old)
    sg_stale = _sg(ec2, ids["DB_VPC"], "stale", [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": ids["SG_JOB"], "UserId": ids["OWNER"],
                               "VpcPeeringConnectionId": old}]}])
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=old)
    ids["STALE_ENI"] = _eni(ec2, ids["SUBNET_DB"], "10.10.5.25", [sg_stale],
                            "RDSNetworkInterface")
    ids.update(PCX_OLD=old, SG_STALE=sg_stale)
    for n, state in ((41, "pending"), (42, "rejected"), (43, "deleted")):
        vpc = ec2.create_vpc(CidrBlock="10.%d.0.0/16" % n)["Vpc"]["VpcId"]
        sn = _subnet(ec2, vpc, "10.%d.5.0/24" % n)
        sg = _sg(ec2, vpc, "db%d" % n, [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                         "IpRanges": [{"CidrIp": P["JOB_VPC"]}]}])
        _eni(ec2, sn, "10.%d.5.20" % n, [sg], "RDSNetworkInterface")
        pcx = ec2.create_vpc_peering_connection(VpcId=jv, PeerVpcId=vpc)[
            "VpcPeeringConnection"]["VpcPeeringConnectionId"]
        ec2.create_route(RouteTableId=ids["RTB_JOB"], DestinationCidrBlock="10.%d.0.0/16" % n,
                         VpcPeeringConnectionId=pcx)
        if state == "rejected":
            ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        elif state == "deleted":
            ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        ids["PCX%d" % n] = pcx


def _v6_block(ec2, vpc):
    """Associate an Amazon-provided IPv6 /56 with vpc; the block."""
    return ec2.associate_vpc_cidr_block(VpcId=vpc, AmazonProvidedIpv6CidrBlock=True)[
        "Ipv6CidrBlockAssociation"]["Ipv6CidrBlock"]


def _v6_subnet(ec2, vpc, cidr, v6_56, n, rtb):
    """A dual-stack subnet: IPv4 cidr, the n-th /64 of the /56, on rtb, with a custom ACL
    allowing everything of both families (as a VPC's default ACL does once it has an IPv6
    block: moto's default ACL has no IPv6 rule)."""
    v6_64 = str(list(ipaddress.ip_network(v6_56).subnets(new_prefix=64))[n])
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, Ipv6CidrBlock=v6_64)["Subnet"]["SubnetId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=sn)
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1",
                                     RuleAction="allow", Egress=egress, CidrBlock="0.0.0.0/0")
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=101, Protocol="-1",
                                     RuleAction="allow", Egress=egress, Ipv6CidrBlock="::/0")
    _associate_acl(ec2, acl, sn)
    return sn, v6_64


def _eni6(ec2, subnet, ip, groups, description, v6):
    kw = {"Ipv6AddressCount": 1} if v6 else {}
    e = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=ip, Groups=groups,
                                     Description=description, **kw)["NetworkInterface"]
    return e["NetworkInterfaceId"], (e.get("Ipv6Addresses") or [{}])[0].get("Ipv6Address", "")


def _v6lab(ec2, ids):
    dbv, jv = ids["DB_VPC"], ids["JOB_VPC"]
    job56, db56 = _v6_block(ec2, jv), _v6_block(ec2, dbv)
    rtb = ec2.create_route_table(VpcId=jv)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=P["DB_VPC"],
                     VpcPeeringConnectionId=ids["PCX"])
    eigw = ec2.create_egress_only_internet_gateway(VpcId=jv)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"]
    ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0",
                     EgressOnlyInternetGatewayId=eigw)
    sj, sj64 = _v6_subnet(ec2, jv, "10.20.6.0/24", job56, 6, rtb)
    sd, sd64 = _v6_subnet(ec2, dbv, "10.10.12.0/24", db56, 12, ids["RTB_DB"])
    tcp = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}
    sg_v4eg = _sg(ec2, jv, "egress-v4", egress=[dict(tcp, IpRanges=[{"CidrIp": P["DB_VPC"]}])])
    ec2.revoke_security_group_egress(GroupId=sg_v4eg, IpPermissions=[
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])  # made in an IPv6 VPC
    sg_db6 = _sg(ec2, dbv, "db6", [dict(tcp, IpRanges=[{"CidrIp": "10.20.6.0/24"}],
                                        Ipv6Ranges=[{"CidrIpv6": sj64}])])
    sg_db6only = _sg(ec2, dbv, "db6only", [dict(tcp, Ipv6Ranges=[{"CidrIpv6": "::/0"}])])
    ids["V6JOB_ENI"], ids["V6JOB_IP6"] = _eni6(ec2, sj, "10.20.6.15", [sg_v4eg], "anonetl task",
                                              True)
    ids["V6JOB2_ENI"], ids["V6JOB2_IP6"] = _eni6(ec2, sj, "10.20.6.16", [ids["SG_JOB"]],
                                                "anonetl task", True)
    ids["V4JOB_ENI"], _ = _eni6(ec2, sj, "10.20.6.17", [ids["SG_JOB"]], "anonetl task", False)
    ids["V6DB_ENI"], ids["V6DB_IP6"] = _eni6(ec2, sd, "10.10.12.20", [sg_db6],
                                            "RDSNetworkInterface", True)
    ids["V6DB2_ENI"], ids["V6DB2_IP6"] = _eni6(ec2, sd, "10.10.12.21", [sg_db6only],
                                              "RDSNetworkInterface", True)
    ids.update(JOB_V6=job56, DB_V6=db56, RTB_V6=rtb, EIGW=eigw, SUBNET_V6JOB=sj,
               SUBNET_V6DB=sd, SUBNET_V6JOB64=sj64, SG_V4EG=sg_v4eg, SG_DB6=sg_db6,
               SG_DB6ONLY=sg_db6only)


def _instance_lab(ec2, ids):
    """n_ok only (the netns addresses): the job's interface (10.77.18.15) is the second one
    of an instance whose primary, 10.77.0.2 (iso's first address), is in a subnet of the
    job VPC's secondary block 10.77.0.0/24 on the VPC's main table (no route to the
    database), with a group letting only 443 out."""
    jv = ids["JOB_VPC"]
    ec2.associate_vpc_cidr_block(VpcId=jv, CidrBlock="10.77.0.0/24")
    sn = ec2.create_subnet(VpcId=jv, CidrBlock="10.77.0.0/24")["Subnet"]["SubnetId"]
    sg = _sg(ec2, jv, "primary-443", egress=[{"IpProtocol": "tcp", "FromPort": 443,
                                              "ToPort": 443,
                                              "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    inst = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=sn,
                             PrivateIpAddress="10.77.0.2", SecurityGroupIds=[sg])["Instances"][0]
    ec2.attach_network_interface(NetworkInterfaceId=ids["JOB_ENI"], InstanceId=inst["InstanceId"],
                                 DeviceIndex=1)
    primary = inst["NetworkInterfaces"][0]
    ids.update(PRIMARY_ENI=primary["NetworkInterfaceId"], PRIMARY_MAC=primary["MacAddress"],
               SUBNET_PRIMARY=sn, SG_PRIMARY=sg, INSTANCE=inst["InstanceId"])


def _data_team(ec2, ids, data):
    """The data team's VPC 10.30.0.0/16 on data's side, peered with the job's VPC (routed
    there from the job's table) and directly with the database VPC (routed nowhere yet)."""
    owner = data.describe_security_groups()["SecurityGroups"][0]["OwnerId"]
    dv = data.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]

    def peer(vpc):
        pcx = ec2.create_vpc_peering_connection(
            VpcId=vpc, PeerVpcId=dv, PeerOwnerId=owner, PeerRegion=data.meta.region_name)[
                "VpcPeeringConnection"]["VpcPeeringConnectionId"]
        data.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        return pcx
    ids.update(DATA_VPC=dv, PCX_DATA=peer(ids["JOB_VPC"]), PCX_DIRECT=peer(ids["DB_VPC"]))
    ec2.create_route(RouteTableId=ids["RTB_JOB"], DestinationCidrBlock="10.30.0.0/16",
                     VpcPeeringConnectionId=ids["PCX_DATA"])


def _isolab(ec2, ids, data):
    """p_lab: the data team beside the job's VPC, production's ways back to them."""
    dbv = ids["DB_VPC"]
    _data_team(ec2, ids, data)
    via_iso, direct = {"VpcPeeringConnectionId": ids["PCX"]}, \
        {"VpcPeeringConnectionId": ids["PCX_DIRECT"]}
    hubs = []  # production attached to each; the second's table routes 10.30.0.0/16 on
    for n in (24, 26):
        hub = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
        sn = _subnet(ec2, dbv, "10.10.%d.0/24" % (n + 100))
        att = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=hub["TransitGatewayId"], VpcId=dbv,
            SubnetIds=[sn])["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        if n == 26:
            ec2.create_transit_gateway_route(
                TransitGatewayRouteTableId=hub["Options"]["AssociationDefaultRouteTableId"],
                DestinationCidrBlock="10.30.0.0/16", TransitGatewayAttachmentId=att)
        hubs.append(hub["TransitGatewayId"])
    tgw = hubs[0]
    pl = _pl(ec2, "data-team", ["10.30.0.0/16"])
    sg_open = _sg(ec2, dbv, "data-team-open", [{"IpProtocol": "tcp", "FromPort": 5432,
                                                 "ToPort": 5432,
                                                 "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    plans = [(21, [("10.30.0.0/16", via_iso)], [ids["SG_DB"]]),
             (22, [("10.30.0.0/16", direct)], [ids["SG_DB"]]),
             (23, [("10.30.0.0/16", via_iso), ("10.30.1.0/24", direct)], [ids["SG_DB"]]),
             (24, [("10.0.0.0/8", {"TransitGatewayId": tgw})], [ids["SG_DB"]]),
             (25, [(pl, direct)], [ids["SG_DB"], sg_open]),
             (26, [("10.0.0.0/8", {"TransitGatewayId": hubs[1]})], [ids["SG_DB"]])]
    for n, routes, sg in plans:  # sg: the database's groups
        rt = ec2.create_route_table(VpcId=dbv)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock=P["JOB_VPC"],
                         VpcPeeringConnectionId=ids["PCX"])
        for dest, target in routes:
            key = "DestinationPrefixListId" if dest.startswith("pl-") else "DestinationCidrBlock"
            ec2.create_route(RouteTableId=rt, **{key: dest}, **target)
        sn = _subnet(ec2, dbv, "10.10.%d.0/24" % n, rt)
        _eni(ec2, sn, "10.10.%d.20" % n, sg, "RDSNetworkInterface")
        ids["RTB_ISO%d" % n] = rt
    ids.update(TGW_ISO=tgw, TGW_ISO2=hubs[1], PL_DATA=pl, SG_OPEN=sg_open)
    # the data team's way to anonymised databases of the job's VPC (the base target
    # 10.20.3.30 admits the job's group only; these admit the job's VPC and the data team):
    # 10.20.7.30 open to them and routed back,
    # 10.20.8.30 open but its table has no route to them, 10.20.10.30 routed, open, its
    # ACL denying their 10.30.1.0/24 first
    jv = ids["JOB_VPC"]
    sg_dt = _sg(ec2, jv, "data-team-target", [{"IpProtocol": "tcp", "FromPort": 5432,
                                                "ToPort": 5432,
                                                "IpRanges": [{"CidrIp": P["JOB_VPC"]},
                                                             {"CidrIp": "10.30.0.0/16"}]}])
    rt_dt = ec2.create_route_table(VpcId=jv)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_dt, DestinationCidrBlock="10.30.0.0/16",
                     VpcPeeringConnectionId=ids["PCX_DATA"])
    rt_none = ec2.create_route_table(VpcId=jv)["RouteTable"]["RouteTableId"]
    for n, rt in ((7, rt_dt), (8, rt_none), (10, rt_dt)):
        sn = _subnet(ec2, jv, "10.20.%d.0/24" % n, rt)
        _eni(ec2, sn, "10.20.%d.30" % n, [sg_dt], "RDSNetworkInterface")
        if n == 10:
            acl = ec2.create_network_acl(VpcId=jv)["NetworkAcl"]["NetworkAclId"]
            _entries(ec2, acl, [(90, False, "6", "10.30.1.0/24", 5432, 5432, "deny"),
                                (100, False, "-1", "0.0.0.0/0", None, None, "allow"),
                                (100, True, "-1", "0.0.0.0/0", None, None, "allow")])
            _associate_acl(ec2, acl, sn)
            ids["ACL_DT10"] = acl
    ids.update(SG_DT=sg_dt, RTB_DT=rt_dt, RTB_DT_NONE=rt_none)


def _labs(ec2, f, ids, data):
    """Session 3 layouts: several variants side by side in one region."""
    labs = {"p_lab": (_sglab, _nacllab, _pcxlab), "p_rtlab": (_rtlab, _secondary, _v6lab)}
    for lab in labs.get(f, ()):
        lab(ec2, ids)
    if f == "p_lab":
        _isolab(ec2, ids, data or ec2)
    if f == "p_ok" and P is PLANS["netns"]:
        _instance_lab(ec2, ids)


def is_fault(name):
    return name in FAULTS or (name.startswith("n_") and "p_" + name[2:] in FAULTS)


def build(client, f, data_client=None):
    """One path layout with fault f; a dict of its ids (shell names)."""
    global P
    P = PLANS["netns"] if f.startswith("n_") else PLANS["reference"]
    f = "p_" + f[2:]
    region = client.meta.region_name
    ec2 = client
    if f == "p_overlap_job":  # first, so that a lookup by address meets it first
        _unrelated(ec2, P["JOB_VPC"], P["SUBNET_B"], P["JOB_IP"])
    if f == "p_overlap_db":
        _unrelated(ec2, P["DB_VPC"], P["SUBNET_DB"], P["DB_IP"])
    ids = _job_side(ec2, f)
    ids["REGION"] = region
    ids["OWNER"] = ec2.describe_security_groups(GroupIds=[ids["SG_JOB"]])[
        "SecurityGroups"][0]["OwnerId"]
    cross = f in ("p_cross_account", "p_xacct_overlap", "p_egress_ref_hidden", "p_xregion")
    dbc = data_client if cross and data_client else ec2
    ids.update(_db_side(dbc, f))
    if dbc is ec2:
        ids["PCX"] = _pcx(ec2, ids["JOB_VPC"], ids["DB_VPC"])
    elif f == "p_xregion":  # our account, the database's region: accepted there
        ids["PCX"] = _pcx(ec2, ids["JOB_VPC"], ids["DB_VPC"], accepter=dbc,
                          PeerRegion=dbc.meta.region_name)
        ids["DB_REGION"] = dbc.meta.region_name
    else:
        owner = dbc.describe_security_groups(GroupIds=[ids["SG_DB"]])["SecurityGroups"][0][
            "OwnerId"]
        ids["PCX"] = _pcx(ec2, ids["JOB_VPC"], ids["DB_VPC"], accepter=dbc, PeerOwnerId=owner)
    ids["PL_JOBS"] = ec2.create_managed_prefix_list(
        PrefixListName="jobs", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": P["SUBNET_A"]}, {"Cidr": P["SUBNET_B"]}])["PrefixList"][
            "PrefixListId"]
    dbc.authorize_security_group_ingress(GroupId=ids["SG_DB"],
                                         IpPermissions=[_db_ingress(ec2, f, ids)])
    if f == "p_tgw_sg_ref":  # the job may only reach the database's group
        ec2.revoke_security_group_egress(GroupId=ids["SG_JOB"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_egress(GroupId=ids["SG_JOB"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "UserIdGroupPairs": [{"GroupId": ids["SG_DB"], "UserId": ids["OWNER"]}]}])
    rtb = ec2.create_route_table(VpcId=ids["JOB_VPC"])["RouteTable"]["RouteTableId"]
    ids["RTB_JOB"] = rtb
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=ids["SUBNET_A"])
    if f == "p_route_main_table":
        ids["RTB_OTHER"] = ec2.describe_route_tables(Filters=[
            {"Name": "vpc-id", "Values": [ids["JOB_VPC"]]},
            {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    elif f == "p_route_other_table":
        other = ec2.create_route_table(VpcId=ids["JOB_VPC"])["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=other, SubnetId=ids["SUBNET_B"])
        ids["RTB_OTHER"] = other
    else:
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=ids["SUBNET_B"])
    _route_job(ec2, f, ids, rtb)
    rtb_db = dbc.create_route_table(VpcId=ids["DB_VPC"])["RouteTable"]["RouteTableId"]
    dbc.associate_route_table(RouteTableId=rtb_db, SubnetId=ids["SUBNET_DB"])
    if f in TGW_HUBS:
        dbc.create_route(RouteTableId=rtb_db, DestinationCidrBlock=P["JOB_VPC"],
                         TransitGatewayId=ids["TGW"])
    elif f != "p_no_return":
        dbc.create_route(RouteTableId=rtb_db, DestinationCidrBlock=P["JOB_VPC"],
                         VpcPeeringConnectionId=ids["PCX"])
    ids["RTB_DB"] = rtb_db
    if f == "p_many":
        _many(ec2, ids)
    _second_shift(ec2, f, ids)
    _labs(ec2, f, ids, data_client)
    if f == "p_iso_direct":
        _data_team(ec2, ids, data_client or ec2)
        ec2.create_route(RouteTableId=ids["RTB_DB"], DestinationCidrBlock="10.30.0.0/16",
                         VpcPeeringConnectionId=ids["PCX_DIRECT"])
    if f in TGW_HUBS:  # the zones, for the checks' messages
        ids["ZONE_1"] = _zone(ec2, f, "")["AvailabilityZone"]
    if f in TGW_MOVED:
        ids["ZONE_2"] = _zone(ec2, f, TGW_MOVED[f])["AvailabilityZone"]
    ids["JOB_MAC"] = ec2.describe_network_interfaces(NetworkInterfaceIds=[ids["JOB_ENI"]])[
        "NetworkInterfaces"][0]["MacAddress"]
    ids.setdefault("TGW", "tgw-00000000")
    ids.setdefault("TGW_RTB", "tgw-rtb-00000000")
    ids.setdefault("RTB_OTHER", "rtb-00000000")
    return ids
