//! Injected faults as Graph would answer them: an error status, a
//! connection reset halfway through a body, a body that is not JSON.

use super::*;

/// The response an injected fault answers with.
pub(super) fn fault_response(fault: Fault) -> Response {
    let (status, code, message, retry) = match fault {
        Fault::TooManyRequests => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
            Some(1),
        ),
        Fault::InternalServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An internal server error occurred.",
            None,
        ),
        Fault::ServiceUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable.",
            Some(2),
        ),
        Fault::GatewayTimeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "UnknownError",
            "The gateway timed out.",
            None,
        ),
        Fault::PageTokenReuse => (
            StatusCode::BAD_REQUEST,
            "Directory_ExpiredPageToken",
            "DirectoryPageTokenNotFoundException: the page token was already used and can no longer be included in your request.",
            None,
        ),
        Fault::Slow | Fault::Reset | Fault::Malformed => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "fault",
            None,
        ),
    };
    ApiError {
        retry_after_secs: retry,
        ..api_error(status, code, message)
    }
    .into_response()
}

/// Cuts a good response: `Malformed` sends half the JSON as a complete
/// 200; `Reset` sends half and then drops the connection.
pub(super) async fn break_body(response: Response, fault: Fault) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return fault_response(Fault::InternalServerError);
    };
    let half = bytes.slice(..bytes.len() / 2);
    match fault {
        Fault::Reset => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                )),
            ];
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(
                parts,
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
            )
        }
        _ => {
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(half))
        }
    }
}
