# terraform test (plan only, mocked provider): the RDS log groups are managed with a
# retention, and a retention CloudWatch does not offer is refused.
mock_provider "aws" {}

variables {
  name                  = "anonetl-anonymised"
  vpc_id                = "vpc-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  job_security_group_id = "sg-0123456789abcdef0"
  data_team_cidrs       = ["10.30.0.0/16"]
}

run "log_groups" {
  command = plan
  assert {
    condition     = aws_cloudwatch_log_group.rds["postgresql"].name == "/aws/rds/instance/anonetl-anonymised/postgresql" && aws_cloudwatch_log_group.rds["postgresql"].retention_in_days == 30
    error_message = "the postgresql log group is managed with the default retention"
  }
  assert {
    condition     = aws_cloudwatch_log_group.rds["upgrade"].retention_in_days == 30
    error_message = "the upgrade log group is managed too"
  }
  assert {
    condition     = aws_db_instance.this.enabled_cloudwatch_logs_exports == toset(["postgresql", "upgrade"])
    error_message = "the instance exports what the log groups were made for"
  }
}

run "retention_refused" {
  command = plan
  variables {
    log_retention_days = 31
  }
  expect_failures = [var.log_retention_days]
}

run "wal_buffers" {
  command = plan
  variables {
    wal_buffers_mb = 256
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "wal_buffers"]) == "32768"
    error_message = "wal_buffers is set in 8 kB pages (256 MB = 32768)"
  }
}

run "wal_buffers_refused" {
  command = plan
  variables {
    wal_buffers_mb = 8
  }
  expect_failures = [var.wal_buffers_mb]
}
