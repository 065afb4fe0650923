output "service_urls" {
  description = "Each region's Cloud Run URL."
  value       = { for r, s in google_cloud_run_v2_service.skserve : r => s.uri }
}

output "load_balancer_address" {
  description = "The global load balancer's IP address (point the domain's A record at it); null without a domain."
  value       = local.load_balancer ? google_compute_global_address.skserve[0].address : null
}

output "model_bucket" {
  description = "Bucket holding the model; upload a new generation and skserve swaps it in."
  value       = google_storage_bucket.models.name
}

output "model_uri" {
  description = "What skserve reads (SKSERVE_MODEL)."
  value       = local.model_uri
}

output "call_example" {
  description = "How to call the service as one of the invokers."
  value       = "curl -X POST -H \"Authorization: Bearer $(gcloud auth print-identity-token --audiences=${local.load_balancer ? local.public_origin : local.run_urls[var.regions[0]]})\" -d 'x=[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]' ${local.load_balancer ? local.public_origin : local.run_urls[var.regions[0]]}/"
}

output "dashboard_proxy" {
  description = "Tunnels localhost:8081 to the first region's service with an identity token for its URL; open http://localhost:8081/slo (replace OPERATOR_SA with a service account you may impersonate, one of invokers and allowed by auth_allow)."
  value       = "gcloud run services proxy ${var.service_name} --project ${var.project_id} --region ${var.regions[0]} --port 8081 --token \"$(gcloud auth print-identity-token --impersonate-service-account=OPERATOR_SA --audiences=${local.run_urls[var.regions[0]]})\""
}

output "egress_network" {
  description = "The VPC network and the subnet of each region the instances send all their egress into; null with private_network = false."
  value       = var.private_network ? { network = local.network_id, subnets = local.subnetworks } : null
}
