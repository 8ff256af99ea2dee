# Applied by the data team in their account: accept the peering the anonetl side
# requested, route to the isolated VPC, set the accepter-side DNS option. Then tell
# the anonetl side, who applies again with data_team_peering_accepted = true.

module "accepter" {
  source = "../../modules/peering-accepter"

  name                      = "anonetl-anonymised-db"
  vpc_peering_connection_id = var.vpc_peering_connection_id
  requester_cidr            = var.isolated_cidr
  route_table_ids           = var.route_table_ids
}
