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

variable "extra_parameters" {
  description = "More DB parameters ({ name = value }) besides rds.force_ssl = 1."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
