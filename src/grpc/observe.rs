//! What every gRPC call passes, as every REST request passes the HTTP middleware: load
//! shedding (the same admission, so one `--max-concurrency` and one standing-queue rule hold
//! across both protocols), the access checks (an ID token in the `authorization` metadata,
//! `--allow-cidr`), the request timeout counted from arrival (or the client's own
//! `grpc-timeout`, when shorter), metrics by method, one SLO event and at most one access log
//! line per call. Then the call goes to the service its path names.
//!
//! Like the REST probes, `ServerLive`, `ServerReady` and the health check need no token and are
//! never shed: probes carry no token, and a shed probe would get a busy instance restarted.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::{Request as HttpRequest, Response as HttpResponse};
use hyper::body::Incoming;
use tonic::body::Body;
use tonic::{Code, Status};
use tower::Service;

use super::generated::health::health_server::HealthServer;
use super::generated::inference::grpc_inference_service_server::GrpcInferenceServiceServer;
use super::service::{HealthService, InferenceService};
use super::status::{of_unreadable_request, outcome, rest_equivalent};
use crate::auth::{AuthError, TokenError};
use crate::server::Arrived;
use crate::service::{AppState, Arrival, admit, arrival};
use crate::telemetry::ACCESS_TARGET;

/// The calls served, each a route label of its own; anything else is `unmatched`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    ServerLive,
    ServerReady,
    ModelReady,
    ServerMetadata,
    ModelMetadata,
    ModelInfer,
    HealthCheck,
    Unknown,
}

const CALLS: [(&str, Call); 7] = [
    (
        "/inference.GRPCInferenceService/ServerLive",
        Call::ServerLive,
    ),
    (
        "/inference.GRPCInferenceService/ServerReady",
        Call::ServerReady,
    ),
    (
        "/inference.GRPCInferenceService/ModelReady",
        Call::ModelReady,
    ),
    (
        "/inference.GRPCInferenceService/ServerMetadata",
        Call::ServerMetadata,
    ),
    (
        "/inference.GRPCInferenceService/ModelMetadata",
        Call::ModelMetadata,
    ),
    (
        "/inference.GRPCInferenceService/ModelInfer",
        Call::ModelInfer,
    ),
    ("/grpc.health.v1.Health/Check", Call::HealthCheck),
];

/// The route label of every call skserve does not serve.
const UNMATCHED: &str = "unmatched";

impl Call {
    fn of(path: &str) -> (Self, &'static str) {
        CALLS
            .iter()
            .find(|(route, _)| *route == path)
            .map_or((Self::Unknown, UNMATCHED), |&(route, call)| (call, route))
    }

    /// Probes: open to callers without a token, and never shed.
    fn is_probe(self) -> bool {
        matches!(
            self,
            Self::ServerLive | Self::ServerReady | Self::HealthCheck
        )
    }
}

/// The gRPC service of one server: the middleware above, then the V2 calls or the health
/// check. Cheap to clone (one per connection).
#[derive(Clone)]
pub struct GrpcService {
    state: AppState,
    inference: GrpcInferenceServiceServer<InferenceService>,
    health: HealthServer<HealthService>,
}

impl GrpcService {
    pub fn new(state: AppState) -> Self {
        // A message is a request body: the same bound as REST bodies.
        let inference = GrpcInferenceServiceServer::new(InferenceService {
            state: state.clone(),
        })
        .max_decoding_message_size(state.limits.max_body_bytes);
        let health = HealthServer::new(HealthService {
            state: state.clone(),
        })
        .max_decoding_message_size(state.limits.max_body_bytes);
        Self {
            state,
            inference,
            health,
        }
    }
}

type Answer = HttpResponse<Body>;

