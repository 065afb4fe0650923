variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid project ID (6-30 lowercase letters, digits and hyphens)."
  }
}

variable "regions" {
  description = "Regions to run skserve in. More than one puts a global HTTPS load balancer in front (requires domain)."
  type        = list(string)
  default     = ["us-central1"]

  validation {
    condition     = length(var.regions) >= 1 && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must list at least one region, each once."
  }
}

variable "service_name" {
  description = "Name of the Cloud Run service in every region (also the Monitoring service and image name)."
  type        = string
  default     = "skserve"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.service_name))
    error_message = "service_name must be a valid Cloud Run service name."
  }
}

variable "image" {
  description = "Container image to run, e.g. us-central1-docker.pkg.dev/PROJECT/skserve/skserve:TAG (see cloudbuild.yaml). Empty: the :latest image of the Artifact Registry repository this configuration creates."
  type        = string
  default     = ""
}

variable "min_instances" {
  description = "Instances kept warm in each region (the seed's improvement #3: no cold start on the first request)."
  type        = number
  default     = 1

  validation {
    condition     = var.min_instances >= 0 && var.min_instances <= 100
    error_message = "min_instances must be between 0 and 100."
  }
}

variable "max_instances" {
  description = "Upper bound on instances in each region."
  type        = number
  default     = 10

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 1000
    error_message = "max_instances must be between 1 and 1000."
  }
}

variable "cpu" {
  description = "vCPUs per instance for skserve (Cloud Run accepts 1, 2, 4, 6 or 8 with always-allocated CPU); the collector's collector_cpu comes on top, within Cloud Run's 8 per instance."
  type        = string
  default     = "1"

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.cpu)
    error_message = "cpu must be one of 1, 2, 4, 6, 8."
  }
}

variable "memory" {
  description = "Memory limit per instance. Half of it is the loading budget of a model (SKSERVE_MAX_MODEL_BYTES, run.tf). The memory SLO (monitoring/slos.yaml) is stated against 256 MiB; skserve uses a few tens of MiB beyond its model."
  type        = string
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must be a quantity such as 512Mi or 1Gi."
  }
}

variable "concurrency" {
  description = "Requests one instance takes at once before Cloud Run starts another."
  type        = number
  default     = 250

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "concurrency must be between 1 and 1000."
  }
}

variable "invokers" {
  description = "IAM members allowed to call the service (user:…, serviceAccount:…, group:…, domain:…). allUsers is refused."
  type        = list(string)

  validation {
    condition     = length(var.invokers) > 0 && alltrue([for m in var.invokers : can(regex("^(user|serviceAccount|group|domain):", m))])
    error_message = "invokers must name at least one member, each as user:, serviceAccount:, group: or domain: (never allUsers)."
  }
}

variable "allowed_cidrs" {
  description = "Source ranges allowed through the load balancer's Cloud Armor policy (the seed's IP access restrictions). Empty: any source (IAM and token checks still apply)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "allowed_cidrs must hold CIDR ranges such as 203.0.113.0/24 or 2001:db8::/32."
  }
}

variable "domain" {
  description = "Domain for the global HTTPS load balancer's managed certificate. Empty: no load balancer, each region's run.app URL is called directly (only with a single region)."
  type        = string
  default     = ""
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel IDs (projects/…/notificationChannels/…) for SLO and memory alerts."
  type        = list(string)
  default     = []
}

variable "model_path" {
  description = "Local model file uploaded to the model bucket (pickle or joblib; loaded by skserve without executing it)."
  type        = string
  default     = "../model-files/pickle_model.pkl"
}

variable "auth_allow" {
  description = "Callers skserve itself admits after checking their Google ID token (exact emails, *@domain, hd=domain). Empty: any valid token for the service's audience."
  type        = list(string)
  default     = []
}

variable "sli_source" {
  description = "What the Cloud Monitoring SLOs, alerts and dashboard read: skserve (its own histogram, counters and memory gauge, through the managed-Prometheus sidecar: the time skserve spends, by route) or cloud_run (the platform's request_count, request_latencies and memory utilisation: what callers wait on, Google's front end included)."
  type        = string
  default     = "skserve"

  validation {
    condition     = contains(["skserve", "cloud_run"], var.sli_source)
    error_message = "sli_source must be skserve or cloud_run."
  }
}

