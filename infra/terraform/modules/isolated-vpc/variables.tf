variable "name" {
  description = "Name prefix for every resource (tags Name = \"<name>-...\")."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the isolated VPC. Must not overlap the production VPC nor the data team VPC (peering refuses overlapping CIDRs)."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be an IPv4 CIDR such as 10.20.0.0/16."
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
}

variable "interface_endpoints" {
  description = "AWS services reached through VPC interface endpoints (private DNS on), so the job needs no internet: ec2 (preflight), sts (web identity), secretsmanager (aws_secret), logs (awslogs), ecr.api and ecr.dkr (image pull)."
  type        = list(string)
  default     = ["ec2", "sts", "secretsmanager", "logs", "ecr.api", "ecr.dkr"]
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
  description = "Retention of the flow log group, in days."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
