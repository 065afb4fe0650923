//! gRPC statuses: what an inference's refusal ([`InferError`]) and an unknown model
//! ([`LookupError`]) become, and how a status is counted.
//!
//! Refusals keep their REST meaning: a malformed request is `INVALID_ARGUMENT` (400, 422), a
//! message or batch over the limits `RESOURCE_EXHAUSTED` (413), an unknown model `NOT_FOUND`,
//! a shed, a drain or missing keys `UNAVAILABLE` (503), the request timeout
//! `DEADLINE_EXCEEDED`. gRPC itself answers HTTP 200 whatever the outcome, so the metrics'
//! `code` label carries the status the REST API answers for the same outcome
//! ([`rest_equivalent`]), and the SLOs count a call as they count that status: the Prometheus
//! rules and the dashboards need nothing of their own for gRPC.

use tonic::{Code, Status};

use crate::inference::InferError;
use crate::service::LookupError;
use crate::slo::Outcome;

/// What an internal error of skserve's says: the detail is logged, never sent.
const INTERNAL: &str = "internal error";

/// The status refusing an inference: the caller's mistake, or more than the limits allow.
pub fn from_infer_error(error: InferError) -> Status {
    let code = match &error {
        InferError::Invalid(_) | InferError::Unprocessable(_) | InferError::NoSuchOutput { .. } => {
            Code::InvalidArgument
        }
        InferError::TooManyRows { .. } => Code::ResourceExhausted,
    };
    Status::new(code, error.to_string())
}

/// The status of a model or version that is not served.
pub fn from_lookup(error: LookupError) -> Status {
    Status::not_found(error.to_string())
}

/// The status of a fault of skserve's: the detail is logged, never sent.
pub fn internal(detail: &str) -> Status {
    tracing::error!(detail = %detail, "internal error answering a gRPC call");
    Status::internal(INTERNAL)
}

/// tonic's refusal of a request message it could not read, as skserve says it: a malformed
/// frame or protobuf message (which tonic answers `INTERNAL`) is `INVALID_ARGUMENT`, a message
/// over the limit (`OUT_OF_RANGE`) is `RESOURCE_EXHAUSTED`, so that both count as the caller's
/// mistakes, as REST's 400 and 413 do, and a message cut off by the transport is `CANCELLED`
/// (499, as a client that closed its request). `None` for any other status. Only tonic's decoding says
/// `INTERNAL` with another message than skserve's own.
pub fn of_unreadable_request(status: &Status) -> Option<Status> {
    let message = status.message();
    match status.code() {
        Code::Internal if message != INTERNAL => Some(Status::invalid_argument(format!(
            "the request message cannot be read: {message}"
        ))),
        Code::OutOfRange if message.contains("message length too large") => {
            Some(Status::resource_exhausted(format!(
                "the request message is larger than the limit (--max-body-bytes): {message}"
            )))
        }
        // A request stream that broke at the transport (the caller reset it, or its
        // connection closed) before the message was whole: the caller left, nothing failed
        // here, and counting it as a fault would spend the error budget on hang-ups.
        Code::Unknown if transport_broke(status) => Some(Status::cancelled(format!(
            "the request stream broke before the message was whole: {message}"
        ))),
        _ => None,
    }
}

/// Whether tonic's `UNKNOWN` says the request could not be read from the connection: hyper's
/// own error beneath it (not a parse error, not one of skserve's), or the message tonic gives
/// an HTTP/2 error without a reason.
fn transport_broke(status: &Status) -> bool {
    let hyper = std::error::Error::source(status).and_then(|e| e.downcast_ref::<hyper::Error>());
    match hyper {
        Some(error) => !error.is_parse() && !error.is_user(),
        None => status.message().starts_with("h2 protocol error"),
    }
}

/// The HTTP status the REST API answers for the outcome `code` stands for.
pub fn rest_equivalent(code: Code) -> u16 {
    match code {
        Code::Ok => 200,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        // An unknown method is an unknown route.
        Code::NotFound | Code::Unimplemented => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::ResourceExhausted => 413,
        // nginx's "client closed request": the caller gave up, nothing failed here.
        Code::Cancelled => 499,
        Code::Unavailable => 503,
        Code::DeadlineExceeded => 504,
        Code::Unknown | Code::Internal | Code::DataLoss => 500,
    }
}

/// How the SLOs count a call that ended with `code`.
pub fn outcome(code: Code) -> Outcome {
    match rest_equivalent(code) {
        200..=399 => Outcome::Answered,
        429 => Outcome::Throttled,
        400..=499 => Outcome::CallerMistake,
        _ => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_rest_meaning() {
        let cases = [
            (
                from_infer_error(InferError::Invalid("x".into())),
                Code::InvalidArgument,
                400,
            ),
            (
                from_infer_error(InferError::TooManyRows { rows: 2, limit: 1 }),
                Code::ResourceExhausted,
                413,
            ),
            (
                from_lookup(LookupError::ModelNotFound("m".into())),
                Code::NotFound,
                404,
            ),
        ];
        for (status, code, rest) in cases {
            assert_eq!(status.code(), code);
            assert_eq!(rest_equivalent(status.code()), rest);
        }
        assert_eq!(rest_equivalent(Code::Unavailable), 503);
        assert_eq!(rest_equivalent(Code::DeadlineExceeded), 504);
        let internal = internal("secret detail");
        assert_eq!(internal.message(), "internal error");
    }

    #[test]
    fn tonic_refusing_a_message_is_the_callers_mistake_and_ours_is_not() {
        let malformed = Status::internal("failed to decode Protobuf message: invalid wire type");
        let read = of_unreadable_request(&malformed).unwrap();
        assert_eq!(read.code(), Code::InvalidArgument);
        assert!(read.message().contains("invalid wire type"));
        let large = Status::out_of_range("Error, decoded message length too large: found 9 bytes");
        assert_eq!(
            of_unreadable_request(&large).unwrap().code(),
            Code::ResourceExhausted
        );
        let cut_off = Status::unknown("h2 protocol error: error reading a body from connection");
        let read = of_unreadable_request(&cut_off).unwrap();
        assert_eq!(read.code(), Code::Cancelled);
        assert_eq!(rest_equivalent(read.code()), 499);
        assert!(of_unreadable_request(&Status::unknown("something else")).is_none());
        let ours = internal("x");
        assert!(of_unreadable_request(&ours).is_none());
        assert!(of_unreadable_request(&Status::not_found("m")).is_none());
    }

    #[test]
    fn the_slos_count_calls_as_they_count_rest_answers() {
        assert_eq!(outcome(Code::Ok), Outcome::Answered);
        assert_eq!(outcome(Code::InvalidArgument), Outcome::CallerMistake);
        assert_eq!(outcome(Code::Cancelled), Outcome::CallerMistake);
        assert_eq!(outcome(Code::Unavailable), Outcome::Failed);
        assert_eq!(outcome(Code::DeadlineExceeded), Outcome::Failed);
        assert_eq!(outcome(Code::Internal), Outcome::Failed);
    }
}
