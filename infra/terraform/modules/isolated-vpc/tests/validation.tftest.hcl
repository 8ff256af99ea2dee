# terraform test (plan only, mocked provider): CIDRs well formed, inside the VPC, not
# overlapping; retention values. Run by tests/integration/deploy_artifacts.sh.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-2" }
  }
}

variables {
  name       = "anonetl"
  cidr_block = "10.20.0.0/16"
  private_subnets = {
    a = { cidr = "10.20.1.0/24", az = "eu-west-2a" }
    b = { cidr = "10.20.2.0/24", az = "eu-west-2b" }
  }
}

run "good" {
  command = plan
}

run "vpc_cidr_malformed" {
  command = plan
  variables {
    cidr_block = "10.20.0.0/33"
  }
  expect_failures = [var.cidr_block]
}

run "vpc_cidr_host_bits" {
  command = plan
  variables {
    cidr_block = "10.20.0.1/16"
  }
  expect_failures = [var.cidr_block]
}

run "vpc_cidr_too_large" {
  command = plan
  variables {
    cidr_block = "10.0.0.0/8"
    private_subnets = {
      a = { cidr = "10.0.1.0/24", az = "eu-west-2a" }
      b = { cidr = "10.0.2.0/24", az = "eu-west-2b" }
    }
  }
  expect_failures = [var.cidr_block]
}

run "subnet_outside_vpc" {
  command = plan
  variables {
    private_subnets = {
      a = { cidr = "10.20.1.0/24", az = "eu-west-2a" }
      b = { cidr = "10.21.2.0/24", az = "eu-west-2b" }
    }
  }
  expect_failures = [var.private_subnets]
}

run "subnets_overlap" {
  command = plan
  variables {
    private_subnets = {
      a = { cidr = "10.20.0.0/23", az = "eu-west-2a" }
      b = { cidr = "10.20.1.0/24", az = "eu-west-2b" }
    }
  }
  expect_failures = [var.private_subnets]
}

run "subnet_malformed" {
  command = plan
  variables {
    private_subnets = {
      a = { cidr = "10.20.1.0", az = "eu-west-2a" }
      b = { cidr = "10.20.2.0/24", az = "eu-west-2b" }
    }
  }
  expect_failures = [var.private_subnets]
}

run "flow_log_retention_refused" {
  command = plan
  variables {
    flow_logs_retention_days = 10
  }
  expect_failures = [var.flow_logs_retention_days]
}
