# terraform test (plan only, mocked provider): a versioned, encrypted, private bucket and
# the config object; an existing bucket must be named.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { id = "anonetl-config-111122223333", arn = "arn:aws:s3:::anonetl-config-111122223333" }
  }
}

variables {
  name        = "anonetl"
  config_file = "tests/sample.yaml"
}

run "created" {
  command = apply # mocked: the bucket id is known after apply
  assert {
    condition     = aws_s3_bucket.this[0].bucket == "anonetl-config-111122223333"
    error_message = "the bucket is named after the account"
  }
  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    error_message = "the bucket is versioned"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "the bucket is encrypted by default"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.this[0].restrict_public_buckets
    error_message = "public access is blocked"
  }
  assert {
    condition     = output.s3_url == "s3://anonetl-config-111122223333/anonetl/anonetl.yaml"
    error_message = "the URL for anonetl run -c"
  }
}

run "existing_bucket" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "ops-shared-configs"
    key           = "teams/data/anonetl.yaml"
  }
  assert {
    condition     = length(aws_s3_bucket.this) == 0 && aws_s3_object.config.bucket == "ops-shared-configs"
    error_message = "an existing bucket is used as it is"
  }
}

run "existing_bucket_unnamed" {
  command = plan
  variables {
    create_bucket = false
  }
  expect_failures = [var.bucket_name]
}

run "missing_file" {
  command = plan
  variables {
    config_file = "tests/no-such-file.yaml"
  }
  expect_failures = [var.config_file]
}
