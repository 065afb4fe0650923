# One dashboard: SLO compliance and budget, latency percentiles, request rate, errors, memory.

locals {
  slo_tiles = flatten([
    for name, s in local.slos : [
      {
        title  = "${name}: compliance (objective ${s.objective_percent} %${local.budget_scale[name] != 1 ? ", declared ${local.goals[name] * 100} % (Cloud Monitoring's cap): burn thresholds scaled by ${local.budget_scale[name]}" : ""})"
        filter = "select_slo_compliance(\"${google_monitoring_slo.slo[name].name}\")"
      },
      {
        title  = "${name}: error budget remaining"
        filter = "select_slo_budget_fraction(\"${google_monitoring_slo.slo[name].name}\")"
      },
    ]
  ])

  metric_tiles = [
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
  ]

  rate_tiles = [
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
    [for t in concat(local.metric_tiles, local.rate_tiles) : {
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
