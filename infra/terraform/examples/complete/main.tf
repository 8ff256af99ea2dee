# The whole seed scenario in one root module:
#
#   production VPC (exists) --pcx (same account, auto-accepted)--> isolated VPC (here)
#   isolated VPC --pcx (requested here, accepted by the data team)--> data team VPC
#
# The isolated VPC holds the anonymised RDS instance and runs the anonetl task; the
# data team reaches the anonymised database and nothing else (peering is not
# transitive). Output anonetl_aws_network_yaml is the aws:/network: part of the anonetl
# config built from the ids created here.
#
# Cross-account peering takes two applies: see README.md.

module "isolated_vpc" {
  source = "../../modules/isolated-vpc"

  name            = var.name
  cidr_block      = var.isolated_cidr
  private_subnets = var.isolated_subnets
}

module "peering_production" {
  source = "../../modules/peering"

  name                      = "${var.name}-production"
  requester_vpc_id          = module.isolated_vpc.vpc_id
  requester_cidr            = module.isolated_vpc.vpc_cidr
  requester_route_table_ids = module.isolated_vpc.private_route_table_ids
  accepter_vpc_id           = var.production_vpc_id
  accepter_cidr             = var.production_cidr
  accepter_route_table_ids  = var.production_route_table_ids
  dns_resolution            = true
}

module "peering_data_team" {
  source = "../../modules/peering"

  name                      = "${var.name}-data-team"
  requester_vpc_id          = module.isolated_vpc.vpc_id
  requester_cidr            = module.isolated_vpc.vpc_cidr
  requester_route_table_ids = module.isolated_vpc.private_route_table_ids
  accepter_vpc_id           = var.data_team_vpc_id
  accepter_cidr             = var.data_team_cidr
  peer_owner_id             = var.data_team_account_id
  peer_region               = var.data_team_region
  dns_resolution            = true
  peer_accepted             = var.data_team_peering_accepted
}

module "anonymised_db" {
  source = "../../modules/anonymised-db"

  name                  = "${var.name}-anonymised"
  vpc_id                = module.isolated_vpc.vpc_id
  subnet_ids            = values(module.isolated_vpc.private_subnet_ids)
  job_security_group_id = module.etl_task.security_group_id
  data_team_cidrs       = [var.data_team_cidr]
}

# The config in S3 (optional): a rule change is an upload of a new object version.
module "config" {
  source = "../../modules/config-bucket"
  count  = var.config_file == null ? 0 : 1

  name        = var.name
  config_file = var.config_file
}

module "etl_task" {
  source = "../../modules/etl-task"

  config_s3 = var.config_file == null ? null : module.config[0].config_s3

  name       = var.name
  vpc_id     = module.isolated_vpc.vpc_id
  vpc_cidr   = module.isolated_vpc.vpc_cidr
  subnet_ids = values(module.isolated_vpc.private_subnet_ids)

  database_destinations = {
    source = { cidr = var.production_cidr, port = var.source_db_port }
    target = { cidr = module.isolated_vpc.vpc_cidr, port = 5432 }
  }

  image               = var.image
  run_args            = var.run_args
  schedule_expression = var.schedule_expression
  secret_arns         = var.secret_arns
  secret_kms_key_arns = var.secret_kms_key_arns
  container_secrets   = var.container_secrets

  rds_iam_users = concat(
    [{ resource_id = module.anonymised_db.resource_id, user = var.target_db_user }],
    var.source_db_resource_id == null ? [] : [{ resource_id = var.source_db_resource_id, user = var.source_db_user }],
  )

  # Repair covers the same-account peering and the job's own routes only; the
  # cross-account peering is accepted by the data team, never by this job.
  allow_repair           = var.allow_repair
  repair_peering_ids     = [module.peering_production.id]
  repair_vpc_ids         = [var.production_vpc_id]
  repair_route_table_ids = values(module.isolated_vpc.private_route_table_ids)
}

# The production database admits the job (across the same-region peering a security
# group of the peer VPC can be referenced).
resource "aws_vpc_security_group_ingress_rule" "source_db_from_job" {
  count = var.source_db_security_group_id == null ? 0 : 1

  security_group_id            = var.source_db_security_group_id
  description                  = "anonetl job (isolated VPC, via peering)"
  ip_protocol                  = "tcp"
  from_port                    = var.source_db_port
  to_port                      = var.source_db_port
  referenced_security_group_id = module.etl_task.security_group_id

  depends_on = [module.peering_production]
}

module "anonetl_config" {
  source = "../../modules/anonetl-config"

  region = var.region

  peerings = [
    { id = module.peering_production.id, dns_resolution = module.peering_production.dns_resolution },
    # the job runs without the data team peering: its problems are warnings
    { id = module.peering_data_team.id, dns_resolution = module.peering_data_team.dns_resolution, required = false },
  ]

  routes = concat(
    [for k, r in module.peering_production.requester_routes : merge(r, { peering = module.peering_production.id })],
    [for k, r in module.peering_data_team.requester_routes : merge(r, { peering = module.peering_data_team.id })],
  )

  # The way back: the production database subnets' route tables to the isolated VPC. (The
  # data team's side is in another account: not visible to the job's role.)
  return_routes = [
    for k, r in module.peering_production.accepter_routes : merge(r, { peering = module.peering_production.id })
  ]

  # aws.job stays unset: the ECS task reads its own address, subnet and security groups
  # from the task metadata endpoint at run time.

  security_groups = concat(
    [{ group = module.anonymised_db.security_group_id, port = module.anonymised_db.port, from = module.etl_task.security_group_id }],
    var.source_db_security_group_id == null ? [] : [
      { group = var.source_db_security_group_id, port = var.source_db_port, from = module.etl_task.security_group_id }
    ],
  )

  endpoints = [
    { name = "source", expect_cidr = var.production_cidr },
    { name = "target", expect_cidr = module.isolated_vpc.vpc_cidr },
  ]

  base_yaml = var.config_base_file == null ? null : file(var.config_base_file)
}
