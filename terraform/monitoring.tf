# Cloud Monitoring from ../monitoring/slos.yaml, the one place skserve's SLOs are defined: an
# SLO per entry with multiwindow burn-rate alerts per enabled tier, and a dashboard.
#
# What the SLIs read is var.sli_source:
# - skserve (the default): skserve's own series, written by the managed-Prometheus sidecar
#   (prometheus.tf): availability is good/total of skserve_http_requests_total by code;
#   latency a distribution cut of skserve_http_request_duration_seconds at the threshold,
#   which slos.yaml requires to be a bucket edge, so the cut is exact; routes that are not
#   user traffic (exclude_routes) count towards nothing, as in skserve's own engine and the
#   Prometheus rules. Memory is a PromQL alert policy on process_resident_memory_bytes (below).
# - cloud_run: the platform's run.googleapis.com metrics, which include the front end that
#   callers wait on but cannot tell routes apart.
# The model-health SLOs (kind data_quality and drift) read skserve's own counters whatever
# sli_source says, since the platform knows nothing of the rows a model predicts: data quality is
# rows without an issue against all rows (skserve_input_rows_with_issues_total,
# skserve_input_rows_total), drift the evaluation intervals a drift SLO counted good against all
# it counted (skserve_drift_intervals_total by slo and result); an SLO naming one model selects
# its series by their model label.
#
# Limits of Cloud Monitoring, handled here:
# - An SLO goal may not exceed 0.999. An objective above that (the seed's 99.95 % availability)
#   is declared at 0.999 and every burn-rate threshold is scaled by the ratio of the two error
#   budgets: a 14.4x burn of a 0.05 % budget is a 7.2x burn of a 0.1 % budget. The dashboard
#   says so next to the SLO.
# - select_slo_burn_rate looks back at most 24 h, so the ticket tier's 3d/6h pair lives only in
#   the Prometheus rules and skserve's own engine; here the ticket tier is the 1d/2h pair.
#
# Why memory is a PromQL alert policy under sli_source = skserve, not a windows-based SLI: a
# windows-based SLI over a gauge can only average (metric_mean_in_range) or add up
# (metric_sum_in_range) the instances' series, so one instance at its limit among several is
# diluted below the threshold, or several healthy ones add up above it. The objective is about
# the largest instance: a moment is bad when any instance is at or above limit_bytes, which is
# how skserve's engine and the Prometheus rules count it (max over instances, sampled). PromQL
# says exactly that, at the scrape's resolution, and keeps the stated objective (99.9 %) where
# an SLO goal would be capped.

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
    for name, s in local.cloud_monitoring_slos : {
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

  # Cloud Run's platform metrics (sli_source = cloud_run, and the memory alert there).
  run_filter     = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.service_name}\""
  request_count  = "metric.type=\"run.googleapis.com/request_count\" AND ${local.run_filter}"
  latency_metric = "metric.type=\"run.googleapis.com/request_latencies\" AND ${local.run_filter}"
  memory_metric  = "metric.type=\"run.googleapis.com/container/memory/utilizations\" AND ${local.run_filter}"

  # Caller mistakes (4xx) count towards no SLO; 429 is a shed, so it counts, as a bad event.
  counted = "(metric.labels.response_code_class != \"4xx\" OR metric.labels.response_code = \"429\")"
  bad     = "(metric.labels.response_code_class = \"5xx\" OR metric.labels.response_code = \"429\")"

  # skserve's own series, as the sidecar writes them: resource prometheus_target, namespace
  # the Cloud Run service, job the RunMonitoring name.
  skserve_target    = "resource.type=\"prometheus_target\" AND resource.labels.namespace=\"${var.service_name}\" AND resource.labels.job=\"${local.scrape_job}\""
  skserve_requests  = "metric.type=\"prometheus.googleapis.com/skserve_http_requests_total/counter\" AND ${local.skserve_target}"
  skserve_durations = "metric.type=\"prometheus.googleapis.com/skserve_http_request_duration_seconds/histogram\" AND ${local.skserve_target}"
  skserve_memory    = "metric.type=\"prometheus.googleapis.com/process_resident_memory_bytes/gauge\" AND ${local.skserve_target}"
  user_routes       = join(" AND ", [for r in local.slo_spec.exclude_routes : "metric.labels.route != \"${r}\""])

  # Model health's counters (src/metrics/health.rs), as the sidecar writes them.
  health_sli = {
    rows        = "metric.type=\"prometheus.googleapis.com/skserve_input_rows_total/counter\" AND ${local.skserve_target}"
    with_issues = "metric.type=\"prometheus.googleapis.com/skserve_input_rows_with_issues_total/counter\" AND ${local.skserve_target}"
    intervals   = "metric.type=\"prometheus.googleapis.com/skserve_drift_intervals_total/counter\" AND ${local.skserve_target}"
  }
  # Per model-health SLO: the matcher of the one model it names, if it names one.
  health_model = { for name, s in local.slos : name => try(" AND metric.labels.model = \"${s.model}\"", "") }
  # The codes of the Prometheus rules (src/slo/rules.rs): counted 1xx-3xx, 5xx and 429; good
  # 1xx-3xx.
  skserve_counted = "metric.labels.code = monitoring.regex.full_match(\"[1-35]..|429\")"
  skserve_good    = "metric.labels.code = monitoring.regex.full_match(\"[1-3]..\")"
  skserve_bad     = "metric.labels.code = monitoring.regex.full_match(\"5..|429\")"

  sli = {
    skserve = {
      good_filter    = "${local.skserve_requests} AND ${local.user_routes} AND ${local.skserve_good}"
      bad_filter     = null
      total_filter   = "${local.skserve_requests} AND ${local.user_routes} AND ${local.skserve_counted}"
      latency_filter = "${local.skserve_durations} AND ${local.user_routes} AND metric.labels.code_class != \"4xx\""
      # The histogram is in seconds; its first bucket starts at -inf, so the cut is open below.
      latency_scale = 1
      latency_min   = null
    }
    cloud_run = {
      good_filter    = null
      bad_filter     = "${local.request_count} AND ${local.bad}"
      total_filter   = "${local.request_count} AND ${local.counted}"
      latency_filter = "${local.latency_metric} AND metric.labels.response_code_class != \"4xx\""
      latency_scale  = 1000
      latency_min    = 0
    }
  }[var.sli_source]

  # The SLOs Cloud Monitoring holds as SLO objects: all of them from the platform's metrics;
  # from skserve's, all but memory (a PromQL alert policy, see the top of this file). The
  # model-health SLOs are always SLO objects, on skserve's counters.
  cloud_monitoring_slos = {
    for name, s in local.slos : name => s if var.sli_source == "cloud_run" || s.kind != "memory"
  }

  memory_slo         = one([for s in local.slo_spec.slos : s if s.kind == "memory"])
  memory_limit_bytes = tonumber(regex("^[0-9]+", var.memory)) * (endswith(var.memory, "Gi") ? 1073741824 : 1048576)

  # The memory objective in PromQL, as skserve's engine and the Prometheus rules count it: the
  # share of moments (one per scrape) at which the largest instance is at or above
  # limit_bytes. Cloud Monitoring's PromQL sees the sidecar's labels.
  memory_selector = join(",", compact([local.slo_spec.prometheus_selector, "namespace=\"${var.service_name}\""]))
  memory_bad_ratio = {
    for s in local.slo_spec.slos : s.name => {
      for w in distinct(flatten([for tier, windows in local.burn_windows : [for p in windows : [p.long, p.short]]])) :
      w => "avg_over_time((max(process_resident_memory_bytes{${local.memory_selector}}) >= bool ${s.limit_bytes})[${w}:${local.scrape_interval_seconds}s])"
    } if s.kind == "memory"
  }
  memory_burn_alerts = merge([
    for s in local.slo_spec.slos : {
      for pair in flatten([
        for tier, windows in local.burn_windows : [
          for w in windows : { tier = tier, window = w } if try(s.alerts[tier], true)
        ]
        ]) : "${s.name} ${pair.tier} ${pair.window.long}" => {
        slo   = s.name
        tier  = pair.tier
        long  = pair.window.long
        short = pair.window.short
        burn  = pair.window.burn
        query = join(" and ", [
          for w in [pair.window.long, pair.window.short] :
          "(${local.memory_bad_ratio[s.name][w]} > (${pair.window.burn} * (1 - ${s.objective_percent} / 100)))"
        ])
      }
    } if s.kind == "memory" && var.sli_source == "skserve"
  ]...)
}

