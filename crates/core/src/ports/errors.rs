//! What a port says when it fails, and paged reads.

use super::*;

/// What went wrong, said for people, and the error underneath when there
/// was one (the SDK's, SQLite's, the file system's): kept, not only its
/// text, so a log or a debugger can walk the chain.
#[derive(Debug, Clone)]
pub struct Reason {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Reason {
    pub fn new(message: impl Into<String>) -> Reason {
        Reason {
            message: message.into(),
            source: None,
        }
    }

    /// A reason with the error it came from.
    pub fn because(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Reason {
        Reason {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Reason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Read as the message it says (`reason.contains(…)`).
impl std::ops::Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

/// Two reasons are the same when they say the same.
impl PartialEq for Reason {
    fn eq(&self, other: &Reason) -> bool {
        self.message == other.message
    }
}

impl Eq for Reason {}

impl From<String> for Reason {
    fn from(message: String) -> Reason {
        Reason::new(message)
    }
}

impl From<&str> for Reason {
    fn from(message: &str) -> Reason {
        Reason::new(message)
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> String {
        reason.message
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Worth retrying with backoff: a busy database, throttling, a dropped connection.
    #[error(transparent)]
    Transient(Reason),
    #[error(transparent)]
    NotFound(Reason),
    /// A conditional write lost: someone else changed the thing first.
    #[error(transparent)]
    Conflict(Reason),
    #[error(transparent)]
    Invalid(Reason),
    /// Retrying will not help (corrupt data, no permission).
    #[error(transparent)]
    Permanent(Reason),
    /// Nothing works until a person sets something up (a missing table, no
    /// credentials). The message says what is wrong; `need` lets each front
    /// end say how to fix it in its own terms (flags and environment for the
    /// CLI, the template for a function): advice that names a flag would be
    /// wrong in a Lambda log.
    #[error("{message}")]
    Setup { need: Need, message: String },
}

/// What a person must set up before a backend can work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The local data dir cannot be made or used.
    DataDir,
    /// The local data dir can be read, not written, and this writes.
    WritableDataDir,
    /// No AWS credentials were found, or AWS refused them.
    Credentials,
    /// No AWS region is set.
    Region,
    /// A bucket, table or topic does not exist (in this account and region).
    Resource,
    /// The notification topic's ARN is not known.
    TopicArn,
    /// The inventory table has no NEW_AND_OLD_IMAGES stream.
    Stream,
    /// There is no deployed stack of that name.
    Stack,
    /// The bucket name belongs to another AWS account.
    BucketName,
    /// AWS refused a call: the identity's policy does not allow the action
    /// on the resource (both named in the message).
    Permission,
}

impl PortError {
    pub fn transient(reason: impl Into<Reason>) -> PortError {
        PortError::Transient(reason.into())
    }

    pub fn not_found(reason: impl Into<Reason>) -> PortError {
        PortError::NotFound(reason.into())
    }

    pub fn conflict(reason: impl Into<Reason>) -> PortError {
        PortError::Conflict(reason.into())
    }

    pub fn invalid(reason: impl Into<Reason>) -> PortError {
        PortError::Invalid(reason.into())
    }

    pub fn permanent(reason: impl Into<Reason>) -> PortError {
        PortError::Permanent(reason.into())
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient(_))
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, PortError::NotFound(_))
    }

    pub fn setup(need: Need, message: impl Into<String>) -> PortError {
        PortError::Setup {
            need,
            message: message.into(),
        }
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// What every ledger says of an id it does not hold.
pub fn no_such_alert(id: AlertId) -> PortError {
    PortError::not_found(format!("there is no alert {id}"))
}

/// A page of results and the token for the next one, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageToken>,
}

/// Every item of a paged listing: `fetch` is called with each page's token.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> PortResult<Vec<T>>
where
    F: FnMut(Option<PageToken>) -> Fut,
    Fut: std::future::Future<Output = PortResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

/// Opaque to callers; each backend puts its own continuation in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken(pub String);

impl PageToken {
    /// Uploads list newest first, on every backend: the next page starts
    /// after the last object's place, "<uploaded_at>/<key>".
    pub fn after_object(last: &ObjectInfo) -> PageToken {
        PageToken(format!("{}/{}", last.uploaded_at.0, last.key.as_str()))
    }

    /// Alerts list newest (highest id) first, on every backend: the next
    /// page starts below the last alert's id.
    pub fn after_alert(last: &Alert) -> PageToken {
        PageToken(last.id.to_string())
    }

    /// The id `after_alert` recorded: the next page holds lower ids only.
    pub fn alert_place(&self) -> PortResult<AlertId> {
        AlertId::parse(&self.0).map_err(|_| PortError::Invalid("the page token is damaged".into()))
    }

    /// The place `after_object` recorded.
    pub fn object_place(&self) -> PortResult<(Timestamp, ObjectKey)> {
        self.0
            .split_once('/')
            .and_then(|(at, key)| Some((Timestamp(at.parse().ok()?), ObjectKey::parse(key).ok()?)))
            .ok_or_else(|| PortError::Invalid("the page token is damaged".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn an_error_keeps_the_error_it_came_from_under_its_sentence() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "the disk did not answer");
        let error = PortError::Transient(Reason::because("cannot read the bucket file", io));
        assert_eq!(error.to_string(), "cannot read the bucket file");
        let source = error.source().expect("the io error underneath");
        let io = source.downcast_ref::<std::io::Error>().expect("an io error");
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        // Equal when they say the same: what tests and retries compare.
        assert_eq!(error, PortError::transient("cannot read the bucket file"));
        assert!(PortError::not_found("no alert #7").source().is_none());
    }
}
