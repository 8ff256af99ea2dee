variable "name" {
  description = "Name tag of the peering connection."
  type        = string
}

variable "requester_vpc_id" {
  description = "VPC that requests the peering (ours: the isolated VPC)."
  type        = string
}

variable "requester_cidr" {
  description = "IPv4 CIDR of the requester VPC (the destination of the accepter-side routes)."
  type        = string
}

variable "requester_route_table_ids" {
  description = "Every route table of the requester VPC whose subnets talk to the peer, keyed by a static name (for_each keys must be known at plan time). Each gets a route to accepter_cidr."
  type        = map(string)
}

variable "accepter_vpc_id" {
  description = "VPC that accepts the peering (production VPC, or the data team VPC in another account)."
  type        = string
}

variable "accepter_cidr" {
  description = "IPv4 CIDR of the accepter VPC (the destination of the requester-side routes)."
  type        = string
}

variable "accepter_route_table_ids" {
  description = "Same account only: every route table of the accepter VPC that must reach the requester, keyed by a static name. Ignored for a cross-account peering: the data team adds those routes with the peering-accepter module."
  type        = map(string)
  default     = {}
}

variable "peer_owner_id" {
  description = "AWS account ID of the accepter. null = same account (auto-accepted here)."
  type        = string
  default     = null
}

variable "peer_region" {
  description = "Region of the accepter VPC. null = same region. Any value other than null makes this a cross-account/region peering accepted with the peering-accepter module."
  type        = string
  default     = null
}

variable "dns_resolution" {
  description = "Let each side resolve the other side's private host names (RDS endpoints) to private addresses. Same account: set on both sides. Cross account: set on the requester side only, and only once accepted (see peer_accepted)."
  type        = bool
  default     = true
}

variable "peer_accepted" {
  description = "Cross account/region only, second apply: set to true once the data team has applied the peering-accepter module (the peering is active). Only then can the requester-side DNS option be set: AWS refuses ModifyVpcPeeringConnectionOptions on a peering that is not active."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
