# One dashboard: SLO compliance and budget, latency percentiles, request rate, errors, memory,
# read from the same series as the SLOs (var.sli_source); and model health, from skserve's own.

locals {
  slo_tiles = flatten([
    for name, s in local.cloud_monitoring_slos : [
      {
        title  = "${name}: compliance (objective ${s.objective_percent} %${local.budget_scale[name] != 1 ? ", declared ${format("%.6g", local.goals[name] * 100)} % (Cloud Monitoring's cap): burn thresholds scaled by ${format("%.4g", local.budget_scale[name])}" : ""})"
        filter = "select_slo_compliance(\"${google_monitoring_slo.slo[name].name}\")"
      },
      {
        title  = "${name}: error budget remaining"
        filter = "select_slo_budget_fraction(\"${google_monitoring_slo.slo[name].name}\")"
      },
    ]
  ])

  # The same series as the SLOs (var.sli_source): skserve's own, or the platform's.
  metric_tiles = {
    skserve = concat(
      [
        for p in ["50", "90", "99"] : {
          title  = "Latency p${p} (s), user routes, not 4xx"
          filter = local.sli.latency_filter
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_DELTA"
            crossSeriesReducer = "REDUCE_PERCENTILE_${p}"
            groupByFields      = ["resource.labels.location"]
          }
        }
      ],
      [
        {
          title  = "Requests per second by code, user routes"
          filter = "${local.skserve_requests} AND ${local.user_routes}"
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_RATE"
            crossSeriesReducer = "REDUCE_SUM"
            groupByFields      = ["metric.labels.code"]
          }
        },
        {
          title  = "Errors per second (5xx and 429 sheds), user routes"
          filter = "${local.skserve_requests} AND ${local.user_routes} AND ${local.skserve_bad}"
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_RATE"
            crossSeriesReducer = "REDUCE_SUM"
            groupByFields      = ["resource.labels.location"]
          }
        },
        {
          title  = "Resident memory (bytes), largest instance"
          filter = local.skserve_memory
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_MAX"
            crossSeriesReducer = "REDUCE_MAX"
            groupByFields      = ["resource.labels.location"]
          }
        },
        {
          title  = "Instances scraped"
          filter = local.skserve_memory
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_MEAN"
            crossSeriesReducer = "REDUCE_COUNT"
            groupByFields      = ["resource.labels.location"]
          }
        },
      ],
    )
    cloud_run = concat(
      [
        for p in ["50", "90", "99"] : {
          title  = "Latency p${p} (ms)"
          filter = local.latency_metric
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_PERCENTILE_${p}"
            crossSeriesReducer = "REDUCE_MAX"
            groupByFields      = ["resource.labels.location"]
          }
        }
      ],
      [
        {
          title  = "Requests per second by response class"
          filter = local.request_count
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_RATE"
            crossSeriesReducer = "REDUCE_SUM"
            groupByFields      = ["metric.labels.response_code_class"]
          }
        },
        {
          title  = "Errors per second (5xx and 429 sheds)"
          filter = "${local.request_count} AND ${local.bad}"
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_RATE"
            crossSeriesReducer = "REDUCE_SUM"
            groupByFields      = ["resource.labels.location"]
          }
        },
        {
          title  = "Memory utilisation p99 (fraction of the limit)"
          filter = local.memory_metric
          agg = {
            alignmentPeriod    = "60s"
            perSeriesAligner   = "ALIGN_PERCENTILE_99"
            crossSeriesReducer = "REDUCE_MAX"
            groupByFields      = ["resource.labels.location"]
          }
        },
      ],
    )
  }[var.sli_source]

  # Model health, whatever sli_source says: the platform knows nothing of it. Each instance's
  # drift is its own; the fleet's, from every instance's bins, is on skserve's /slo page.
  health_tiles = [
    {
      title  = "Rows with a data-quality issue per second, by model"
      filter = local.health_sli.with_issues
      agg = {
        alignmentPeriod    = "60s"
        perSeriesAligner   = "ALIGN_RATE"
        crossSeriesReducer = "REDUCE_SUM"
        groupByFields      = ["metric.labels.model"]
      }
    },
    {
      title  = "Drift: PSI over the last hour, by model and column (largest instance)"
      filter = "metric.type=\"prometheus.googleapis.com/skserve_feature_drift/gauge\" AND ${local.skserve_target} AND metric.labels.statistic = \"psi\" AND metric.labels.window = \"1h\""
      agg = {
        alignmentPeriod    = "60s"
        perSeriesAligner   = "ALIGN_MAX"
        crossSeriesReducer = "REDUCE_MAX"
        groupByFields      = ["metric.labels.model", "metric.labels.feature"]
      }
    },
  ]

  # Under sli_source = skserve the memory objective has no SLO object: its SLI and budget come
  # from the same PromQL as its alerts. The 30-day budget samples every 5 minutes, which keeps
  # the dashboard's query light; the alerts sample every scrape.
  memory_tiles = [
    for s in local.slo_spec.slos : [
      {
        title = "${s.name}: share of time under ${s.limit_bytes / 1048576} MiB, over 1 h (objective ${s.objective_percent} %)"
        query = "1 - ${local.memory_bad_ratio[s.name]["3600s"]}"
      },
      {
        title = "${s.name}: error budget remaining over ${s.window}"
        query = "1 - avg_over_time((max(process_resident_memory_bytes{${local.memory_selector}}) >= bool ${s.limit_bytes})[${s.window}:5m]) / (1 - ${s.objective_percent} / 100)"
      },
    ] if s.kind == "memory" && var.sli_source == "skserve"
  ]

  chart_tiles = concat(
    [for t in local.slo_tiles : {
      title = t.title
      xyChart = {
        dataSets = [{
          plotType        = "LINE"
          timeSeriesQuery = { timeSeriesFilter = { filter = t.filter } }
        }]
      }
    }],
    [for t in flatten(local.memory_tiles) : {
      title = t.title
      xyChart = {
        dataSets = [{
          plotType        = "LINE"
          timeSeriesQuery = { prometheusQuery = t.query }
        }]
      }
    }],
    [for t in concat(local.metric_tiles, local.health_tiles) : {
      title = t.title
      xyChart = {
        dataSets = [{
          plotType        = "LINE"
          timeSeriesQuery = { timeSeriesFilter = { filter = t.filter, aggregation = t.agg } }
        }]
      }
    }],
  )
}

resource "google_monitoring_dashboard" "skserve" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "skserve SLOs"
    mosaicLayout = {
      columns = 12
      tiles = [
        for i, widget in local.chart_tiles : {
          xPos   = (i % 2) * 6
          yPos   = floor(i / 2) * 4
          width  = 6
          height = 4
          widget = widget
        }
      ]
    }
  })
}