resource "google_monitoring_custom_service" "skserve" {
  project      = var.project_id
  service_id   = var.service_name
  display_name = "skserve (${join(", ", var.regions)})"

  depends_on = [google_project_service.apis]
}

resource "google_monitoring_slo" "slo" {
  for_each = local.cloud_monitoring_slos

  project             = var.project_id
  service             = google_monitoring_custom_service.skserve.service_id
  slo_id              = each.key
  display_name        = "${each.value.description} (objective ${each.value.objective_percent} %, declared ${format("%.6g", local.goals[each.key] * 100)} %)"
  goal                = local.goals[each.key]
  rolling_period_days = tonumber(trimsuffix(each.value.window, "d"))

  dynamic "request_based_sli" {
    for_each = each.value.kind == "availability" ? [1] : []
    content {
      good_total_ratio {
        good_service_filter  = local.sli.good_filter
        bad_service_filter   = local.sli.bad_filter
        total_service_filter = local.sli.total_filter
      }
    }
  }

  dynamic "request_based_sli" {
    for_each = each.value.kind == "data_quality" ? [1] : []
    content {
      good_total_ratio {
        bad_service_filter   = "${local.health_sli.with_issues}${local.health_model[each.key]}"
        total_service_filter = "${local.health_sli.rows}${local.health_model[each.key]}"
      }
    }
  }

  dynamic "request_based_sli" {
    for_each = each.value.kind == "drift" ? [1] : []
    content {
      good_total_ratio {
        good_service_filter  = "${local.health_sli.intervals} AND metric.labels.slo = \"${each.key}\" AND metric.labels.result = \"good\"${local.health_model[each.key]}"
        total_service_filter = "${local.health_sli.intervals} AND metric.labels.slo = \"${each.key}\"${local.health_model[each.key]}"
      }
    }
  }

  dynamic "request_based_sli" {
    for_each = each.value.kind == "latency" ? [1] : []
    content {
      distribution_cut {
        distribution_filter = local.sli.latency_filter
        range {
          min = local.sli.latency_min
          max = each.value.threshold_seconds * local.sli.latency_scale
        }
      }
    }
  }

  # sli_source = cloud_run: a minute is good when every memory sample of the minute is below
  # the objective's limit (as a fraction of the container's memory limit).
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
  display_name          = "skserve ${each.value.slo}: ${each.value.tier} (burn > ${format("%.4g", each.value.threshold)}x over ${each.value.long} and ${each.value.short})"
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
    content   = "skserve is spending the ${each.value.slo} error budget ${format("%.4g", each.value.threshold)}x faster than the SLO allows (thresholds are scaled by ${format("%.4g", local.budget_scale[each.value.slo])} because Cloud Monitoring caps goals at 0.999). Check the skserve dashboard and the service's /slo page."
  }
}

