# etl-task: runs `anonetl run` on a schedule as an ECS Fargate task in the isolated VPC.
#
# * ECS cluster and Fargate task definition: read-only root file system, non-root user,
#   logs (JSON lines on stderr, EMF metric lines on stdout) to CloudWatch via awslogs.
# * EventBridge Scheduler schedule with a role that may run exactly this task family
#   on exactly this cluster and pass exactly its two roles.
# * Task execution role (ECS agent: pull the image, write logs, fill the secrets that
#   are environment variables) and a least-privilege task role (anonetl itself):
#   the read-only EC2 calls the preflight makes, the three repair actions only when
#   allow_repair, GetSecretValue on the named secrets, rds-db:connect for IAM
#   authentication as the named database users.
# * The task's security group: HTTPS to the VPC endpoints (and S3), PostgreSQL to the
#   named databases; no inbound rule at all.
#
# * The config from S3 when config_s3 is set: `run -c s3://bucket/key`, and the task
#   role may read that one key (s3:GetObject, s3:GetObjectVersion).
# * Alerts to an SNS topic: an EventBridge rule on the task stopping with an exit code
#   other than 0 and 7 (or failing to start), and a CloudWatch alarm on the EMF metric
#   Runs{Outcome=failed} (namespace anonetl, from `--metrics emf`).
#
# Exit codes: a run that finds another run holding the lock exits 7 ("skipped"); ECS
# records it as the container's exit code; 0 and 7 raise no alert (docs/operations.md).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  container = "anonetl"

  ec2_arn = "arn:${local.partition}:ec2:${local.region}:${local.account}"

  log_group_name = "/ecs/${var.name}"

  config_ref = var.config_s3 == null ? var.config_path : "s3://${var.config_s3.bucket}/${var.config_s3.key}"
  command    = concat(["run", "-c", local.config_ref], var.emf_metrics ? ["--metrics", "emf"] : [], var.run_args)
}

# ---------------------------------------------------------------- network

resource "aws_security_group" "task" {
  name_prefix = "${var.name}-task-"
  description = "anonetl task: no inbound; HTTPS to VPC endpoints, PostgreSQL to the source and target"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-task" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "endpoints" {
  security_group_id = aws_security_group.task.id
  description       = "HTTPS to the VPC interface endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}

# Looked up by name (known at plan time, unlike the endpoint's attribute).
data "aws_prefix_list" "s3" {
  count = var.s3_egress ? 1 : 0

  name = "com.amazonaws.${local.region}.s3"
}

resource "aws_vpc_security_group_egress_rule" "s3" {
  count = var.s3_egress ? 1 : 0

  security_group_id = aws_security_group.task.id
  description       = "HTTPS to S3 through the gateway endpoint (ECR image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3[0].id
}

resource "aws_vpc_security_group_egress_rule" "databases" {
  for_each = var.database_destinations

  security_group_id = aws_security_group.task.id
  description       = "PostgreSQL: ${each.key}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

# ---------------------------------------------------------------- logs and cluster

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  tags = var.tags
}

# ---------------------------------------------------------------- roles

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account}:*"]
    }
  }
}

# Execution role: used by the ECS agent, not by anonetl.
resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  count = length(var.container_secrets) > 0 ? 1 : 0

  statement {
    sid       = "ContainerSecretsAsEnvironment"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = distinct([for s in var.container_secrets : s.secret_arn])
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptThoseSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  count = length(var.container_secrets) > 0 ? 1 : 0

  name   = "container-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets[0].json
}

