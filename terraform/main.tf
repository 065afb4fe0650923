# Project services, the image repository, the model bucket and skserve's service account (the
# sidecar's configuration and the roles that go with it are in prometheus.tf).

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  apis = [
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "storage.googleapis.com",
    "monitoring.googleapis.com",
    "logging.googleapis.com",
    "iam.googleapis.com",
    "cloudbuild.googleapis.com",
    "compute.googleapis.com",
    "secretmanager.googleapis.com",
    "dns.googleapis.com",
  ]
  image          = var.image != "" ? var.image : "${var.regions[0]}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/skserve:latest"
  model_object   = "models/${basename(var.model_path)}"
  model_uri      = "gs://${google_storage_bucket.models.name}/${local.model_object}"
  load_balancer  = var.domain != ""
  public_origin  = local.load_balancer ? "https://${var.domain}" : null
  project_number = data.google_project.this.number
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:The repository holds only skserve's image, built from this public source; it holds no secret or user data, Google encrypts it at rest, and a customer-managed key would add a KMS key ring and a service-agent binding that protect nothing here.
  project       = var.project_id
  location      = var.regions[0]
  repository_id = var.service_name
  format        = "DOCKER"
  description   = "skserve container images (built by cloudbuild.yaml)."

  depends_on = [google_project_service.apis]
}

# Versioned, so a bad model can be rolled back by restoring an older generation; skserve
# notices the new generation and swaps it in.
resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Usage logs need a second bucket (which would itself be flagged) for a bucket only skserve's service account can read; changes to its configuration and IAM are in Cloud Audit Logs' admin activity log, object reads and writes in its Data Access log where the organisation enables it.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.service_name}-models"
  location                    = "US"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 10
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "model" {
  bucket = google_storage_bucket.models.name
  name   = local.model_object
  source = var.model_path
}

resource "google_service_account" "skserve" {
  project      = var.project_id
  account_id   = "${var.service_name}-run"
  display_name = "skserve on Cloud Run"
  description  = "Reads the model bucket and the sidecar's configuration, writes logs, writes and reads metrics; nothing else."

  depends_on = [google_project_service.apis]
}

# Least privilege: read objects of the model bucket only.
resource "google_storage_bucket_iam_member" "model_reader" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.skserve.member
}

resource "google_project_iam_member" "metric_writer" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.skserve.member
}

resource "google_project_iam_member" "log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.skserve.member
}