# sli_source = skserve: the memory objective's burn-rate alerts, the same tiers and windows as
# the other SLOs, in PromQL (one condition per policy: Cloud Monitoring allows no other with a
# PromQL one, so both windows are in the query).
resource "google_monitoring_alert_policy" "memory_burn_rate" {
  for_each = local.memory_burn_alerts

  project               = var.project_id
  display_name          = "skserve ${each.value.slo}: ${each.value.tier} (burn > ${each.value.burn}x over ${each.value.long} and ${each.value.short})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = each.value.tier == "page" ? "CRITICAL" : "WARNING"

  conditions {
    display_name = "resident memory of the largest instance at or above ${local.slos[each.value.slo].limit_bytes} bytes, burning the budget over ${each.value.long} and ${each.value.short}"
    condition_prometheus_query_language {
      query               = each.value.query
      duration            = "0s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An skserve instance's resident memory (process_resident_memory_bytes) is at or above ${local.slos[each.value.slo].limit_bytes / 1048576} MiB often enough to spend the memory objective's budget ${each.value.burn}x faster than it allows: a larger model, or a leak. Check the skserve dashboard and /slo."
  }
}

# sli_source = cloud_run: the container's memory utilisation above the memory objective.
resource "google_monitoring_alert_policy" "memory" {
  count = var.sli_source == "cloud_run" && local.memory_slo != null ? 1 : 0

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
