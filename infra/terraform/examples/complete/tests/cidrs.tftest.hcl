# terraform test (plan only, mocked provider): the three VPC CIDRs must not overlap.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-2" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  production_vpc_id          = "vpc-0aaaaaaaaaaaaaaaa"
  production_cidr            = "10.10.0.0/16"
  production_route_table_ids = { db = "rtb-0aaaaaaaaaaaaaaaa" }
  data_team_account_id       = "222222222222"
  data_team_region           = "eu-west-1"
  data_team_vpc_id           = "vpc-0bbbbbbbbbbbbbbbb"
  data_team_cidr             = "10.30.0.0/16"
  image                      = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/anonetl@sha256:0000"
}

run "isolated_overlaps_production" {
  command = plan
  variables {
    isolated_cidr = "10.10.128.0/17"
  }
  expect_failures = [var.isolated_cidr]
}

run "isolated_overlaps_data_team" {
  command = plan
  variables {
    isolated_cidr = "10.0.0.0/8"
  }
  expect_failures = [var.isolated_cidr]
}

run "data_team_overlaps_production" {
  command = plan
  variables {
    data_team_cidr = "10.10.0.0/24"
  }
  expect_failures = [var.data_team_cidr]
}
