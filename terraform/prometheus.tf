# skserve's own metrics into Cloud Monitoring: Google's managed-Prometheus sidecar runs in every
# instance beside skserve and scrapes its admin listener; what it writes is what the SLOs, the
# dashboard and skserve's fleet panel read.
#
# The admin listener (SKSERVE_ADMIN_LISTEN) serves /metrics, /slo, /slo.json and the health
# probes without a token, on loopback. The containers of one Cloud Run instance share their
# network namespace, so the sidecar reaches it; nothing outside the instance can (only the
# declared port, 8080, is routed to an instance). The sidecar's scrape target is
# 0.0.0.0:PORT, which Linux routes to a loopback listener: hence the second-generation
# execution environment (a Linux kernel) in run.tf.

locals {
  admin_port   = 9091
  admin_listen = "127.0.0.1:${local.admin_port}"

  # Cloud Monitoring's Prometheus-compatible query API for this project: skserve computes the
  # fleet's SLOs from it (SKSERVE_FLEET_PROMETHEUS), with its service account's token.
  fleet_prometheus_url = "https://monitoring.googleapis.com/v1/projects/${var.project_id}/location/global/prometheus"

  # The sidecar labels every series job=<RunMonitoring name>; the Prometheus rules and skserve's
  # fleet queries select job from slos.yaml's prometheus_selector, so the name comes from there
  # (any name does when the selector names no job).
  scrape_job = try(one(regex("job=\"([^\"]+)\"", local.slo_spec.prometheus_selector)), var.service_name)
  # The sidecar's default. Each sample is billed (docs/deploying.md); the SLO counters need no
  # finer grain, and the memory objective is evaluated at this resolution.
  scrape_interval_seconds = 30

  # RunMonitoring, the sidecar's subset of PodMonitoring. The series carry the resource labels
  # project_id, location (the region), cluster ("__run__"), namespace (the service), job and
  # instance; targetLabels adds the service and revision as metric labels.
  run_monitoring = {
    apiVersion = "monitoring.googleapis.com/v1beta"
    kind       = "RunMonitoring"
    metadata   = { name = local.scrape_job }
    spec = {
      endpoints = [{
        port     = tostring(local.admin_port)
        path     = "/metrics"
        interval = "${local.scrape_interval_seconds}s"
        timeout  = "10s"
      }]
      targetLabels = { metadata = ["service", "revision"] }
    }
  }
}

# The sidecar reads its configuration from a file; Cloud Run mounts files from Secret Manager.
# The configuration holds nothing secret.
resource "google_secret_manager_secret" "rungmp" {
  project   = var.project_id
  secret_id = "${var.service_name}-rungmp-config"

  labels = {
    service = var.service_name
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

# Each change makes a new version; the service mounts that exact version (not "latest"), so a
# change rolls out as a new revision instead of reaching instances as they happen to start.
resource "google_secret_manager_secret_version" "rungmp" {
  secret      = google_secret_manager_secret.rungmp.id
  secret_data = yamlencode(local.run_monitoring)
}

# The sidecar runs as skserve's service account: it may read this one secret, nothing else.
resource "google_secret_manager_secret_iam_member" "rungmp_reader" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.rungmp.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.skserve.member
}

# The fleet view reads time series through the PromQL API (read-only).
resource "google_project_iam_member" "monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = google_service_account.skserve.member
}
