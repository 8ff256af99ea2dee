output "vpc_id" {
  description = "ID of the isolated VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the isolated VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnet IDs keyed like var.private_subnets."
  value       = { for k, s in aws_subnet.private : k => s.id }
}

output "private_route_table_ids" {
  description = "Route table IDs keyed like var.private_subnets (static keys, so other modules can for_each over them before the IDs are known)."
  value       = { for k, rt in aws_route_table.private : k => rt.id }
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints (443 from the VPC CIDR)."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_ids" {
  description = "Interface endpoint IDs keyed by service (dots replaced by dashes: ecr-api)."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "ec2_endpoint_dns_name" {
  description = "Regional DNS name of the EC2 interface endpoint (for aws.endpoint when private DNS cannot be used), or null."
  value       = try(aws_vpc_endpoint.interface["ec2"].dns_entry[0].dns_name, null)
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint, or null."
  value       = try(aws_vpc_endpoint.s3[0].id, null)
}

output "s3_prefix_list_id" {
  description = "Managed prefix list of S3 in this region (pl-...), for HTTPS egress rules to the gateway endpoint, or null."
  value       = try(aws_vpc_endpoint.s3[0].prefix_list_id, null)
}
