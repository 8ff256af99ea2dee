variable "name" {
  description = "Name tag of the peering connection on the accepter side."
  type        = string
}

variable "vpc_peering_connection_id" {
  description = "ID (pcx-...) of the peering requested by the anonetl side (output peering_data_team_id of its Terraform)."
  type        = string

  validation {
    condition     = can(regex("^pcx-[0-9a-f]{8,17}$", var.vpc_peering_connection_id))
    error_message = "vpc_peering_connection_id must look like pcx-0123456789abcdef0."
  }
}

variable "route_table_ids" {
  description = "Every route table of the data team VPC whose subnets query the anonymised database, keyed by a static name. Each gets a route to requester_cidr."
  type        = map(string)
}

variable "requester_cidr" {
  description = "IPv4 CIDR of the isolated VPC (the anonymised database side)."
  type        = string
}

variable "dns_resolution" {
  description = "Set the accepter-side DNS option (allow_remote_vpc_dns_resolution): lets hosts in the isolated VPC resolve this VPC's private host names. The option the data team needs to resolve the RDS host name to a private address is on the requester side, set by the anonetl side once this module has been applied."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
