# Cloud Monitoring from ../monitoring/slos.yaml, the one place skserve's SLOs are defined: one
# SLO per entry, multiwindow burn-rate alerts per enabled tier, a memory alert, a dashboard.
#
# Limits of Cloud Monitoring, handled here:
# - An SLO goal may not exceed 0.999. An objective above that (the seed's 99.95 % availability)
#   is declared at 0.999 and every burn-rate threshold is scaled by the ratio of the two error
#   budgets: a 14.4x burn of a 0.05 % budget is a 7.2x burn of a 0.1 % budget. The dashboard
#   says so next to the SLO.
# - select_slo_burn_rate looks back at most 24 h, so the ticket tier's 3d/6h pair lives only in
#   the Prometheus rules and skserve's own engine; here the ticket tier is the 1d/2h pair.
# - Latency comes from Cloud Run's own run.googleapis.com/request_latencies (milliseconds): it
#   includes the platform's front end, which is what callers see, and needs no sidecar. skserve's
#   histogram (skserve_http_request_duration_seconds) would need Managed Service for Prometheus
#   as a sidecar to reach Cloud Monitoring, and measures less of the caller's wait.

locals {
  slo_spec = yamldecode(file("${path.module}/../monitoring/slos.yaml"))
  slos     = { for s in local.slo_spec.slos : s.name => s }

  max_goal = 0.999
  goals    = { for name, s in local.slos : name => min(s.objective_percent / 100, local.max_goal) }
  # How much larger the declared budget is than the stated one (1 when nothing was capped).
  budget_scale = { for name, s in local.slos : name => (1 - s.objective_percent / 100) / (1 - local.goals[name]) }

  # The SRE workbook's multiwindow pairs that fit select_slo_burn_rate's 24 h lookback.
  burn_windows = {
    page = [
      { long = "3600s", short = "300s", burn = 14.4 },
      { long = "21600s", short = "1800s", burn = 6 },
    ]
    ticket = [
      { long = "86400s", short = "7200s", burn = 3 },
    ]
  }

  burn_alerts = merge([
    for name, s in local.slos : {
      for pair in flatten([
        for tier, windows in local.burn_windows : [
          for w in windows : { tier = tier, window = w } if try(s.alerts[tier], true)
        ]
        ]) : "${name} ${pair.tier} ${pair.window.long}" => {
        slo       = name
        tier      = pair.tier
        long      = pair.window.long
        short     = pair.window.short
        threshold = pair.window.burn * local.budget_scale[name]
      }
    }
  ]...)

  run_filter     = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.service_name}\""
  request_count  = "metric.type=\"run.googleapis.com/request_count\" AND ${local.run_filter}"
  latency_metric = "metric.type=\"run.googleapis.com/request_latencies\" AND ${local.run_filter}"
  memory_metric  = "metric.type=\"run.googleapis.com/container/memory/utilizations\" AND ${local.run_filter}"

  # Caller mistakes (4xx) count towards no SLO; 429 is a shed, so it counts, as a bad event.
  counted = "(metric.labels.response_code_class != \"4xx\" OR metric.labels.response_code = \"429\")"
  bad     = "(metric.labels.response_code_class = \"5xx\" OR metric.labels.response_code = \"429\")"

  memory_slo         = one([for s in local.slo_spec.slos : s if s.kind == "memory"])
  memory_limit_bytes = tonumber(regex("^[0-9]+", var.memory)) * (endswith(var.memory, "Gi") ? 1073741824 : 1048576)
}

resource "google_monitoring_custom_service" "skserve" {
  project      = var.project_id
  service_id   = var.service_name
  display_name = "skserve (${join(", ", var.regions)})"

  depends_on = [google_project_service.apis]
}

resource "google_monitoring_slo" "slo" {
  for_each = local.slos

  project             = var.project_id
  service             = google_monitoring_custom_service.skserve.service_id
  slo_id              = each.key
  display_name        = "${each.value.description} (objective ${each.value.objective_percent} %, declared ${local.goals[each.key] * 100} %)"
  goal                = local.goals[each.key]
  rolling_period_days = tonumber(trimsuffix(each.value.window, "d"))

  dynamic "request_based_sli" {
    for_each = each.value.kind == "availability" ? [1] : []
    content {
      good_total_ratio {
        bad_service_filter   = "${local.request_count} AND ${local.bad}"
        total_service_filter = "${local.request_count} AND ${local.counted}"
      }
    }
  }

  dynamic "request_based_sli" {
    for_each = each.value.kind == "latency" ? [1] : []
    content {
      distribution_cut {
        distribution_filter = "${local.latency_metric} AND metric.labels.response_code_class != \"4xx\""
        range {
          min = 0
          max = each.value.threshold_seconds * 1000
        }
      }
    }
  }

  # Memory is a threshold objective: a minute is good when every memory sample of the minute is
  # below the limit (as a fraction of the container's memory limit).
  dynamic "windows_based_sli" {
    for_each = each.value.kind == "memory" ? [1] : []
    content {
      window_period = "60s"
      good_total_ratio_threshold {
        threshold = 1
        performance {
          distribution_cut {
            distribution_filter = local.memory_metric
            range {
              min = 0
              max = each.value.limit_bytes / local.memory_limit_bytes
            }
          }
        }
      }
    }
  }
}

resource "google_monitoring_alert_policy" "burn_rate" {
  for_each = local.burn_alerts

  project               = var.project_id
  display_name          = "skserve ${each.value.slo}: ${each.value.tier} (burn > ${each.value.threshold}x over ${each.value.long} and ${each.value.short})"
  combiner              = "AND"
  notification_channels = var.notification_channels
  severity              = each.value.tier == "page" ? "CRITICAL" : "WARNING"

  conditions {
    display_name = "burn rate over ${each.value.long}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.slo[each.value.slo].name}\", \"${each.value.long}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  conditions {
    display_name = "burn rate over ${each.value.short}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.slo[each.value.slo].name}\", \"${each.value.short}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "skserve is spending the ${each.value.slo} error budget ${each.value.threshold}x faster than the SLO allows (thresholds are scaled by ${local.budget_scale[each.value.slo]} because Cloud Monitoring caps goals at 0.999). Check the skserve dashboard and the service's /slo page."
  }
}

resource "google_monitoring_alert_policy" "memory" {
  count = local.memory_slo == null ? 0 : 1

  project               = var.project_id
  display_name          = "skserve memory above ${local.memory_slo.limit_bytes / 1048576} MiB"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "container memory utilisation (p99) above the memory objective"
    condition_threshold {
      filter          = local.memory_metric
      comparison      = "COMPARISON_GT"
      threshold_value = local.memory_slo.limit_bytes / local.memory_limit_bytes
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.location"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An skserve instance uses more memory than the memory SLO allows for over 5 minutes: a larger model, or a leak."
  }
}
