terraform {
  required_version = ">= 1.9.0" # validations that refer to other variables

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.31.0, < 7.0.0"
    }
  }

  # Configure a remote backend (S3 with locking) for real use, e.g.
  # backend "s3" { bucket = "...", key = "anonetl/terraform.tfstate", region = "...", use_lockfile = true }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
