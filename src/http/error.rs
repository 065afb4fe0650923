//! The one error type of the HTTP layer and its JSON answer `{"error": "..."}`. Client mistakes
//! are 4xx with a sentence saying what is wrong; a 5xx body says nothing internal (the detail
//! goes to the log).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::inference::InferError;
use crate::model::InputError;
use crate::registry::EncodeError;
use crate::service::{LookupError, Overload};

/// Everything a handler can answer instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read: malformed JSON or form, wrong structure.
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request whose values the model cannot take (width, NaN, unknown values).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the request has {rows} rows, more than the limit of {limit} rows per request")]
    TooManyRows { rows: usize, limit: usize },
    /// A model or version that is not served.
    #[error(transparent)]
    NotServed(#[from] LookupError),
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("{0}; retry shortly")]
    Overloaded(Overload),
    #[error("the request took longer than {0:?} and was abandoned")]
    Timeout(std::time::Duration),
    #[error("{0}")]
    NotReady(String),
    /// A fault of ours; the message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge { .. } | Self::TooManyRows { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotServed(_) | Self::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout(_) | Self::NotReady(_) | Self::Overloaded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        Self::Unprocessable(e.to_string())
    }
}

impl From<InferError> for ApiError {
    fn from(e: InferError) -> Self {
        match e {
            InferError::Invalid(message) => Self::BadRequest(message),
            InferError::Unprocessable(message) => Self::Unprocessable(message),
            InferError::TooManyRows { rows, limit } => Self::TooManyRows { rows, limit },
            no_such @ InferError::NoSuchOutput { .. } => Self::Unprocessable(no_such.to_string()),
        }
    }
}

impl From<EncodeError> for ApiError {
    fn from(e: EncodeError) -> Self {
        Self::Unprocessable(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(detail = %detail, "internal error answering a request");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let body = serde_json::to_vec(&serde_json::json!({ "error": message }))
            .expect("a string map serialises");
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Self::Overloaded(_) = self {
            // A shed is momentary: the client may come straight back.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
