# peering-accepter: applied by the data team, in their account and region, to accept
# the peering the anonetl side requested (module peering with peer_owner_id and
# peer_region), add their routes to the isolated VPC and set their DNS option.
#
# Order: (1) anonetl side applies its peering (pending-acceptance); (2) the data team
# applies this module with the pcx id; (3) anonetl side applies again with
# peer_accepted = true to set its own DNS option.

resource "aws_vpc_peering_connection_accepter" "this" {
  vpc_peering_connection_id = var.vpc_peering_connection_id
  auto_accept               = true

  tags = merge(var.tags, {
    Name = var.name
    Side = "Accepter"
  })
}

# Accepting makes the peering active, so the option can be set right after it: the
# reference to the accepter resource orders the two.
resource "aws_vpc_peering_connection_options" "this" {
  count = var.dns_resolution ? 1 : 0

  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id

  accepter {
    allow_remote_vpc_dns_resolution = true
  }
}

resource "aws_route" "this" {
  for_each = var.route_table_ids

  route_table_id            = each.value
  destination_cidr_block    = var.requester_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id
}