impl Service<HttpRequest<Incoming>> for GrpcService {
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequest<Incoming>) -> Self::Future {
        let state = self.state.clone();
        let Arrival {
            arrived: start,
            handler_start,
            queue_wait,
        } = arrival(&state, request.extensions());
        let (call, route) = Call::of(request.uri().path());
        let access = tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG)
            .then(|| request.uri().path().to_owned());
        let permit = if call.is_probe() {
            None
        } else {
            match admit(&state, request.extensions(), handler_start, queue_wait) {
                Ok(permit) => Some(permit),
                Err(overload) => {
                    state
                        .metrics
                        .shed
                        .with_label_values(&[overload.reason()])
                        .inc();
                    let status = Status::unavailable(format!("{overload}; retry shortly"));
                    let answer = record(&state, route, status.into_http(), start, true, access);
                    return Box::pin(std::future::ready(Ok(answer)));
                }
            }
        };
        let deadline = start + timeout(&request, state.limits.request_timeout);
        let peer = Arrived::of(request.extensions()).map(|arrived| arrived.peer.ip());
        let health = request.uri().path().starts_with("/grpc.health.v1.Health/");
        let (mut inference_calls, mut health_checks) =
            (self.inference.clone(), self.health.clone());
        Box::pin(async move {
            let _permit = permit;
            let answering = async {
                if !call.is_probe()
                    && let Err(refused) = state.access.authorize(peer, request.headers()).await
                {
                    return refusal(&refused).into_http();
                }
                let answered = if health {
                    health_checks.call(request).await
                } else {
                    inference_calls.call(request).await
                };
                match answered {
                    Ok(answer) => answer,
                    Err(never) => match never {},
                }
            };
            let answer = match tokio::time::timeout_at(deadline.into(), answering).await {
                Ok(answer) => match answer
                    .extensions()
                    .get::<Status>()
                    .and_then(of_unreadable_request)
                {
                    Some(refusal) => refusal.into_http(),
                    None => answer,
                },
                Err(_) => Status::deadline_exceeded(format!(
                    "the call took longer than {:?} and was abandoned",
                    deadline.saturating_duration_since(start)
                ))
                .into_http(),
            };
            Ok(record(&state, route, answer, start, false, access))
        })
    }
}

/// How long a call may take from its arrival: `--request-timeout`, or the caller's
/// `grpc-timeout` when that is shorter.
fn timeout(request: &HttpRequest<Incoming>, request_timeout: Duration) -> Duration {
    request
        .headers()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .map_or(request_timeout, |asked| asked.min(request_timeout))
}

/// A `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The status a call ended with: a refusal's trailers-only status, else OK (a unary answer's
/// status follows its message, and only an encoding fault could make that one an error).
fn code_of(answer: &Answer) -> Code {
    if let Some(status) = answer.extensions().get::<Status>() {
        return status.code();
    }
    answer
        .headers()
        .get(Status::GRPC_STATUS)
        .map_or(Code::Ok, |code| Code::from_bytes(code.as_bytes()))
}

/// Records a call as REST requests are recorded, and hands its answer on.
fn record(
    state: &AppState,
    route: &'static str,
    answer: Answer,
    start: Instant,
    shed: bool,
    access: Option<String>,
) -> Answer {
    let elapsed = start.elapsed();
    let code = code_of(&answer);
    let rest = rest_equivalent(code);
    state
        .metrics
        .observe_http(route, "POST", rest, elapsed.as_secs_f64());
    if state
        .slo
        .record_request(route, outcome(code), elapsed.as_secs_f64())
    {
        state.first_scrape.note_event();
    }
    // As for REST: a shed is counted, not logged, and server faults are always logged.
    let fault = rest >= 500 && !shed;
    if fault || access.is_some() {
        let path = access.as_deref().unwrap_or(route);
        let latency = elapsed.as_secs_f64();
        if fault {
            // A fault's message is what an operator needs to tell its cause.
            let message = answer
                .extensions()
                .get::<Status>()
                .map(|status| status.message().to_owned())
                .unwrap_or_default();
            tracing::error!(target: ACCESS_TARGET, route, grpc.status = ?code, grpc.message = %message, http.latency = latency, "gRPC {path} answered {code:?}");
        } else {
            tracing::debug!(target: ACCESS_TARGET, route, grpc.status = ?code, http.latency = latency, "gRPC {path} {code:?}");
        }
    }
    answer
}

/// The status refusing access, as REST refuses it: no or a bad token `UNAUTHENTICATED`, an
/// account or address not allowed `PERMISSION_DENIED`, keys never fetched `UNAVAILABLE`.
pub fn refusal(error: &AuthError) -> Status {
    let message = format!("{error} ({})", error.reason());
    match error {
        AuthError::Missing => Status::unauthenticated(message),
        AuthError::Invalid(TokenError::KeysUnavailable) => Status::unavailable(message),
        AuthError::Invalid(_) => Status::unauthenticated(message),
        AuthError::Refused(_) | AuthError::Address(_) => Status::permission_denied(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_as_the_protocol_writes_them() {
        assert_eq!(parse_grpc_timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("999999999S"), None, "nine digits");
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn calls_are_labelled_by_their_path_and_only_probes_are_open() {
        assert_eq!(
            Call::of("/inference.GRPCInferenceService/ModelInfer"),
            (
                Call::ModelInfer,
                "/inference.GRPCInferenceService/ModelInfer"
            )
        );
        assert_eq!(
            Call::of("/inference.GRPCInferenceService/ModelStreamInfer").1,
            UNMATCHED
        );
        assert!(Call::of("/grpc.health.v1.Health/Check").0.is_probe());
        assert!(
            !Call::of("/inference.GRPCInferenceService/ModelMetadata")
                .0
                .is_probe()
        );
        assert!(!Call::Unknown.is_probe());
    }
}
