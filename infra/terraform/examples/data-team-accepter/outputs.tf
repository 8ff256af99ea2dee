output "peering_status" {
  description = "active once accepted."
  value       = module.accepter.accept_status
}

output "routes" {
  description = "Routes added to the data team route tables."
  value       = module.accepter.routes
}
