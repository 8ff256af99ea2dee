variable "region" {
  description = "Region of the data team VPC (the peer_region the requester used)."
  type        = string
}

variable "vpc_peering_connection_id" {
  description = "Output peering_data_team_id of examples/complete."
  type        = string
}

variable "isolated_cidr" {
  description = "Output isolated_vpc_cidr of examples/complete."
  type        = string
}

variable "route_table_ids" {
  description = "Route tables of the data team subnets that query the anonymised database, keyed by a static name."
  type        = map(string)
}
