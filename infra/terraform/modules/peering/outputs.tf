output "id" {
  description = "ID of the peering connection (pcx-...)."
  value       = aws_vpc_peering_connection.this.id
}

output "accept_status" {
  description = "Status at the last apply: active, or pending-acceptance for a cross-account peering not yet accepted."
  value       = aws_vpc_peering_connection.this.accept_status
}

output "same_account" {
  description = "True when the peering was auto-accepted in this account and region."
  value       = local.same_account
}

output "dns_resolution" {
  description = "The anonetl config value for aws.peerings[].dns_resolution that matches what was applied: true (both sides), requester (our side only), or false."
  value       = !var.dns_resolution ? "false" : (local.same_account ? "true" : "requester")
}

output "requester_routes" {
  description = "Requester-side routes: key => { route_table, destination }. Feed these to aws.routes of the anonetl config."
  value = {
    for k, r in aws_route.requester : k => {
      route_table = r.route_table_id
      destination = r.destination_cidr_block
    }
  }
}

output "accepter_routes" {
  description = "Accepter-side routes created here (same account only): key => { route_table, destination }."
  value = {
    for k, r in aws_route.accepter : k => {
      route_table = r.route_table_id
      destination = r.destination_cidr_block
    }
  }
}
