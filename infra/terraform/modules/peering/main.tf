# peering: one VPC peering connection, requester side, with its routes and DNS options.
#
# Two shapes, chosen by peer_owner_id / peer_region:
#
# * same account and region (production VPC <-> isolated VPC): auto_accept, then DNS
#   resolution enabled on both sides through aws_vpc_peering_connection_options, which
#   AWS accepts only once the peering is active; the options resource refers to the
#   peering resource, so it is created after the auto-accept has completed. Routes on
#   every route table of both VPCs.
#
# * cross account and/or region (isolated VPC <-> data team VPC): the request only
#   (peer_owner_id, peer_region, no auto_accept). The data team accepts it in their
#   account with the peering-accepter module, which also adds their routes and their
#   DNS option. The requester-side DNS option can only be set once the peering is
#   active, so this is a two-step apply: apply with peer_accepted = false, let the
#   data team apply the accepter, then apply again with peer_accepted = true.
#   Requester-side routes are created in the first step: AWS accepts a route to a
#   pending peering (state blackhole until it is active).
#
# Peering is not transitive: the data team reaches the isolated VPC only, never the
# production VPC peered with it.

locals {
  same_account = var.peer_owner_id == null && var.peer_region == null
  set_options  = var.dns_resolution && (local.same_account || var.peer_accepted)
}

resource "aws_vpc_peering_connection" "this" {
  vpc_id        = var.requester_vpc_id
  peer_vpc_id   = var.accepter_vpc_id
  peer_owner_id = var.peer_owner_id
  peer_region   = var.peer_region
  auto_accept   = local.same_account ? true : null

  tags = merge(var.tags, {
    Name = var.name
    Side = "Requester"
  })
}

# Created only when the peering is active: same account (auto-accepted above), or a
# cross-account peering that the operator declares accepted (peer_accepted = true).
resource "aws_vpc_peering_connection_options" "this" {
  count = local.set_options ? 1 : 0

  vpc_peering_connection_id = aws_vpc_peering_connection.this.id

  requester {
    allow_remote_vpc_dns_resolution = true
  }

  # Same account: this account owns the accepter side too. Cross account: the data
  # team sets their side in the peering-accepter module.
  dynamic "accepter" {
    for_each = local.same_account ? [1] : []
    content {
      allow_remote_vpc_dns_resolution = true
    }
  }

  lifecycle {
    precondition {
      condition     = local.same_account || aws_vpc_peering_connection.this.accept_status == "active"
      error_message = "The peering is not active yet (status: ${aws_vpc_peering_connection.this.accept_status}). Ask the data team to apply the peering-accepter module, then apply again."
    }
  }
}

resource "aws_route" "requester" {
  for_each = var.requester_route_table_ids

  route_table_id            = each.value
  destination_cidr_block    = var.accepter_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection.this.id
}

resource "aws_route" "accepter" {
  for_each = local.same_account ? var.accepter_route_table_ids : {}

  route_table_id            = each.value
  destination_cidr_block    = var.requester_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection.this.id
}
