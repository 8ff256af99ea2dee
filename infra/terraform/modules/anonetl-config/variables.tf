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
  description = "network.endpoints: { name = \"source\" | \"target\", expect_cidr = CIDR } - the CIDR each database host name must resolve into."
  type = list(object({
    name        = string
    expect_cidr = string
  }))
  default = []
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
