# terraform test (plan only, mocked provider): the inputs etl-task refuses, and the
# alerting and S3-config resources it plans. Run by tests/integration/deploy_artifacts.sh.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/anonetl-mock" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-2:111122223333:anonetl-alerts" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:eu-west-2:111122223333:cluster/anonetl" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:eu-west-2:111122223333:task-definition/anonetl:1"
      arn_without_revision = "arn:aws:ecs:eu-west-2:111122223333:task-definition/anonetl"
    }
  }
}

variables {
  name       = "anonetl"
  vpc_id     = "vpc-0123456789abcdef0"
  vpc_cidr   = "10.20.0.0/16"
  subnet_ids = ["subnet-0123456789abcdef0"]
  database_destinations = {
    source = { cidr = "10.10.0.0/16", port = 5432 }
  }
  image = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/anonetl@sha256:0000"
}

run "defaults" {
  command = apply # mocked: the rule's pattern holds the cluster ARN, known after apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.run_failed.metric_name == "Runs" && aws_cloudwatch_metric_alarm.run_failed.namespace == "anonetl" && aws_cloudwatch_metric_alarm.run_failed.dimensions.Outcome == "failed"
    error_message = "the alarm must watch the EMF metric Runs{Outcome=failed} of namespace anonetl"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail["$or"][0].containers.exitCode[0]["anything-but"] == [0, 7] && jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail.clusterArn == ["arn:aws:ecs:eu-west-2:111122223333:cluster/anonetl"]
    error_message = "the EventBridge rule must match exit codes other than 0 and 7"
  }
  assert {
    condition     = length(aws_sns_topic.alerts) == 1
    error_message = "without alarm_topic_arn the module creates the topic"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command, "emf") && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command[2] == "/etc/anonetl/anonetl.yaml"
    error_message = "the task runs with --metrics emf and the config of the image by default"
  }
}

run "config_from_s3" {
  command = plan
  variables {
    config_s3 = { bucket = "anonetl-config-111122223333", key = "anonetl/anonetl.yaml" }
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command[2] == "s3://anonetl-config-111122223333/anonetl/anonetl.yaml"
    error_message = "with config_s3 the task runs -c s3://bucket/key"
  }
}

run "fargate_pair_refused" {
  command = plan
  variables {
    cpu    = 256
    memory = 4096
  }
  expect_failures = [var.memory]
}

run "fargate_cpu_refused" {
  command = plan
  variables {
    cpu = 300
  }
  expect_failures = [var.cpu]
}

run "fargate_pairs_accepted" {
  command = plan
  variables {
    cpu    = 8192
    memory = 20480
  }
}

run "fargate_step_refused" {
  command = plan
  variables {
    cpu    = 8192
    memory = 18432
  }
  expect_failures = [var.memory]
}

run "retention_refused" {
  command = plan
  variables {
    log_retention_days = 45
  }
  expect_failures = [var.log_retention_days]
}

run "architecture_refused" {
  command = plan
  variables {
    cpu_architecture = "arm64"
  }
  expect_failures = [var.cpu_architecture]
}

run "config_s3_bucket_refused" {
  command = plan
  variables {
    config_s3 = { bucket = "Not_A_Bucket", key = "x.yaml" }
  }
  expect_failures = [var.config_s3]
}
