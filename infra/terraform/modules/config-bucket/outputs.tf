output "bucket" {
  description = "The bucket holding the config."
  value       = local.bucket
}

output "key" {
  description = "The config's object key."
  value       = aws_s3_object.config.key
}

output "s3_url" {
  description = "The config's URL for `anonetl run -c` (and ANONETL_CONFIG)."
  value       = "s3://${local.bucket}/${aws_s3_object.config.key}"
}

output "version_id" {
  description = "The version id of the config uploaded by the last apply (the run record names the version each run read)."
  value       = aws_s3_object.config.version_id
}

output "object_arn" {
  description = "ARN of the config object (the one resource the task role may read)."
  value       = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket}/${aws_s3_object.config.key}"
}

output "config_s3" {
  description = "The value for etl-task's config_s3."
  value       = { bucket = local.bucket, key = aws_s3_object.config.key, kms_key_arn = var.kms_key_arn }
}
