variable "name" {
  description = "Name prefix: the bucket is \"<name>-config-<account id>\" when this module creates it."
  type        = string
}

variable "create_bucket" {
  description = "true: create a versioned, encrypted, private bucket; false: use bucket_name, an existing bucket (it should be versioned: the run record keeps the version id)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "The existing bucket to use when create_bucket is false (or the name to give the new one; null = \"<name>-config-<account id>\")."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.', '-'."
  }

  validation {
    condition     = var.create_bucket || var.bucket_name != null
    error_message = "With create_bucket = false, bucket_name must name the existing bucket."
  }
}

variable "config_file" {
  description = "Path of the anonetl config to upload, e.g. \"$${path.root}/anonetl.yaml\" (a file kept in the repository; a change uploads a new object version)."
  type        = string

  validation {
    condition     = fileexists(var.config_file)
    error_message = "config_file must name an existing file."
  }
}

variable "key" {
  description = "Object key of the config."
  type        = string
  default     = "anonetl/anonetl.yaml"

  validation {
    condition     = length(var.key) > 0 && length(var.key) <= 1024 && !startswith(var.key, "/")
    error_message = "key must be 1-1024 characters and not start with '/'."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the bucket's default encryption (SSE-KMS); null: SSE-S3 (AES256). With a key, pass it on to etl-task's config_s3.kms_key_arn (kms:Decrypt for the task role)."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days an overwritten config version is kept (the run record names the version a run used); 0 keeps them for ever."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_days >= 0
    error_message = "noncurrent_version_days must be 0 or more."
  }
}

variable "require_tls" {
  description = "Bucket policy denying every request without TLS (aws:SecureTransport = false). Leave it true; false only against an emulator that serves plain HTTP (tests)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
