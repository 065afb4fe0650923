# Several regions behind one global external HTTPS load balancer (the seed's improvement #4),
# with a Cloud Armor policy admitting only allowed_cidrs (the seed's IP access restrictions).
# Created only when a domain is set: the managed certificate needs one.

locals {
  # Cloud Armor takes at most 10 ranges per rule.
  cidr_chunks = chunklist(var.allowed_cidrs, 10)
}

resource "google_compute_region_network_endpoint_group" "skserve" {
  for_each = local.load_balancer ? toset(var.regions) : toset([])

  project               = var.project_id
  name                  = "${var.service_name}-${each.value}"
  region                = each.value
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.skserve[each.value].name
  }
}

resource "google_compute_security_policy" "skserve" {
  count = local.load_balancer ? 1 : 0

  project     = var.project_id
  name        = "${var.service_name}-allowed-sources"
  description = "Admits only allowed_cidrs (every source when the list is empty)."

  # Requests carrying a Log4j JNDI lookup (CVE-2021-44228) are refused before anything else.
  # skserve is not Java, but the rule costs a rule's fee, sees nothing skserve's callers send,
  # and keeps the policy safe for whatever else is later put behind it.
  rule {
    action      = "deny(403)"
    priority    = 900
    description = "Log4j JNDI lookups (CVE-2021-44228)."
    preview     = false
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  dynamic "rule" {
    for_each = local.cidr_chunks
    content {
      action      = "allow"
      priority    = 1000 + rule.key
      description = "allowed_cidrs, part ${rule.key + 1}"
      match {
        versioned_expr = "SRC_IPS_V1"
        config {
          src_ip_ranges = rule.value
        }
      }
    }
  }

  rule {
    action      = length(var.allowed_cidrs) > 0 ? "deny(403)" : "allow"
    priority    = 2147483647
    description = "Everything else."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_backend_service" "skserve" {
  count = local.load_balancer ? 1 : 0

  project               = var.project_id
  name                  = var.service_name
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.skserve[0].id

  dynamic "backend" {
    for_each = google_compute_region_network_endpoint_group.skserve
    content {
      group = backend.value.id
    }
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "skserve" {
  count = local.load_balancer ? 1 : 0

  project         = var.project_id
  name            = var.service_name
  default_service = google_compute_backend_service.skserve[0].id
}

resource "google_compute_managed_ssl_certificate" "skserve" {
  count = local.load_balancer ? 1 : 0

  project = var.project_id
  name    = var.service_name

  managed {
    domains = [var.domain]
  }
}

resource "google_compute_target_https_proxy" "skserve" {
  count = local.load_balancer ? 1 : 0

  project          = var.project_id
  name             = var.service_name
  url_map          = google_compute_url_map.skserve[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.skserve[0].id]
}

resource "google_compute_global_address" "skserve" {
  count = local.load_balancer ? 1 : 0

  project = var.project_id
  name    = var.service_name
}

resource "google_compute_global_forwarding_rule" "skserve" {
  count = local.load_balancer ? 1 : 0

  project               = var.project_id
  name                  = var.service_name
  target                = google_compute_target_https_proxy.skserve[0].id
  ip_address            = google_compute_global_address.skserve[0].address
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}
