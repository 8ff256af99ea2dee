output "sections" {
  description = "The aws and network sections as an object (for further composition)."
  value       = local.sections
}

output "yaml" {
  description = "The aws: and network: sections as YAML, to append to a config that has neither (cat rules.yaml sections.yaml > anonetl.yaml)."
  value       = yamlencode(local.sections)
}

output "config_yaml" {
  description = "The whole config (base_yaml with the aws and network sections set from Terraform), or null without base_yaml."
  value       = var.base_yaml == null ? null : yamlencode(merge(yamldecode(var.base_yaml), local.sections))
}
