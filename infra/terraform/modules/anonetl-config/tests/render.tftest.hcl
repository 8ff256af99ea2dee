# terraform test (plan only): the rendered aws:/network: sections hold the return routes,
# the job's identity when given, the endpoints' pinned addresses; bad inputs are refused.
variables {
  region        = "eu-west-2"
  peerings      = [{ id = "pcx-0123456789abcdef0", dns_resolution = "true" }]
  routes        = [{ route_table = "rtb-0aaaaaaaaaaaaaaaa", destination = "10.10.0.0/16", peering = "pcx-0123456789abcdef0" }]
  return_routes = [{ route_table = "rtb-0bbbbbbbbbbbbbbbb", destination = "10.20.0.0/16", peering = "pcx-0123456789abcdef0" }]
  endpoints = [
    { name = "source", expect_cidr = "10.10.0.0/16", ip = "10.10.5.20" },
    { name = "target", expect_cidr = "10.20.0.0/16" },
  ]
}

run "ecs_task_no_job" {
  command = plan
  assert {
    condition     = length(yamldecode(output.yaml).aws.routes) == 2 && yamldecode(output.yaml).aws.routes[1].route_table == "rtb-0bbbbbbbbbbbbbbbb"
    error_message = "the return route follows the job's routes in aws.routes"
  }
  assert {
    condition     = !contains(keys(yamldecode(output.yaml).aws), "job")
    error_message = "no aws.job for an ECS task"
  }
  assert {
    condition     = yamldecode(output.yaml).network.endpoints[0].ip == "10.10.5.20" && !contains(keys(yamldecode(output.yaml).network.endpoints[1]), "ip")
    error_message = "endpoints[].ip is rendered only where given"
  }
}

run "vm_job" {
  command = plan
  variables {
    job              = { network_interface = "eni-0123456789abcdef0" }
    transit_gateways = ["tgw-0123456789abcdef0"]
  }
  assert {
    condition     = yamldecode(output.yaml).aws.job == { network_interface = "eni-0123456789abcdef0" } && yamldecode(output.yaml).aws.transit_gateways == ["tgw-0123456789abcdef0"]
    error_message = "aws.job and aws.transit_gateways are rendered"
  }
}

run "job_both_refused" {
  command = plan
  variables {
    job = { ip = "10.20.1.15", network_interface = "eni-0123456789abcdef0" }
  }
  expect_failures = [var.job]
}

run "endpoint_ip_outside_refused" {
  command = plan
  variables {
    endpoints = [{ name = "source", expect_cidr = "10.10.0.0/16", ip = "10.11.0.5" }]
  }
  expect_failures = [var.endpoints]
}

run "route_cidr_refused" {
  command = plan
  variables {
    return_routes = [{ route_table = "rtb-0bbbbbbbbbbbbbbbb", destination = "10.20.0.0", peering = "pcx-0123456789abcdef0" }]
  }
  expect_failures = [var.return_routes]
}
