variable "region" {
  description = "aws.region: region of the EC2 API the preflight calls (the isolated VPC's)."
  type        = string
}

variable "endpoint" {
  description = "aws.endpoint: EC2 endpoint override (https://...), null to use the regional host name (which resolves to the interface endpoint when its private DNS is on)."
  type        = string
  default     = null
}

variable "peerings" {
  description = "aws.peerings: { id = \"pcx-...\", dns_resolution = \"true\" | \"requester\" | \"accepter\" | \"false\", required = true }. Use the peering module's id and dns_resolution outputs."
  type = list(object({
    id             = string
    dns_resolution = string
    required       = optional(bool, true)
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.peerings : contains(["true", "false", "requester", "accepter"], p.dns_resolution)])
    error_message = "dns_resolution must be one of true, false, requester, accepter."
  }
}

variable "routes" {
  description = "aws.routes: { route_table = \"rtb-...\", destination = CIDR, peering = \"pcx-...\" }, one per route table the job's subnets use and per peer CIDR."
  type = list(object({
    route_table = string
    destination = string
    peering     = string
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.routes : can(cidrhost(r.destination, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", r.destination)) && try(cidrhost(r.destination, 0) == split("/", r.destination)[0], false)])
    error_message = "Each routes[*].destination must be an IPv4 network in CIDR form with no host bits set."
  }
}

variable "return_routes" {
  description = "The routes back to the job on the database side (aws.routes too): { route_table = the database subnet's table, destination = the job's CIDR, peering }. Use the peering module's accepter_routes (same account; a peer account's tables are checked by hand)."
  type = list(object({
    route_table = string
    destination = string
    peering     = string
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.return_routes : can(cidrhost(r.destination, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", r.destination)) && try(cidrhost(r.destination, 0) == split("/", r.destination)[0], false)])
    error_message = "Each return_routes[*].destination must be an IPv4 network in CIDR form with no host bits set."
  }
}

variable "job" {
  description = "aws.job: where the job runs, when it is fixed (a VM): { network_interface = \"eni-...\" } or { ip = \"10.20.1.15\" }. null for an ECS task: it reads its own from the task metadata endpoint at run time."
  type = object({
    ip                = optional(string)
    network_interface = optional(string)
  })
  default = null

  validation {
    condition     = var.job == null || try((var.job.ip == null) != (var.job.network_interface == null), false)
    error_message = "job takes exactly one of ip and network_interface."
  }

  validation {
    condition     = var.job == null || try(var.job.ip == null || can(cidrhost("${var.job.ip}/32", 0)), false)
    error_message = "job.ip must be an IPv4 address."
  }

  validation {
    condition     = var.job == null || try(var.job.network_interface == null || can(regex("^eni-[0-9a-f]{8,17}$", var.job.network_interface)), false)
    error_message = "job.network_interface must be a network interface id (eni-...)."
  }
}

variable "transit_gateways" {
  description = "aws.transit_gateways: transit gateways (tgw-...) a route to a database may go through."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.transit_gateways : can(regex("^tgw-[0-9a-f]{8,17}$", t))])
    error_message = "transit_gateways holds transit gateway ids (tgw-...)."
  }
}

variable "security_groups" {
  description = "aws.security_groups: { group = \"sg-...\", port = 5432, from = CIDR or sg-... } - the database groups that must admit the job."
  type = list(object({
    group = string
    port  = number
    from  = string
  }))
  default = []
}

variable "endpoints" {
  description = "network.endpoints: { name = \"source\" | \"target\", expect_cidr = CIDR, ip = optional pinned private address } - the CIDR each database host name must resolve into."
  type = list(object({
    name        = string
    expect_cidr = string
    ip          = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for e in var.endpoints : contains(["source", "target"], e.name) && can(cidrhost(e.expect_cidr, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", e.expect_cidr)) && try(cidrhost(e.expect_cidr, 0) == split("/", e.expect_cidr)[0], false)])
    error_message = "Each endpoint is named source or target and its expect_cidr is an IPv4 network in CIDR form with no host bits set."
  }

  validation {
    condition     = alltrue([for e in var.endpoints : e.ip == null || try(cidrhost("${e.expect_cidr}", 0) == cidrhost("${e.ip}/${split("/", e.expect_cidr)[1]}", 0), false)])
    error_message = "An endpoint's ip must be an IPv4 address inside its expect_cidr."
  }
}

variable "connect_timeout" {
  description = "network.connect_timeout (a duration such as 5s)."
  type        = string
  default     = "5s"
}

variable "base_yaml" {
  description = "Optional: the rest of the config (version, source, target, secrets, run, tables) as YAML text; config_yaml then renders the whole file with the aws and network sections replaced. Comments are not kept."
  type        = string
  default     = null
}