# Task role: what anonetl itself may do. deploy/iam-policy.json is the same policy for
# use outside Terraform; tests/integration/deploy_artifacts.sh checks that both name
# the same actions.
data "aws_iam_policy_document" "task" {
  statement {
    sid = "PreflightReadNetwork"
    actions = [
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeTransitGatewayAttachments",
      "ec2:DescribeTransitGatewayVpcAttachments", # the zones a VPC attachment serves
      "ec2:DescribeSubnets",
    ]
    resources = ["*"] # Describe* calls support no resource-level permissions
  }

  statement {
    sid       = "PreflightReadPrefixLists" # entries of the prefix lists routes and rules name
    actions   = ["ec2:GetManagedPrefixListEntries"]
    resources = ["arn:aws:ec2:*:*:prefix-list/*"]
  }

  statement {
    sid       = "PreflightReadTransitGatewayRoutes" # the route tables of attachments on the path
    actions   = ["ec2:SearchTransitGatewayRoutes"]
    resources = ["arn:aws:ec2:*:*:transit-gateway-route-table/*"]
  }

  statement {
    # the instances an Aurora cluster / reader / custom endpoint or a Multi-AZ instance can
    # point to after a failover: the path analysis judges each one's subnet and groups
    sid       = "PreflightReadRdsMembers"
    actions   = ["rds:DescribeDBClusters", "rds:DescribeDBClusterEndpoints", "rds:DescribeDBInstances"]
    resources = ["arn:aws:rds:*:*:cluster:*", "arn:aws:rds:*:*:cluster-endpoint:*", "arn:aws:rds:*:*:db:*"]
  }

  dynamic "statement" {
    for_each = var.allow_repair && length(var.repair_peering_ids) > 0 ? [1] : []
    content {
      sid = "PreflightRepairPeering"
      actions = [
        "ec2:AcceptVpcPeeringConnection",
        "ec2:ModifyVpcPeeringConnectionOptions",
      ]
      resources = concat(
        [for id in var.repair_peering_ids : "${local.ec2_arn}:vpc-peering-connection/${id}"],
        [for id in var.repair_vpc_ids : "${local.ec2_arn}:vpc/${id}"],
      )
    }
  }

  dynamic "statement" {
    for_each = var.allow_repair && length(var.repair_route_table_ids) > 0 ? [1] : []
    content {
      sid       = "PreflightRepairRoutes"
      actions   = ["ec2:CreateRoute"]
      resources = [for id in var.repair_route_table_ids : "${local.ec2_arn}:route-table/${id}"]
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadNamedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 && length(var.secret_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptNamedSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.config_s3 == null ? [] : [1]
    content {
      sid       = "ReadTheConfigObject"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["arn:${local.partition}:s3:::${var.config_s3.bucket}/${var.config_s3.key}"]
    }
  }

  dynamic "statement" {
    for_each = try(var.config_s3.kms_key_arn, null) == null ? [] : [1]
    content {
      sid       = "DecryptTheConfigObject"
      actions   = ["kms:Decrypt"]
      resources = [var.config_s3.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.rds_iam_users) > 0 ? [1] : []
    content {
      sid     = "RdsIamAuthentication"
      actions = ["rds-db:connect"]
      resources = [
        for u in var.rds_iam_users :
        "arn:${local.partition}:rds-db:${local.region}:${local.account}:dbuser:${u.resource_id}/${u.user}"
      ]
    }
  }
}

resource "aws_iam_role" "task" {
  name_prefix        = "${var.name}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "anonetl"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---------------------------------------------------------------- task definition

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name                   = local.container
      image                  = var.image
      essential              = true
      command                = local.command
      user                   = "10001:10001" # the anonetl user of deploy/Dockerfile
      readonlyRootFilesystem = true
      privileged             = false
      linuxParameters = {
        initProcessEnabled = true
        capabilities       = { drop = ["ALL"] }
      }
      environment = [
        for k, v in merge({ AWS_REGION = local.region }, var.environment) : { name = k, value = v }
      ]
      secrets = [
        for s in var.container_secrets : {
          name      = s.name
          valueFrom = s.json_key == null ? s.secret_arn : "${s.secret_arn}:${s.json_key}::"
        }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "anonetl"
        }
      }
    }
  ])

  tags = var.tags
}

# ---------------------------------------------------------------- schedule

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name_prefix        = "${var.name}-sched-"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunThisTaskOnThisCluster"
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.this.arn_without_revision}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }

  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-anonetl"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  name                         = var.name
  description                  = "anonetl run (exit 7 = skipped, another run holds the lock)"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.this.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.this.arn
      launch_type         = "FARGATE"
      platform_version    = "LATEST"
      task_count          = 1
      propagate_tags      = "TASK_DEFINITION"

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = [aws_security_group.task.id]
        assign_public_ip = false
      }
    }

    # A run that did not start is not retried into the next one: the next scheduled
    # run catches up (incremental watermarks), and the lock makes overlaps harmless.
    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 3600
    }
  }
}

# ---------------------------------------------------------------- alerts

resource "aws_sns_topic" "alerts" {
  count = var.alarm_topic_arn == null ? 1 : 0

  name              = "${var.name}-alerts"
  kms_master_key_id = var.alarm_kms_key_id

  tags = var.tags
}

locals {
  alarm_topic_arn = var.alarm_topic_arn == null ? aws_sns_topic.alerts[0].arn : var.alarm_topic_arn
}

data "aws_iam_policy_document" "alerts" {
  count = var.alarm_topic_arn == null ? 1 : 0

  statement {
    sid       = "EventBridgeAndCloudWatchPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  count = var.alarm_topic_arn == null ? 1 : 0

  arn    = aws_sns_topic.alerts[0].arn
  policy = data.aws_iam_policy_document.alerts[0].json
}

# A task of this cluster stopped with an exit code other than 0 (published) and 7
# (skipped: another run holds the lock), or did not start at all (image pull, secrets,
# no capacity: no exit code then).
resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "${var.name}-task-failed"
  description = "anonetl task stopped with an exit code other than 0 and 7, or failed to start"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [aws_ecs_cluster.this.arn]
      lastStatus = ["STOPPED"]
      "$or" = [
        { containers = { name = [local.container], exitCode = [{ "anything-but" = [0, 7] }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule = aws_cloudwatch_event_rule.task_failed.name
  arn  = local.alarm_topic_arn

  input_transformer {
    input_paths = {
      task   = "$.detail.taskArn"
      code   = "$.detail.containers[0].exitCode"
      reason = "$.detail.stoppedReason"
    }
    input_template = "\"anonetl task <task> stopped: exit code <code> (0 = published, 7 = skipped; 2 config, 3 preflight, 4 source, 5 target, 6 policy). <reason>\""
  }
}

# The EMF line each run writes: Runs{Outcome=failed} counts every run that failed.
resource "aws_cloudwatch_metric_alarm" "run_failed" {
  alarm_name          = "${var.name}-run-failed"
  alarm_description   = "anonetl: a run failed (EMF metric Runs, Outcome=failed; see the task's log group ${local.log_group_name})"
  namespace           = "anonetl"
  metric_name         = "Runs"
  dimensions          = { Outcome = "failed" }
  statistic           = "Sum"
  period              = var.failure_alarm_period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]

  tags = var.tags
}
