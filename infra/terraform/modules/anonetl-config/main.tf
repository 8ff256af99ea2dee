# anonetl-config: renders the `aws:` and `network:` sections of the anonetl config from
# the ids Terraform created, so `anonetl preflight` checks exactly what was applied:
# the peerings, the routes on the job's route tables, the database security groups and
# the CIDRs the database host names must resolve into. No resources; pure values.

locals {
  # "true"/"false" become YAML booleans (the config reference writes
  # dns_resolution: true); "requester"/"accepter" stay words.
  peerings = [
    for p in var.peerings : {
      id             = p.id
      dns_resolution = try(tobool(p.dns_resolution), p.dns_resolution)
      required       = p.required
    }
  ]

  aws = merge(
    { region = var.region },
    var.endpoint == null ? {} : { endpoint = var.endpoint },
    length(local.peerings) == 0 ? {} : { peerings = local.peerings },
    length(var.routes) == 0 ? {} : { routes = var.routes },
    length(var.security_groups) == 0 ? {} : { security_groups = var.security_groups },
  )

  network = merge(
    { connect_timeout = var.connect_timeout },
    length(var.endpoints) == 0 ? {} : { endpoints = var.endpoints },
  )

  sections = { aws = local.aws, network = local.network }
}
