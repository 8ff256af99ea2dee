# config-bucket: the anonetl config in S3, so that ops ship rule changes without a new
# image (`anonetl run -c s3://bucket/key`, see etl-task's config_s3).
#
# * The bucket (or an existing one): versioned (every run records the version id it
#   read), encrypted by default (SSE-S3, or SSE-KMS with kms_key_arn), public access
#   blocked, ACLs off (bucket owner enforced), TLS required by the bucket policy, old
#   versions expired after noncurrent_version_days.
# * The config object, uploaded from a file in the repository: a change to the file is
#   a new object version at the next apply.
# The task role's read access (s3:GetObject and s3:GetObjectVersion on this one key) is
# granted by the etl-task module, which owns that role.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  bucket = var.create_bucket ? aws_s3_bucket.this[0].id : var.bucket_name
}

resource "aws_s3_bucket" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = coalesce(var.bucket_name, "${var.name}-config-${data.aws_caller_identity.current.account_id}")

  tags = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "tls_only" {
  count = var.create_bucket && var.require_tls ? 1 : 0

  statement {
    sid     = "DenyPlainHttp"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[0].arn,
      "${aws_s3_bucket.this[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create_bucket && var.require_tls ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.tls_only[0].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create_bucket && var.noncurrent_version_days > 0 ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    id     = "expire-old-config-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_object" "config" {
  bucket       = local.bucket
  key          = var.key
  source       = var.config_file
  source_hash  = filemd5(var.config_file)
  content_type = "application/yaml"

  server_side_encryption = var.kms_key_arn == null ? "AES256" : "aws:kms"
  kms_key_id             = var.kms_key_arn

  tags = var.tags

  depends_on = [aws_s3_bucket_versioning.this, aws_s3_bucket_server_side_encryption_configuration.this]
}
