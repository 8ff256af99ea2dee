variable "name" {
  description = "Name prefix for every resource (tags Name = \"<name>-...\")."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the isolated VPC. Must not overlap the production VPC nor the data team VPC (peering refuses overlapping CIDRs)."
  type        = string

  # Well formed: an IPv4 CIDR whose host bits are zero (AWS refuses 10.20.0.1/16).
  validation {
    condition = (can(cidrhost(var.cidr_block, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", var.cidr_block))
    && try(cidrhost(var.cidr_block, 0) == split("/", var.cidr_block)[0], false))
    error_message = "cidr_block must be an IPv4 network in CIDR form with no host bits set, such as 10.20.0.0/16."
  }

  validation {
    condition     = try(tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 28, false)
    error_message = "cidr_block must be a /16 to /28 (the sizes a VPC may have)."
  }
}

variable "private_subnets" {
  description = "Private subnets keyed by a short stable name (used as for_each keys and in route table names): { a = { cidr = \"10.20.1.0/24\", az = \"eu-west-2a\" } }. Two or more AZs are needed for the RDS subnet group."
  type = map(object({
    cidr = string
    az   = string
  }))

  validation {
    condition     = length(var.private_subnets) >= 2
    error_message = "At least two private subnets (in two availability zones) are needed for the RDS subnet group."
  }

  validation {
    condition = alltrue([
      for s in var.private_subnets : can(cidrhost(s.cidr, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", s.cidr))
      && try(cidrhost(s.cidr, 0) == split("/", s.cidr)[0], false)
    ])
    error_message = "Each private_subnets[*].cidr must be an IPv4 network in CIDR form with no host bits set, such as 10.20.1.0/24."
  }

  # Inside the VPC: the subnet's network address cut to the VPC's prefix is the VPC's,
  # and the subnet is not larger than the VPC.
  validation {
    condition = alltrue([
      for s in var.private_subnets : try(
        tonumber(split("/", s.cidr)[1]) >= tonumber(split("/", var.cidr_block)[1]) &&
        cidrhost("${cidrhost(s.cidr, 0)}/${split("/", var.cidr_block)[1]}", 0) == cidrhost(var.cidr_block, 0),
      false)
    ])
    error_message = "Every private subnet must lie inside cidr_block."
  }

  # Not overlapping: two networks overlap when, cut to the shorter of their two
  # prefixes, they have the same network address.
  validation {
    condition = alltrue(flatten([
      for i, a in values(var.private_subnets)[*].cidr : [
        for j, b in values(var.private_subnets)[*].cidr : i >= j || try(
          cidrhost("${cidrhost(a, 0)}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0) !=
          cidrhost("${cidrhost(b, 0)}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0),
        false)
      ]
    ]))
    error_message = "The private subnets overlap: each needs its own range of cidr_block."
  }

  validation {
    condition     = alltrue([for s in var.private_subnets : can(regex("^[a-z]{2}-[a-z]+-[0-9][a-z]$", s.az))])
    error_message = "Each private_subnets[*].az must be an availability zone name such as eu-west-2a."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through VPC interface endpoints (private DNS on), so the job needs no internet: ec2 and rds (preflight), sts (web identity), secretsmanager (aws_secret), logs (awslogs), ecr.api and ecr.dkr (image pull)."
  type        = list(string)
  default     = ["ec2", "rds", "sts", "secretsmanager", "logs", "ecr.api", "ecr.dkr"]
}

variable "s3_gateway_endpoint" {
  description = "Create the S3 gateway endpoint on every private route table (ECR stores image layers in S3)."
  type        = bool
  default     = true
}

variable "enable_flow_logs" {
  description = "Send VPC flow logs (REJECT only) to a CloudWatch log group: the first place to look when preflight reports a TCP timeout."
  type        = bool
  default     = false
}

variable "flow_logs_retention_days" {
  description = "Retention of the flow log group, in days (a CloudWatch Logs value)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be a CloudWatch Logs retention: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
