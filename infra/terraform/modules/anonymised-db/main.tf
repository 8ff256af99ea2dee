# anonymised-db: the RDS PostgreSQL instance the data team reads.
#
# Encrypted storage, IAM database authentication on (anonetl connects with a 15-minute
# token instead of a stored password), TLS required by the server (rds.force_ssl = 1,
# so even a client that asks for sslmode=disable is refused), no public address, and a
# security group that admits the database port from two places only: the anonetl
# task's security group and the data team CIDR(s) across the peering. The log groups RDS
# exports to are created here first, with a retention (RDS would make them without one).

locals {
  major = split(".", var.engine_version)[0]
}

resource "aws_db_subnet_group" "this" {
  name_prefix = "${var.name}-"
  description = "Private subnets of the isolated VPC"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-pg${local.major}-"
  family      = "postgres${local.major}"
  description = "anonetl target: TLS required"

  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  # Incremental merges and WAL: see the README's "WAL compression" (measured trade-off).
  parameter {
    name         = "wal_compression"
    value        = var.wal_compression
    apply_method = "immediate"
  }

  # WAL buffers large enough for a merge's page images: the WAL writer, not the backend
  # that merges (the run's serial path), then writes them out. In 8 kB pages, PostgreSQL's
  # unit for wal_buffers. Read at server start only.
  parameter {
    name         = "wal_buffers"
    value        = tostring(var.wal_buffers_mb * 128)
    apply_method = "pending-reboot"
  }

  dynamic "parameter" {
    for_each = var.extra_parameters
    content {
      name         = parameter.key
      value        = parameter.value
      apply_method = "pending-reboot"
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "db" {
  name_prefix = "${var.name}-db-"
  description = "Anonymised PostgreSQL: from the anonetl task and the data team only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-db" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_job" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the anonetl task"
  ip_protocol                  = "tcp"
  from_port                    = aws_db_instance.this.port
  to_port                      = aws_db_instance.this.port
  referenced_security_group_id = var.job_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "from_data_team" {
  for_each = toset(var.data_team_cidrs)

  security_group_id = aws_security_group.db.id
  description       = "PostgreSQL from the data team VPC (peering)"
  ip_protocol       = "tcp"
  from_port         = aws_db_instance.this.port
  to_port           = aws_db_instance.this.port
  cidr_ipv4         = each.value
}

# The log groups RDS exports to, managed here so that they have a retention and are
# deleted with the instance.
resource "aws_cloudwatch_log_group" "rds" {
  for_each = toset(var.log_exports)

  name              = "/aws/rds/instance/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  port           = 5432

  db_name                     = var.db_name
  username                    = var.master_username
  manage_master_user_password = true

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage > 0 ? var.max_allocated_storage : null
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_id

  iam_database_authentication_enabled = true
  parameter_group_name                = aws_db_parameter_group.this.name
  db_subnet_group_name                = aws_db_subnet_group.this.name
  vpc_security_group_ids              = [aws_security_group.db.id]
  publicly_accessible                 = false
  multi_az                            = var.multi_az

  backup_retention_period   = var.backup_retention_period
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = var.skip_final_snapshot ? null : "${var.name}-final"

  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = var.log_exports

  # RDS would create the log groups itself, without a retention (kept for ever): they
  # are made first, here, with one.
  depends_on = [aws_cloudwatch_log_group.rds]

  tags = var.tags
}
