# skserve on Cloud Run, one service per region, each reading the model from the bucket, with
# the managed-Prometheus sidecar beside it (prometheus.tf), its egress into the VPC network
# (network.tf).

locals {
  # Cloud Run's deterministic URL: the audience of ID tokens minted for the service itself.
  run_urls = { for r in var.regions : r => "https://${var.service_name}-${local.project_number}.${r}.run.app" }

  # Invoker bindings: every member in every region.
  invocations = { for pair in setproduct(var.regions, var.invokers) : "${pair[0]} ${pair[1]}" => { region = pair[0], member = pair[1] } }

  # The memory limit and the loading budget, stated together. A model load may hold its budget
  # (--max-model-bytes: the file, its stream, its values and the model built from them) while
  # the model being served stays in memory, and skserve itself takes a few tens of MiB beyond a
  # load's budget (LOAD_OVERHEAD_BYTES, src/model/budget.rs): half the instance for a load
  # leaves the other half for the served model and the service. 512Mi gives 256MiB, skserve's
  # own default; raising var.memory raises the budget with it.
  memory_mib      = tonumber(regex("^[0-9]+", var.memory)) * (endswith(var.memory, "Gi") ? 1024 : 1)
  max_model_bytes = "${floor(local.memory_mib / 2)}MiB"

  # Who may reach the service (var.ingress): only the project's VPC networks and internal load
  # balancers; only the load balancer when there is one; else any source. Every request still
  # needs an invoker's ID token.
  ingress = var.ingress == "internal" ? "INGRESS_TRAFFIC_INTERNAL_ONLY" : (
    local.load_balancer ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL"
  )

  # The first scrape (var.ready_after_first_scrape). The sidecar scrapes first 10 s after it
  # starts, then every scrape interval; skserve's readiness waits for that scrape for one
  # interval more than it needs (a first scrape that failed is retried an interval later),
  # with 5 s to spare, and then turns ready anyway. The sidecar must not wait for skserve's
  # startup probe, which waits for it: it starts with skserve.
  sidecar_first_scrape_seconds = 10
  first_scrape_wait_seconds    = local.sidecar_first_scrape_seconds + local.scrape_interval_seconds + 5
  ready_after_first_scrape     = var.ready_after_first_scrape ? "${local.first_scrape_wait_seconds}s" : "off"
  collector_depends_on         = var.ready_after_first_scrape ? [] : ["skserve"]
  # The startup probe (every second) allows 30 s to load the model and fetch the token
  # issuer's keys, plus that wait; Cloud Run allows at most 240 s.
  startup_probe_seconds = 30 + (var.ready_after_first_scrape ? local.first_scrape_wait_seconds : 0)
}

