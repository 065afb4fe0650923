# Terraform and provider versions. The google provider is pinned to one major version so a
# `terraform init` next year resolves the same resource schemas this code was written against.
terraform {
  # 1.9: variable validations that refer to other variables (ingress and domain).
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.14"
    }
  }

  # State holds no secrets here, but keep it remote in production, e.g.:
  # backend "gcs" {
  #   bucket = "my-terraform-state"
  #   prefix = "skserve"
  # }
}

provider "google" {
  project = var.project_id
}
