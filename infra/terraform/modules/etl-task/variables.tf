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
  description = "Path of the anonetl config inside the image (used when config_s3 is null)."
  type        = string
  default     = "/etc/anonetl/anonetl.yaml"
}

variable "config_s3" {
  description = "The config in S3 (the config-bucket module's outputs): the task runs `run -c s3://bucket/key`, and its role may s3:GetObject and s3:GetObjectVersion on that one key (kms:Decrypt through S3 when kms_key_arn is set). null: the config is in the image (config_path)."
  type = object({
    bucket      = string
    key         = string
    kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.config_s3 == null || try(can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.config_s3.bucket)) && length(var.config_s3.key) > 0, false)
    error_message = "config_s3.bucket must be an S3 bucket name and config_s3.key non-empty."
  }
}

variable "run_args" {
  description = "Extra arguments after `run -c CONFIG`, e.g. [\"--jobs\", \"4\"]."
  type        = list(string)
  default     = []
}

variable "cpu" {
  description = "Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate CPU value: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB, one Fargate allows with cpu (anonetl streams rows: memory does not grow with table size)."
  type        = number
  default     = 2048

  # The pairs Fargate accepts (AWS documentation, "Task CPU and memory").
  validation {
    condition = (
      var.cpu == 256 ? contains([512, 1024, 2048], var.memory) :
      var.cpu == 512 ? var.memory >= 1024 && var.memory <= 4096 && var.memory % 1024 == 0 :
      var.cpu == 1024 ? var.memory >= 2048 && var.memory <= 8192 && var.memory % 1024 == 0 :
      var.cpu == 2048 ? var.memory >= 4096 && var.memory <= 16384 && var.memory % 1024 == 0 :
      var.cpu == 4096 ? var.memory >= 8192 && var.memory <= 30720 && var.memory % 1024 == 0 :
      var.cpu == 8192 ? var.memory >= 16384 && var.memory <= 61440 && var.memory % 4096 == 0 :
      var.cpu == 16384 ? var.memory >= 32768 && var.memory <= 122880 && var.memory % 8192 == 0 :
      false
    )
    error_message = "memory is not one Fargate allows with this cpu: 256 -> 512, 1024, 2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384 (steps of 1024); 4096 -> 8192-30720 (1024); 8192 -> 16384-61440 (4096); 16384 -> 32768-122880 (8192)."
  }
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64: must match the image."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
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
  description = "Retention of the task's CloudWatch log group, in days (a CloudWatch Logs value)."
  type        = number
  default     = 90

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "emf_metrics" {
  description = "Run with `--metrics emf`: the run metrics (namespace anonetl) reach CloudWatch through the log driver; the failed-run alarm watches them."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "SNS topic for the alerts (a run that exits other than 0 or 7, the failed-run metric); null: the module creates one (output alarm_topic_arn) to subscribe to."
  type        = string
  default     = null
}

variable "alarm_kms_key_id" {
  description = "KMS key for the SNS topic the module creates (its key policy must let events.amazonaws.com and cloudwatch.amazonaws.com use it); null: no encryption at rest."
  type        = string
  default     = null
}

variable "failure_alarm_period" {
  description = "Seconds over which the failed-run alarm sums Runs{Outcome=failed}."
  type        = number
  default     = 3600

  validation {
    condition     = contains([60, 300, 900, 3600, 21600, 86400], var.failure_alarm_period)
    error_message = "failure_alarm_period must be 60, 300, 900, 3600, 21600 or 86400 seconds."
  }
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
