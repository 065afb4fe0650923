# The private network path (the seed's "VPC access"), on unless private_network = false. Every
# instance sends all its egress into a subnet of a VPC network (Direct VPC egress, egress =
# ALL_TRAFFIC). There, Private Google Access and a private DNS zone send Google's APIs (Cloud
# Storage for the model, www.googleapis.com for the token issuer's keys, Cloud Monitoring for
# the sidecar and the fleet view) to private.googleapis.com, and firewall rules on the
# instances' network tag allow that and refuse everything else: an instance reaches Google's
# APIs and nothing else. Who may call the service is var.ingress (run.tf).

locals {
  create_network = var.private_network && var.network == ""

  # private.googleapis.com: Google's APIs through Private Google Access, on addresses announced
  # only inside Google's network (https://cloud.google.com/vpc/docs/configure-private-google-access).
  google_apis_range     = "199.36.153.8/30"
  google_apis_addresses = [for i in range(4) : cidrhost(local.google_apis_range, i)]
  # The records of the private zone googleapis.com.: every API name is private.googleapis.com.
  google_apis_records = {
    "private.googleapis.com." = { type = "A", rrdatas = local.google_apis_addresses }
    "*.googleapis.com."       = { type = "CNAME", rrdatas = ["private.googleapis.com."] }
  }

  # The tag the firewall rules select: only skserve's instances, whatever else uses the network.
  egress_tag = "${var.service_name}-egress"

  # One /20 per region cut from subnet_range (4,096 addresses: Direct VPC egress takes about two
  # per instance, and max_instances is at most 1,000), for the regions without a given subnet.
  created_subnets = var.private_network ? [for r in var.regions : r if !contains(keys(var.subnets), r)] : []
  subnet_ranges   = { for i, r in var.regions : r => cidrsubnet(var.subnet_range, 20 - tonumber(split("/", var.subnet_range)[1]), i) }

  # The egress rules of the instances, in the order the firewall applies them.
  egress_rules = {
    google_apis = {
      description        = "skserve's instances may reach Google APIs (private.googleapis.com) over HTTPS."
      action             = "allow"
      priority           = 1000
      destination_ranges = [local.google_apis_range]
      protocol           = "tcp"
      ports              = ["443"]
    }
    everything = {
      description        = "skserve's instances may reach nothing else."
      action             = "deny"
      priority           = 65000
      destination_ranges = ["0.0.0.0/0"]
      protocol           = "all"
      ports              = []
    }
  }

  network_id = local.create_network ? google_compute_network.skserve[0].id : "projects/${var.project_id}/global/networks/${var.network}"
  subnetworks = {
    for r in var.regions : r => contains(keys(var.subnets), r) ? "projects/${var.project_id}/regions/${r}/subnetworks/${var.subnets[r]}" : try(google_compute_subnetwork.skserve[r].id, null)
  }
}

resource "google_compute_network" "skserve" {
  count = local.create_network ? 1 : 0

  project                 = var.project_id
  name                    = var.service_name
  description             = "skserve's egress: Google APIs through Private Google Access, nothing else."
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
  # No route to the internet at all; the one route below reaches private.googleapis.com.
  delete_default_routes_on_create = true

  depends_on = [google_project_service.apis]
}

# Private Google Access needs a route to private.googleapis.com through the default internet
# gateway; the packets stay inside Google's network.
resource "google_compute_route" "google_apis" {
  count = local.create_network ? 1 : 0

  project          = var.project_id
  name             = "${var.service_name}-google-apis"
  description      = "private.googleapis.com, for Private Google Access."
  network          = google_compute_network.skserve[0].id
  dest_range       = local.google_apis_range
  next_hop_gateway = "default-internet-gateway"
  priority         = 1000
}

resource "google_compute_subnetwork" "skserve" {
  for_each = toset(local.created_subnets)

  project                  = var.project_id
  name                     = "${var.service_name}-${each.value}"
  region                   = each.value
  network                  = local.network_id
  ip_cidr_range            = local.subnet_ranges[each.value]
  private_ip_google_access = true

  # Flow logs: what the instances tried to reach, allowed or not.
  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# A given subnet must be in the network and have Private Google Access (run.tf checks both).
data "google_compute_subnetwork" "given" {
  for_each = var.private_network ? var.subnets : {}

  project = var.project_id
  name    = each.value
  region  = each.key
}

# *.googleapis.com resolves to private.googleapis.com inside the network.
resource "google_dns_managed_zone" "google_apis" {
  count = var.private_network && var.google_apis_dns_zone ? 1 : 0

  project     = var.project_id
  name        = "${var.service_name}-googleapis"
  dns_name    = "googleapis.com."
  description = "Google APIs through private.googleapis.com (Private Google Access)."
  visibility  = "private"

  private_visibility_config {
    networks {
      network_url = local.network_id
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_dns_record_set" "google_apis" {
  for_each = var.private_network && var.google_apis_dns_zone ? local.google_apis_records : {}

  project      = var.project_id
  managed_zone = google_dns_managed_zone.google_apis[0].name
  name         = each.key
  type         = each.value.type
  ttl          = 300
  rrdatas      = each.value.rrdatas
}

# The instances' egress, by their network tag: HTTPS to private.googleapis.com, then nothing.
resource "google_compute_firewall" "egress" {
  for_each = var.private_network ? local.egress_rules : {}

  project            = var.project_id
  name               = "${var.service_name}-egress-${replace(each.key, "_", "-")}"
  description        = each.value.description
  network            = local.network_id
  direction          = "EGRESS"
  priority           = each.value.priority
  destination_ranges = each.value.destination_ranges
  target_tags        = [local.egress_tag]

  dynamic "allow" {
    for_each = each.value.action == "allow" ? [each.value] : []
    content {
      protocol = allow.value.protocol
      ports    = allow.value.ports
    }
  }

  dynamic "deny" {
    for_each = each.value.action == "deny" ? [each.value] : []
    content {
      protocol = deny.value.protocol
    }
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
