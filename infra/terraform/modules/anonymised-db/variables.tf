variable "name" {
  description = "DB instance identifier and name prefix of its subnet group, parameter group and security group."
  type        = string
}

variable "vpc_id" {
  description = "The isolated VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the isolated VPC (two or more AZs) for the DB subnet group."
  type        = list(string)
}

variable "job_security_group_id" {
  description = "Security group of the anonetl task: the only group allowed to reach the database port."
  type        = string
}

variable "data_team_cidrs" {
  description = "CIDRs of the data team VPC (across the peering) allowed to reach the database port. Nothing else is."
  type        = list(string)
  default     = []
}

variable "engine_version" {
  description = "PostgreSQL major (or major.minor) version. The parameter group family follows the major."
  type        = string
  default     = "15"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 50
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB (0 disables autoscaling)."
  type        = number
  default     = 200
}

variable "db_name" {
  description = "Database created on the instance (target.dsn dbname)."
  type        = string
  default     = "anonymised"
}

variable "master_username" {
  description = "Master user. Its password is generated and kept by RDS in Secrets Manager (manage_master_user_password), never in the Terraform state. anonetl itself connects as a less privileged role with IAM authentication (see sql/ for the roles)."
  type        = string
  default     = "rdsadmin_anonetl"
}

variable "kms_key_id" {
  description = "KMS key ARN for storage encryption; null = the AWS managed aws/rds key. Storage is encrypted either way."
  type        = string
  default     = null
}

variable "multi_az" {
  description = "Standby in a second AZ."
  type        = bool
  default     = false
}

variable "backup_retention_period" {
  description = "Days of automated backups (the data can be rebuilt by a full refresh, so a short retention is enough)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Skip the final snapshot on destroy."
  type        = bool
  default     = false
}

variable "wal_compression" {
  description = "wal_compression of the target (off, pglz, lz4, zstd). Incremental merges after a checkpoint write whole pages to the WAL; measured on 20,000 scattered rows (README): lz4 writes 25% less WAL for 1.5-2x the merge's CPU, zstd 45% less for 5x. Off: runs are faster; lz4 when WAL volume (Multi-AZ, replicas, backups) is the constraint."
  type        = string
  default     = "off"

  validation {
    condition     = contains(["off", "pglz", "lz4", "zstd"], var.wal_compression)
    error_message = "wal_compression must be off, pglz, lz4 or zstd."
  }
}

variable "wal_buffers_mb" {
  description = "wal_buffers of the target in MB (RDS's default is 16). An incremental run after a checkpoint writes a whole page to the WAL for each page its merge changes (8 kB a changed row when changes are scattered); buffers that hold them let the WAL writer write them out instead of the merging backend: 128 MB made the bench's 20,000-row merge 15% faster (README). Raise it to about 8 kB x the rows a run changes; it takes that much shared memory."
  type        = number
  default     = 128

  validation {
    condition     = var.wal_buffers_mb >= 16 && var.wal_buffers_mb <= 2048 && floor(var.wal_buffers_mb) == var.wal_buffers_mb
    error_message = "wal_buffers_mb must be a whole number of MB from 16 to 2048."
  }
}

variable "extra_parameters" {
  description = "More DB parameters ({ name = value }) besides rds.force_ssl = 1."
  type        = map(string)
  default     = {}
}

variable "log_exports" {
  description = "PostgreSQL logs exported to CloudWatch Logs (postgresql, upgrade); their log groups are managed here with log_retention_days."
  type        = list(string)
  default     = ["postgresql", "upgrade"]

  validation {
    condition     = alltrue([for l in var.log_exports : contains(["postgresql", "upgrade", "iam-db-auth-error"], l)])
    error_message = "log_exports may hold postgresql, upgrade and iam-db-auth-error."
  }
}

variable "log_retention_days" {
  description = "Retention of the RDS log groups, in days (a CloudWatch Logs value; 0 = never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key for the RDS log groups; null = CloudWatch Logs default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
