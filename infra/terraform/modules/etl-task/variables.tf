variable "name" {
  description = "Name of the ECS cluster, task family, log group suffix, roles and schedule."
  type        = string
}

variable "vpc_id" {
  description = "The isolated VPC the task runs in."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the isolated VPC: HTTPS egress to the interface endpoints."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the task may be placed in (their route tables are the ones the preflight checks)."
  type        = list(string)
}

variable "s3_egress" {
  description = "HTTPS egress to the regional S3 prefix list (image layers through the S3 gateway endpoint of isolated-vpc)."
  type        = bool
  default     = true
}

variable "database_destinations" {
  description = "Databases the task connects to, one egress rule each: { source = { cidr = \"10.10.0.0/16\", port = 5432 }, target = {...} }."
  type = map(object({
    cidr = string
    port = number
  }))
}

variable "image" {
  description = "Container image (built from deploy/Dockerfile, with the config and the RDS CA bundle copied in), preferably pinned by digest: 111122223333.dkr.ecr.eu-west-2.amazonaws.com/anonetl@sha256:..."
  type        = string
}

variable "config_path" {
  description = "Path of the anonetl config inside the image."
  type        = string
  default     = "/etc/anonetl/anonetl.yaml"
}

variable "run_args" {
  description = "Extra arguments after `run -c CONFIG`, e.g. [\"--jobs\", \"4\"]."
  type        = list(string)
  default     = []
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Fargate task memory in MiB (anonetl streams rows: memory does not grow with table size)."
  type        = number
  default     = 2048
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64: must match the image."
  type        = string
  default     = "X86_64"
}

variable "environment" {
  description = "Plain environment variables of the container (no secrets here: they end up in the task definition)."
  type        = map(string)
  default     = {}
}

variable "container_secrets" {
  description = "Environment variables filled by ECS from Secrets Manager at task start (read by the execution role), e.g. { name = \"ANONETL_HASH_KEY\", secret_arn = \"arn:...\", json_key = \"hash_key\" }."
  type = list(object({
    name       = string
    secret_arn = string
    json_key   = optional(string)
  }))
  default = []
}

variable "secret_arns" {
  description = "Secrets anonetl reads itself ({ aws_secret: ARN } in the config): secretsmanager:GetSecretValue on exactly these ARNs for the task role."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt those secrets (kms:Decrypt through Secrets Manager only). Empty for the AWS managed key."
  type        = list(string)
  default     = []
}

variable "rds_iam_users" {
  description = "Database users anonetl logs in as with iam_auth: true: rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/USER."
  type = list(object({
    resource_id = string
    user        = string
  }))
  default = []
}

variable "allow_repair" {
  description = "Grant the three actions `anonetl preflight --repair --yes` uses (accept a same-account peering, set its DNS options, create a missing route), on the resources below only. Off by default: repair is an operator action."
  type        = bool
  default     = false
}

variable "repair_peering_ids" {
  description = "Peerings the task may accept and modify when allow_repair."
  type        = list(string)
  default     = []
}

variable "repair_vpc_ids" {
  description = "Accepter VPCs of those peerings (AcceptVpcPeeringConnection is authorised on the peering and on the accepter VPC)."
  type        = list(string)
  default     = []
}

variable "repair_route_table_ids" {
  description = "Route tables the task may add routes to when allow_repair."
  type        = list(string)
  default     = []
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression: cron(...), rate(...) or at(...)."
  type        = string
  default     = "cron(17 2 * * ? *)"
}

variable "schedule_timezone" {
  description = "Time zone of the schedule expression."
  type        = string
  default     = "UTC"
}

variable "schedule_enabled" {
  description = "ENABLED or not: false leaves the schedule in place, DISABLED."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the task's CloudWatch log group."
  type        = number
  default     = 90
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null = CloudWatch Logs default encryption."
  type        = string
  default     = null
}

variable "container_insights" {
  description = "Enable Container Insights on the cluster."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
