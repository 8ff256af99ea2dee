# anonetl-config: renders the `aws:` and `network:` sections of the anonetl config from
# the ids Terraform created, so `anonetl preflight` checks exactly what was applied:
# the peerings, the routes on the job's route tables and the return routes on the
# database side, the database security groups, the job's identity (aws.job, when it is
# fixed: a VM's network interface or address; an ECS task finds its own from the task
# metadata at run time), the transit gateways a route may use, and per database the CIDR
# its host name must resolve into (and its pinned address). No resources; pure values.

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

  # the job's routes first, then the routes back to the job on the database side
  routes = concat(var.routes, var.return_routes)

  job = var.job == null ? null : merge(
    var.job.ip == null ? {} : { ip = var.job.ip },
    var.job.network_interface == null ? {} : { network_interface = var.job.network_interface },
  )

  endpoints = [
    for e in var.endpoints : merge({ name = e.name, expect_cidr = e.expect_cidr }, e.ip == null ? {} : { ip = e.ip })
  ]

  aws = merge(
    { region = var.region },
    var.endpoint == null ? {} : { endpoint = var.endpoint },
    length(local.peerings) == 0 ? {} : { peerings = local.peerings },
    length(local.routes) == 0 ? {} : { routes = local.routes },
    length(var.security_groups) == 0 ? {} : { security_groups = var.security_groups },
    length(var.transit_gateways) == 0 ? {} : { transit_gateways = var.transit_gateways },
    local.job == null ? {} : { job = local.job },
  )

  network = merge(
    { connect_timeout = var.connect_timeout },
    length(local.endpoints) == 0 ? {} : { endpoints = local.endpoints },
  )

  sections = { aws = local.aws, network = local.network }
}
