output "anonetl_aws_network_yaml" {
  description = "The aws: and network: sections of the anonetl config, from the real ids. Append to the rules: terraform output -raw anonetl_aws_network_yaml >> anonetl.yaml"
  value       = module.anonetl_config.yaml
}

output "anonetl_config_yaml" {
  description = "The complete anonetl config when config_base_file is set, else null."
  value       = module.anonetl_config.config_yaml
}

output "peering_production_id" {
  description = "Peering production VPC <-> isolated VPC (active after the first apply)."
  value       = module.peering_production.id
}

output "peering_data_team_id" {
  description = "Peering isolated VPC <-> data team VPC: give this id to the data team for examples/data-team-accepter."
  value       = module.peering_data_team.id
}

output "peering_data_team_status" {
  description = "pending-acceptance until the data team applies the accepter."
  value       = module.peering_data_team.accept_status
}

output "isolated_vpc_cidr" {
  description = "CIDR the data team routes to (requester_cidr of the accepter)."
  value       = module.isolated_vpc.vpc_cidr
}

output "anonymised_db_address" {
  description = "Host of the anonymised database (target host; the data team connects to it too)."
  value       = module.anonymised_db.address
}

output "anonymised_db_resource_id" {
  description = "DbiResourceId of the anonymised database."
  value       = module.anonymised_db.resource_id
}

output "task_role_policy_json" {
  description = "Policy of the task role as rendered (compare with deploy/iam-policy.json)."
  value       = module.etl_task.task_role_policy_json
}

output "run_task_command" {
  description = "Start one run now, outside the schedule."
  value       = module.etl_task.run_task_command
}

output "log_group_name" {
  description = "Where the job logs."
  value       = module.etl_task.log_group_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alerts (a task exiting other than 0/7, the failed-run metric): subscribe the on-call address."
  value       = module.etl_task.alarm_topic_arn
}

output "config_s3_url" {
  description = "Where the task reads its config (null: the config is in the image)."
  value       = var.config_file == null ? null : module.config[0].s3_url
}

output "config_s3_version_id" {
  description = "Version id of the config object this apply uploaded (null: the config is in the image)."
  value       = var.config_file == null ? null : module.config[0].version_id
}