variable "collector_image" {
  description = "Google's managed-Prometheus sidecar for Cloud Run (it scrapes skserve's admin port and writes to Cloud Monitoring). Pinned: a version tag or a digest, never latest."
  type        = string
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(/[a-z0-9._-]+)+(:[0-9]+\\.[0-9]+\\.[0-9]+[A-Za-z0-9._-]*|@sha256:[0-9a-f]{64})$", var.collector_image))
    error_message = "collector_image must be pinned: REGISTRY/PATH:MAJOR.MINOR.PATCH or REGISTRY/PATH@sha256:DIGEST (not latest, not a floating tag)."
  }
}

variable "collector_cpu" {
  description = "vCPUs of the collector sidecar, billed on top of cpu for every instance (CPU is always allocated). 1 is what Cloud Run gives a container that sets none; a fraction such as 0.5 costs less where Cloud Run accepts it beside skserve's cpu."
  type        = number
  default     = 1

  validation {
    condition     = var.collector_cpu >= 0.08 && var.collector_cpu <= 2
    error_message = "collector_cpu must be between 0.08 and 2 vCPUs."
  }
}

variable "collector_memory" {
  description = "Memory limit of the collector sidecar (it holds one scrape of skserve's metrics: a few tens of MiB)."
  type        = string
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.collector_memory))
    error_message = "collector_memory must be a quantity such as 256Mi or 512Mi."
  }
}

variable "private_network" {
  description = "Direct VPC egress into a subnet of a VPC network: Google's APIs (Cloud Storage, the token issuer's keys, Cloud Monitoring) through Private Google Access, everything else refused by firewall rules. false: instances reach those APIs, and anything else, over the internet."
  type        = bool
  default     = true
}

variable "network" {
  description = "An existing VPC network of the project (its name) to send the instances' egress into; it needs a route to 199.36.153.8/30 (its default route does). Empty: a network is created, with no route to the internet."
  type        = string
  default     = ""

  validation {
    condition     = var.network == "" || can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.network))
    error_message = "network must be the name of a VPC network of the project (or empty to create one)."
  }
}

variable "subnets" {
  description = "Existing subnets of network by region ({region = name}), each with Private Google Access on. Regions not listed get a subnet cut from subnet_range."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for r, s in var.subnets : contains(var.regions, r) && can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", s))])
    error_message = "subnets must map regions of regions to subnet names."
  }
}

variable "subnet_range" {
  description = "Range the created subnets are cut from, one /20 per region (4,096 addresses; Direct VPC egress takes about two per instance)."
  type        = string
  default     = "10.8.0.0/16"

  validation {
    condition     = can(cidrhost(var.subnet_range, 0)) && can(regex("^[0-9.]+/([0-9]|1[0-6])$", var.subnet_range))
    error_message = "subnet_range must be an IPv4 range of /16 or larger, such as 10.8.0.0/16."
  }
}

variable "google_apis_dns_zone" {
  description = "Create the private Cloud DNS zone that resolves *.googleapis.com to private.googleapis.com in network. false when the network already has one."
  type        = bool
  default     = true
}

variable "ingress" {
  description = "Who may reach the service: all (any source with a token, through the load balancer when domain is set) or internal (only VPC networks of the project, through Private Google Access or an internal Application Load Balancer: callers inside the VPC)."
  type        = string
  default     = "all"

  validation {
    condition     = contains(["all", "internal"], var.ingress)
    error_message = "ingress must be all or internal."
  }

  validation {
    condition     = var.ingress == "all" || var.domain == ""
    error_message = "ingress = internal admits no external load balancer: leave domain empty (several regions then need their own internal load balancer)."
  }
}

variable "ready_after_first_scrape" {
  description = "Instances take traffic only once the managed-Prometheus sidecar has scraped them, so that the SLOs count every request from an instance's first second (about 10 s more per cold start; see the README). false: the sidecar starts once skserve is ready, and what an instance answers before the sidecar's first scrape reaches Cloud Monitoring only through the start time the sidecar gives each counter (skserve's process_start_time_seconds)."
  type        = bool
  default     = true
}
