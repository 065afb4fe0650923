//! The calls of `inference.GRPCInferenceService` and `grpc.health.v1.Health`, over the same
//! [`AppState`] as the REST API: the same models, readiness and limits, and the same inference
//! (`crate::inference`). Shedding, access checks, the timeout and what is recorded of each call
//! happen before these run (`observe`).

use tonic::{Request, Response, Status};

use super::generated::health::health_check_response::ServingStatus;
use super::generated::health::health_server::Health;
use super::generated::health::{HealthCheckRequest, HealthCheckResponse};
use super::generated::inference::grpc_inference_service_server::{
    GrpcInferenceService, SERVICE_NAME,
};
use super::generated::inference::model_metadata_response::TensorMetadata;
use super::generated::inference::{
    ModelInferRequest, ModelInferResponse, ModelMetadataRequest, ModelMetadataResponse,
    ModelReadyRequest, ModelReadyResponse, ServerLiveRequest, ServerLiveResponse,
    ServerMetadataRequest, ServerMetadataResponse, ServerReadyRequest, ServerReadyResponse,
};
use super::status::{from_infer_error, from_lookup, internal};
use super::tensors::{request_of, response_of};
use crate::inference;
use crate::registry::LoadedModel;
use crate::service::AppState;

/// The V2 calls.
pub struct InferenceService {
    pub state: AppState,
}

impl InferenceService {
    /// The named model, at `version` unless it is empty.
    fn model(
        &self,
        name: &str,
        version: &str,
    ) -> Result<arc_swap::Guard<std::sync::Arc<LoadedModel>>, Status> {
        let found = if version.is_empty() {
            self.state.model(name)
        } else {
            self.state.model_version(name, version)
        };
        found.map_err(from_lookup)
    }
}

#[tonic::async_trait]
impl GrpcInferenceService for InferenceService {
    async fn server_live(
        &self,
        _: Request<ServerLiveRequest>,
    ) -> Result<Response<ServerLiveResponse>, Status> {
        Ok(Response::new(ServerLiveResponse { live: true }))
    }

    async fn server_ready(
        &self,
        _: Request<ServerReadyRequest>,
    ) -> Result<Response<ServerReadyResponse>, Status> {
        Ok(Response::new(ServerReadyResponse {
            ready: self.state.is_ready(),
        }))
    }

    async fn model_ready(
        &self,
        request: Request<ModelReadyRequest>,
    ) -> Result<Response<ModelReadyResponse>, Status> {
        let request = request.into_inner();
        self.model(&request.name, &request.version)?;
        Ok(Response::new(ModelReadyResponse {
            ready: self.state.is_ready(),
        }))
    }

    async fn server_metadata(
        &self,
        _: Request<ServerMetadataRequest>,
    ) -> Result<Response<ServerMetadataResponse>, Status> {
        Ok(Response::new(ServerMetadataResponse {
            name: "skserve".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            extensions: inference::EXTENSIONS.iter().map(|&e| e.into()).collect(),
        }))
    }

    async fn model_metadata(
        &self,
        request: Request<ModelMetadataRequest>,
    ) -> Result<Response<ModelMetadataResponse>, Status> {
        let request = request.into_inner();
        let loaded = self.model(&request.name, &request.version)?;
        let model = loaded.model();
        let tensors = |tensors: Vec<inference::TensorMetadata>| {
            tensors
                .into_iter()
                .map(|t| TensorMetadata {
                    name: t.name,
                    datatype: t.datatype.name().into(),
                    shape: t.shape.to_vec(),
                })
                .collect()
        };
        Ok(Response::new(ModelMetadataResponse {
            name: loaded.name().into(),
            versions: vec![loaded.version().into()],
            platform: model.platform().into(),
            inputs: tensors(inference::inputs_of(model)),
            outputs: tensors(inference::outputs_of(model)),
        }))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn model_infer(
        &self,
        request: Request<ModelInferRequest>,
    ) -> Result<Response<ModelInferResponse>, Status> {
        let mut message = request.into_inner();
        let loaded = self.model(&message.model_name, &message.model_version)?;
        let id = std::mem::take(&mut message.id);
        let (request, asked) = request_of(&mut message)?;
        let inference = self
            .state
            .infer(&loaded, request)
            .map_err(from_infer_error)?;
        let explanations = inference
            .explanations()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| internal(&e.to_string()))?;
        Ok(Response::new(response_of(
            loaded.name(),
            loaded.version(),
            id,
            &inference,
            asked,
            explanations,
        )))
    }
}

/// gRPC's health checks: `SERVING` while the server takes requests, `NOT_SERVING` once it
/// drains (or before the token issuer's keys are fetched), like `/v2/health/ready`.
pub struct HealthService {
    pub state: AppState,
}

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if !(service.is_empty() || service == SERVICE_NAME) {
            return Err(Status::not_found(format!(
                "no service '{service}'; this server has '{SERVICE_NAME}' (or '' for the server)"
            )));
        }
        let status = if self.state.is_ready() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        Ok(Response::new(HealthCheckResponse {
            status: status as i32,
        }))
    }
}
