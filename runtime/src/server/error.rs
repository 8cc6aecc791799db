//! The API's errors, answered as Argo Server answers them: a gRPC status code and a message in a JSON
//! body (`{"code": 5, "message": "..."}`), with the HTTP status grpc-gateway maps that code to.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::cli::CliError;
use crate::store::StoreError;

/// A gRPC status code, as the Argo Server's error bodies carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 3: the request is wrong (HTTP 400).
    InvalidArgument,
    /// 5: no such run, node or artifact (HTTP 404).
    NotFound,
    /// 6: the name is taken (HTTP 409).
    AlreadyExists,
    /// 8: the request body is over the limit (HTTP 413).
    ResourceExhausted,
    /// 9: the run is not in a state that allows this (HTTP 409).
    FailedPrecondition,
    /// 13: skiff broke (HTTP 500).
    Internal,
    /// 14: the server is shutting down (HTTP 503).
    Unavailable,
    /// 16: no valid token (HTTP 401).
    Unauthenticated,
}

impl Code {
    /// The number gRPC gives the code.
    pub fn number(self) -> i32 {
        match self {
            Code::InvalidArgument => 3,
            Code::NotFound => 5,
            Code::AlreadyExists => 6,
            Code::ResourceExhausted => 8,
            Code::FailedPrecondition => 9,
            Code::Internal => 13,
            Code::Unavailable => 14,
            Code::Unauthenticated => 16,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::FailedPrecondition => StatusCode::CONFLICT,
            Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A failed request: its code and the message the client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The gRPC code.
    pub code: Code,
    /// What went wrong, and what to do where there is something.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// 400.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"code": self.code.number(), "message": self.message});
        (self.code.status(), Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::not_found(e.to_string()),
            StoreError::Exists(_) => ApiError::new(Code::AlreadyExists, e.to_string()),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<CliError> for ApiError {
    fn from(e: CliError) -> Self {
        match e {
            CliError::BadInput(m) | CliError::RunFailed(m) => ApiError::invalid(m),
            CliError::Internal(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}
