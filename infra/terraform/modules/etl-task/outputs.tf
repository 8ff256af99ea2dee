output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "security_group_id" {
  description = "Security group of the task: the database security groups admit it."
  value       = aws_security_group.task.id
}

output "task_role_arn" {
  description = "Role anonetl runs as (preflight, secrets, rds-db:connect)."
  value       = aws_iam_role.task.arn
}

output "task_role_policy_json" {
  description = "The task role policy as rendered (compare with deploy/iam-policy.json)."
  value       = data.aws_iam_policy_document.task.json
}

output "execution_role_arn" {
  description = "Role of the ECS agent (image pull, logs, container secrets)."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the task."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "run_task_command" {
  description = "An aws CLI command that starts one run now, outside the schedule (for tests and catch-up)."
  value = join(" ", [
    "aws ecs run-task --region ${local.region}",
    "--cluster ${aws_ecs_cluster.this.name}",
    "--task-definition ${aws_ecs_task_definition.this.arn}",
    "--launch-type FARGATE",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.subnet_ids)}],securityGroups=[${aws_security_group.task.id}],assignPublicIp=DISABLED}'",
  ])
}

output "alarm_topic_arn" {
  description = "The SNS topic the alerts go to (subscribe the on-call address to it)."
  value       = local.alarm_topic_arn
}

output "task_failed_rule_name" {
  description = "The EventBridge rule on the task stopping with an exit code other than 0 and 7."
  value       = aws_cloudwatch_event_rule.task_failed.name
}

output "run_failed_alarm_name" {
  description = "The CloudWatch alarm on the EMF metric Runs{Outcome=failed}."
  value       = aws_cloudwatch_metric_alarm.run_failed.alarm_name
}
