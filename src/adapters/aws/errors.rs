//! AWS SDK errors as port errors: throttling and network trouble are
//! transient (retried), a missing resource or credential is one sentence
//! naming what is missing and how to fix it.

use crate::ports::{Need, PortError};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Error codes AWS services use for "slow down" and passing faults.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TooManyRequestsException",
    "SlowDown",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

const AUTH_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
];

/// The whole chain of an error's messages, for matching and for people.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Maps any SDK error. `what` names the resource, e.g. "the table Inventory".
pub fn sdk_error<E>(what: &str, error: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error.code().map(str::to_string);
    let message = error.message().map(str::to_string);
    if code.is_none() && server_failed(&error) {
        return PortError::Transient(format!("{what} failed on its side (HTTP 5xx); trying again may work"));
    }
    match &error {
        SdkError::TimeoutError(_) => PortError::Transient(format!("{what} did not answer in time (network timeout)")),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            let detail = chain(&error);
            if detail.contains("credentials") || detail.contains("Credentials") {
                PortError::setup(Need::Credentials, format!("no AWS credentials found ({detail})"))
            } else {
                PortError::Transient(format!("cannot reach {what}: {detail}"))
            }
        }
        SdkError::ResponseError(_) => {
            PortError::Transient(format!("{what} sent an unreadable answer: {}", chain(&error)))
        }
        _ => from_code(what, code.as_deref(), message.as_deref().unwrap_or("")),
    }
}

/// The service answered 5xx: a failure on its side, worth another try
/// even when the answer names no error code.
fn server_failed<E>(error: &SdkError<E, HttpResponse>) -> bool {
    error.raw_response().is_some_and(|r| r.status().is_server_error())
}

/// Maps a service error by its code.
pub fn from_code(what: &str, code: Option<&str>, message: &str) -> PortError {
    let said = if message.is_empty() {
        code.unwrap_or("an error").to_string()
    } else {
        message.to_string()
    };
    match code {
        Some(c) if TRANSIENT_CODES.contains(&c) => PortError::Transient(format!("{what} is busy ({c}): {said}")),
        // A table, bucket or topic: someone must create it.
        Some("ResourceNotFoundException" | "NoSuchBucket" | "NotFoundException") => {
            PortError::setup(Need::Resource, format!("{what} does not exist ({said})"))
        }
        // An object (S3 answers a HEAD of a missing key with a bare NotFound).
        Some("NoSuchKey" | "NotFound") => PortError::NotFound(format!("{what} does not exist ({said})")),
        Some("ConditionalCheckFailedException" | "PreconditionFailed") => {
            PortError::Conflict(format!("{what} changed meanwhile: {said}"))
        }
        Some("AccessDeniedException" | "AccessDenied" | "AuthorizationError") => PortError::Permanent(format!(
            "access to {what} was denied ({said}); the signed-in identity needs permission for it"
        )),
        Some(c) if AUTH_CODES.contains(&c) => PortError::setup(
            Need::Credentials,
            format!("AWS did not accept the credentials ({c}: {said})"),
        ),
        Some(c) => PortError::Permanent(format!("{what} failed ({c}): {said}")),
        None => PortError::Permanent(format!("{what} failed: {said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_a_retry_can_do() {
        assert!(from_code("the table", Some("ProvisionedThroughputExceededException"), "slow").is_transient());
        assert!(from_code("the stream", Some("LimitExceededException"), "").is_transient());
        let missing = from_code(
            "the table Inventory",
            Some("ResourceNotFoundException"),
            "Requested resource not found",
        );
        assert!(
            matches!(&missing, PortError::Setup { need: Need::Resource, message } if message.contains("does not exist")),
            "{missing:?}"
        );
        assert!(
            !missing.to_string().contains("stockwatch"),
            "advice belongs to the front end: {missing}"
        );
        assert!(matches!(
            from_code("the object k", Some("NoSuchKey"), ""),
            PortError::NotFound(_)
        ));
        assert!(matches!(
            from_code("x", Some("ConditionalCheckFailedException"), ""),
            PortError::Conflict(_)
        ));
        assert!(matches!(
            from_code("x", Some("ExpiredToken"), ""),
            PortError::Setup {
                need: Need::Credentials,
                ..
            }
        ));
    }
}
