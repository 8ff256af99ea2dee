output "id" {
  description = "ID of the accepted peering connection."
  value       = aws_vpc_peering_connection_accepter.this.id
}

output "accept_status" {
  description = "Status after acceptance (active)."
  value       = aws_vpc_peering_connection_accepter.this.accept_status
}

output "routes" {
  description = "Routes added in the data team VPC: key => { route_table, destination }."
  value = {
    for k, r in aws_route.this : k => {
      route_table = r.route_table_id
      destination = r.destination_cidr_block
    }
  }
}