resource "google_cloud_run_v2_service" "skserve" {
  for_each = toset(var.regions)

  project             = var.project_id
  name                = var.service_name
  location            = each.value
  ingress             = local.ingress
  custom_audiences    = local.load_balancer ? [local.public_origin] : []
  deletion_protection = false

  template {
    service_account                  = google_service_account.skserve.email
    max_instance_request_concurrency = var.concurrency
    # Cloud Run sends SIGTERM and allows 10 s; skserve drains within --shutdown-grace.
    timeout = "30s"
    # A Linux kernel: the sidecar's scrape of 0.0.0.0:PORT reaches the loopback admin listener
    # (prometheus.tf), and the sidecar's own documentation asks for it.
    execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    # Every packet an instance sends goes into the VPC network (network.tf), whose firewall
    # lets through Google's APIs only.
    dynamic "vpc_access" {
      for_each = var.private_network ? [local.subnetworks[each.value]] : []
      content {
        egress = "ALL_TRAFFIC"
        network_interfaces {
          network    = local.network_id
          subnetwork = vpc_access.value
          tags       = [local.egress_tag]
        }
      }
    }

    containers {
      name  = "skserve"
      image = local.image

      # HTTP/1.1 (REST). gRPC (SKSERVE_GRPC_LISTEN) needs a port named "h2c", over which Cloud
      # Run sends every request as HTTP/2: run it as a second service (docs/deploying.md, "gRPC
      # on Cloud Run").
      ports {
        container_port = 8080
      }

      env {
        name  = "SKSERVE_MODEL"
        value = local.model_uri
      }
      env {
        name  = "SKSERVE_AUTH_AUDIENCE"
        value = join(",", compact([local.run_urls[each.value], local.public_origin]))
      }
      env {
        name  = "SKSERVE_AUTH_ALLOW"
        value = join(",", var.auth_allow)
      }
      env {
        name  = "SKSERVE_LOG_FORMAT"
        value = "json"
      }
      # skserve closes a connection idle for this long (its slowloris deadline). Google's front
      # end keeps idle connections to the instance for up to 600 s; closing one first races a
      # request sent on it, which the caller would see as a 502.
      env {
        name  = "SKSERVE_HEADER_READ_TIMEOUT"
        value = "620s"
      }
      # Cloud Run already holds requests beyond the concurrency setting; keep room for those
      # and for idle connections so that skserve never sheds what Cloud Run admitted.
      env {
        name  = "SKSERVE_MAX_CONNECTIONS"
        value = tostring(max(2 * var.concurrency, 256))
      }
      # /metrics, /slo, /slo.json and the probes without a token, on loopback only: the sidecar
      # scrapes it; the serving port keeps them behind the token check.
      env {
        name  = "SKSERVE_ADMIN_LISTEN"
        value = local.admin_listen
      }
      # The fleet panel of /slo: every SLO over the whole service, from Cloud Monitoring.
      env {
        name  = "SKSERVE_FLEET_PROMETHEUS"
        value = local.fleet_prometheus_url
      }
      # Half of var.memory (local.max_model_bytes above): a model needing more is refused, and
      # a refresh to it keeps the served model.
      env {
        name  = "SKSERVE_MAX_MODEL_BYTES"
        value = local.max_model_bytes
      }
      # Ready (so routed traffic) once the sidecar has scraped the admin listener, or after
      # the wait: the SLOs count every request from the first.
      env {
        name  = "SKSERVE_READY_AFTER_FIRST_SCRAPE"
        value = local.ready_after_first_scrape
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # CPU always allocated (instance-based billing): the sidecar scrapes between requests,
        # and the model refresher and the SLO engine run in the background. docs/deploying.md
        # says what it costs.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      startup_probe {
        http_get {
          path = "/v2/health/ready"
          port = 8080
        }
        initial_delay_seconds = 0
        period_seconds        = 1
        timeout_seconds       = 1
        failure_threshold     = local.startup_probe_seconds
      }

      liveness_probe {
        http_get {
          path = "/v2/health/live"
          port = 8080
        }
        period_seconds    = 10
        timeout_seconds   = 1
        failure_threshold = 3
      }
    }

    # Google's managed-Prometheus sidecar. It starts with skserve when skserve's readiness waits
    # for its first scrape (10 s after it starts, by when the admin listener is up), else once
    # skserve's startup probe passes.
    containers {
      name       = "collector"
      image      = var.collector_image
      depends_on = local.collector_depends_on

      resources {
        limits = {
          cpu    = tostring(var.collector_cpu)
          memory = var.collector_memory
        }
        cpu_idle          = false
        startup_cpu_boost = false
      }

      # The sidecar's own health endpoint (its documentation's probe).
      liveness_probe {
        http_get {
          path = "/liveness"
          port = 13133
        }
        period_seconds    = 30
        timeout_seconds   = 30
        failure_threshold = 3
      }

      volume_mounts {
        name       = "rungmp-config"
        mount_path = "/etc/rungmp"
      }
    }

    volumes {
      name = "rungmp-config"
      secret {
        secret = google_secret_manager_secret.rungmp.secret_id
        items {
          version = google_secret_manager_secret_version.rungmp.version
          path    = "config.yaml"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.regions) == 1 || local.load_balancer
      error_message = "Several regions need the global load balancer: set domain."
    }
    precondition {
      condition     = tonumber(var.cpu) + var.collector_cpu <= 8
      error_message = "cpu and collector_cpu together exceed Cloud Run's 8 vCPUs per instance."
    }
    precondition {
      condition     = alltrue([for s in data.google_compute_subnetwork.given : s.private_ip_google_access && endswith(s.network, "/networks/${local.create_network ? var.service_name : var.network}")])
      error_message = "Every subnet of subnets must be in network and have Private Google Access on (gcloud compute networks subnets update NAME --region REGION --enable-private-ip-google-access)."
    }
  }

  # A revision whose identity cannot yet read the model or the sidecar's configuration would
  # fail to start.
  depends_on = [
    google_project_service.apis,
    google_storage_bucket_iam_member.model_reader,
    google_secret_manager_secret_iam_member.rungmp_reader,
    google_compute_firewall.egress,
    google_compute_route.google_apis,
    google_dns_record_set.google_apis,
  ]
}

# Only the listed members may invoke the service: no allUsers binding exists anywhere.
resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = local.invocations

  project  = var.project_id
  location = each.value.region
  name     = google_cloud_run_v2_service.skserve[each.value.region].name
  role     = "roles/run.invoker"
  member   = each.value.member
}
