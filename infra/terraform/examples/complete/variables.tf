variable "region" {
  description = "Region of the production VPC and of the isolated VPC."
  type        = string
  default     = "eu-west-2"
}

variable "name" {
  description = "Name prefix of everything created here."
  type        = string
  default     = "anonetl"
}

# ---- production VPC (exists already; the source database lives there)

variable "production_vpc_id" {
  description = "Production VPC (same account and region)."
  type        = string
}

variable "production_cidr" {
  description = "CIDR of the production VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.production_cidr, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", var.production_cidr)) && try(cidrhost(var.production_cidr, 0) == split("/", var.production_cidr)[0], false)
    error_message = "production_cidr must be an IPv4 network in CIDR form with no host bits set, such as 10.10.0.0/16."
  }
}

variable "production_route_table_ids" {
  description = "Route tables of the production subnets that hold the source database, keyed by a static name: they get a route back to the isolated VPC."
  type        = map(string)
}

variable "source_db_security_group_id" {
  description = "Security group of the production database: gets an inbound rule for the job's security group (null = manage it elsewhere)."
  type        = string
  default     = null
}

variable "source_db_port" {
  description = "Port of the production database."
  type        = number
  default     = 5432

  validation {
    condition     = var.source_db_port >= 1 && var.source_db_port <= 65535 && floor(var.source_db_port) == var.source_db_port
    error_message = "source_db_port must be a TCP port (1-65535)."
  }
}

variable "source_db_resource_id" {
  description = "DbiResourceId of the production RDS instance when anonetl logs in with IAM authentication (source.iam_auth: true); null otherwise."
  type        = string
  default     = null
}

variable "source_db_user" {
  description = "Database user anonetl reads the source as (read-only role, see sql/)."
  type        = string
  default     = "anonetl_reader"
}

# ---- isolated VPC (created here)

variable "isolated_cidr" {
  description = "CIDR of the isolated VPC: must overlap neither the production VPC nor the data team VPC (a peering between overlapping CIDRs is refused)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.isolated_cidr, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", var.isolated_cidr)) && try(cidrhost(var.isolated_cidr, 0) == split("/", var.isolated_cidr)[0], false)
    error_message = "isolated_cidr must be an IPv4 network in CIDR form with no host bits set, such as 10.20.0.0/16."
  }

  validation {
    condition     = try(cidrhost("${cidrhost(var.isolated_cidr, 0)}/${min(tonumber(split("/", var.isolated_cidr)[1]), tonumber(split("/", var.production_cidr)[1]))}", 0) != cidrhost("${cidrhost(var.production_cidr, 0)}/${min(tonumber(split("/", var.isolated_cidr)[1]), tonumber(split("/", var.production_cidr)[1]))}", 0), false)
    error_message = "isolated_cidr overlaps production_cidr: the peering would be refused."
  }

  validation {
    condition     = try(cidrhost("${cidrhost(var.isolated_cidr, 0)}/${min(tonumber(split("/", var.isolated_cidr)[1]), tonumber(split("/", var.data_team_cidr)[1]))}", 0) != cidrhost("${cidrhost(var.data_team_cidr, 0)}/${min(tonumber(split("/", var.isolated_cidr)[1]), tonumber(split("/", var.data_team_cidr)[1]))}", 0), false)
    error_message = "isolated_cidr overlaps data_team_cidr: the peering would be refused."
  }
}

variable "isolated_subnets" {
  description = "Private subnets of the isolated VPC, keyed by a short name."
  type = map(object({
    cidr = string
    az   = string
  }))
  default = {
    a = { cidr = "10.20.1.0/24", az = "eu-west-2a" }
    b = { cidr = "10.20.2.0/24", az = "eu-west-2b" }
  }
}

variable "target_db_user" {
  description = "Database user anonetl writes the target as (IAM authentication)."
  type        = string
  default     = "anonetl_writer"
}

# ---- data team VPC (another account and region)

variable "data_team_account_id" {
  description = "AWS account of the data team."
  type        = string
}

variable "data_team_region" {
  description = "Region of the data team VPC."
  type        = string
}

variable "data_team_vpc_id" {
  description = "The data team VPC."
  type        = string
}

variable "data_team_cidr" {
  description = "CIDR of the data team VPC: the only outside CIDR the anonymised database admits."
  type        = string

  validation {
    condition     = can(cidrhost(var.data_team_cidr, 0)) && can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", var.data_team_cidr)) && try(cidrhost(var.data_team_cidr, 0) == split("/", var.data_team_cidr)[0], false)
    error_message = "data_team_cidr must be an IPv4 network in CIDR form with no host bits set, such as 10.30.0.0/16."
  }

  # Peering is not transitive, but the anonymised database's security group admits
  # data_team_cidr: overlapping production would admit production addresses too.
  validation {
    condition     = try(cidrhost("${cidrhost(var.data_team_cidr, 0)}/${min(tonumber(split("/", var.data_team_cidr)[1]), tonumber(split("/", var.production_cidr)[1]))}", 0) != cidrhost("${cidrhost(var.production_cidr, 0)}/${min(tonumber(split("/", var.data_team_cidr)[1]), tonumber(split("/", var.production_cidr)[1]))}", 0), false)
    error_message = "data_team_cidr overlaps production_cidr."
  }
}

variable "data_team_peering_accepted" {
  description = "Second apply: true once the data team has applied examples/data-team-accepter (sets our DNS option on the active peering)."
  type        = bool
  default     = false
}

# ---- the job

variable "image" {
  description = "anonetl image (deploy/Dockerfile plus the config and the RDS CA bundle), pinned by digest."
  type        = string
}

variable "schedule_expression" {
  description = "When the job runs (EventBridge Scheduler expression)."
  type        = string
  default     = "cron(17 2 * * ? *)"
}

variable "run_args" {
  description = "Extra arguments of `anonetl run` (`--metrics emf` is always there: the failed-run alarm reads it)."
  type        = list(string)
  default     = ["--jobs", "4"]
}

variable "config_file" {
  description = "Optional path of the complete anonetl config to keep in S3 (a versioned, encrypted bucket made here): the task then runs `anonetl run -c s3://...` and may read that one object. null: the config is in the image."
  type        = string
  default     = null
}

variable "secret_arns" {
  description = "Secrets the config reads with { aws_secret: ARN } (hash key, passwords)."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys of those secrets, if any."
  type        = list(string)
  default     = []
}

variable "container_secrets" {
  description = "Secrets ECS puts in the environment instead (for { env: NAME } references)."
  type = list(object({
    name       = string
    secret_arn = string
    json_key   = optional(string)
  }))
  default = []
}

variable "allow_repair" {
  description = "Let the task role repair the drift preflight knows (accept the production peering, set its DNS options, recreate the job's routes)."
  type        = bool
  default     = false
}

variable "config_base_file" {
  description = "Optional path of the config without aws:/network: sections (rules etc.); output anonetl_config_yaml is then the complete file."
  type        = string
  default     = null
}

variable "tags" {
  description = "Default tags of every resource."
  type        = map(string)
  default     = { Project = "anonetl" }
}
