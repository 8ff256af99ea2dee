output "address" {
  description = "Host name of the instance (target host in the anonetl config). Resolves to a private address; across the peering only with DNS resolution enabled on the requester side."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Database port."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name."
  value       = aws_db_instance.this.db_name
}

output "resource_id" {
  description = "DbiResourceId (db-...), the resource part of rds-db:connect ARNs."
  value       = aws_db_instance.this.resource_id
}

output "arn" {
  description = "ARN of the instance."
  value       = aws_db_instance.this.arn
}

output "security_group_id" {
  description = "Security group of the database (for aws.security_groups in the anonetl config)."
  value       = aws_security_group.db.id
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master password in (for the one-off role setup, not for anonetl)."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "log_group_names" {
  description = "The CloudWatch log groups of the instance's exported logs (managed, with a retention)."
  value       = [for g in aws_cloudwatch_log_group.rds : g.name]
}
