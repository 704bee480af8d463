//! AWS SDK errors as port errors: throttling and network trouble are
//! transient (retried), a missing resource or credential is one sentence
//! naming what is missing and how to fix it.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use stockwatch_core::ports::{Need, PortError, Reason};

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
    let mut code = error.code().map(str::to_string);
    let mut message = error.message().map(str::to_string);
    // Only a refusal (4xx): a 5xx without a code is retried below, whatever its body says.
    let refused = error.raw_response().is_some_and(|r| r.status().is_client_error());
    if code.is_none()
        && refused
        && let Some(body) = error.raw_response().and_then(|r| r.body().bytes())
    {
        // An answer in another protocol's shape than the SDK parses (an
        // XML error to a JSON client, an `<Errors>` list): read it here.
        (code, message) = code_in(&String::from_utf8_lossy(body));
    }
    // The SDK's error stays underneath the sentence (`Error::source`).
    let transient = |said: String, error| PortError::Transient(Reason::because(said, error));
    if code.is_none() && server_failed(&error) {
        return transient(
            format!("{what} failed on its side (HTTP 5xx); trying again may work"),
            error,
        );
    }
    match &error {
        SdkError::TimeoutError(_) => transient(format!("{what} did not answer in time (network timeout)"), error),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            let detail = chain(&error);
            if detail.contains("credentials") || detail.contains("Credentials") {
                PortError::setup(Need::Credentials, format!("no AWS credentials found ({detail})"))
            } else {
                transient(format!("cannot reach {what}: {detail}"), error)
            }
        }
        SdkError::ResponseError(_) => {
            let said = format!("{what} sent an unreadable answer: {}", chain(&error));
            transient(said, error)
        }
        _ => from_code(what, code.as_deref(), message.as_deref().unwrap_or("")),
    }
}

/// The error code and message of an answer's body, XML or JSON.
fn code_in(body: &str) -> (Option<String>, Option<String>) {
    let tag = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].to_string())
    };
    if let (Some(code), message) = (tag("Code"), tag("Message")) {
        return (Some(code), message);
    }
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let code = json["__type"]
        .as_str()
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let message = json["message"].as_str().or(json["Message"].as_str()).map(String::from);
    (code, message)
}

/// What a denial names: the action, and the resource when AWS says it.
fn denied_call(message: &str) -> Option<(String, Option<String>)> {
    let after = message.split("not authorized to perform: ").nth(1)?;
    let action = after.split_whitespace().next()?.to_string();
    let resource = after
        .split(" on resource: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .map(String::from);
    Some((action, resource))
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
        Some(c) if TRANSIENT_CODES.contains(&c) => PortError::transient(format!("{what} is busy ({c}): {said}")),
        // A table, bucket or topic: someone must create it.
        Some("ResourceNotFoundException" | "NoSuchBucket" | "NotFoundException") => {
            PortError::setup(Need::Resource, format!("{what} does not exist ({said})"))
        }
        // An object (S3 answers a HEAD of a missing key with a bare NotFound),
        // or a follower's queue (reaped while its follower slept).
        Some("NoSuchKey" | "NotFound" | "QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue") => {
            PortError::not_found(format!("{what} does not exist ({said})"))
        }
        Some("ConditionalCheckFailedException" | "PreconditionFailed") => {
            PortError::conflict(format!("{what} changed meanwhile: {said}"))
        }
        Some("AccessDeniedException" | "AccessDenied" | "AuthorizationError") => {
            let said = match denied_call(message) {
                Some((action, Some(resource))) => format!("{action} on {resource} is not allowed"),
                Some((action, None)) => format!("{action} is not allowed"),
                None => said,
            };
            PortError::setup(
                Need::Permission,
                format!("AWS refused access to {what}: {said} for the signed-in identity"),
            )
        }
        Some(c) if AUTH_CODES.contains(&c) => PortError::setup(
            Need::Credentials,
            format!("AWS did not accept the credentials ({c}: {said})"),
        ),
        Some(c) => PortError::permanent(format!("{what} failed ({c}): {said}")),
        None => PortError::permanent(format!("{what} failed: {said}")),
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
        let denied = from_code(
            "the ledger table L",
            Some("AccessDeniedException"),
            "User: arn:aws:iam::1:user/op is not authorized to perform: dynamodb:PutItem on resource: \
             arn:aws:dynamodb:us-east-1:1:table/L because no identity-based policy allows the dynamodb:PutItem action",
        );
        assert_eq!(
            denied,
            PortError::setup(
                Need::Permission,
                "AWS refused access to the ledger table L: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:1:table/L \
                 is not allowed for the signed-in identity"
            )
        );
        assert_eq!(
            code_in(
                "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: u is not authorized to perform: sns:Publish</Message></Error></Errors></ErrorResponse>"
            ),
            (
                Some("AccessDenied".into()),
                Some("User: u is not authorized to perform: sns:Publish".into())
            )
        );
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
