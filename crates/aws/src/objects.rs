//! The bucket on S3. Each object's load report is kept beside it as
//! `reports/<key>.json`; an object without one is `received`.

use super::errors::sdk_error;
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use stockwatch_core::ports::{
    Body, Fetched, LoadReport, ObjectInfo, ObjectKey, ObjectStatus, ObjectStore, Page, PageToken, PortError,
    PortResult, Progress, RetryPolicy,
};
use stockwatch_domain::Timestamp;

pub const REPORTS_PREFIX: &str = "reports/";
/// Where stockwatch's uploads go (`pipeline::loader::upload_key`).
const UPLOADS_PREFIX: &str = "uploads/";
/// Object metadata: the upload's own time in ms, and the as-of asked for.
const UPLOADED_AT: &str = "stockwatch-uploaded-at";
const AS_OF: &str = "stockwatch-as-of";
/// How far back `stalled` looks: a stopped load is found by the next sweep,
/// within minutes; older uploads are left as they are.
const STALLED_WINDOW_MS: i64 = 2 * 24 * 3600 * 1000;
/// Above this, uploads go in parts (progress per part; S3's minimum part is
/// 5 MiB, and the smallest part is the most a slow link must carry at once).
pub const MULTIPART_THRESHOLD: usize = 5 * 1024 * 1024;
const PART_SIZE: usize = 5 * 1024 * 1024;
/// The slowest link an upload must work over: each request that carries a
/// body may take as long as the body needs at this rate (64 KiB/s, about
/// half a megabit a second), with the usual 30 s as the least. A fixed 30 s
/// for an 8 MiB part failed every attempt below ~2.3 Mbit/s.
const SLOWEST_LINK_BYTES_PER_SECOND: u64 = 64 * 1024;

pub struct S3Objects {
    client: Client,
    bucket: String,
    /// For the parts of a multipart upload (a whole `put` is retried by its caller).
    retry: RetryPolicy,
}

impl S3Objects {
    pub fn new(client: Client, bucket: String) -> Self {
        S3Objects {
            client,
            bucket,
            retry: RetryPolicy::default(),
        }
    }

    fn what(&self) -> String {
        format!("the bucket {}", self.bucket)
    }

    /// The object's body, not yet read (`get` collects it, `fetch` saves it).
    async fn get_object(&self, key: &ObjectKey) -> PortResult<aws_sdk_s3::operation::get_object::GetObjectOutput> {
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the object {key} in {}", self.what()), e))
    }

    fn report_key(key: &ObjectKey) -> String {
        Self::report_key_of(key.as_str())
    }

    async fn put_multipart(
        &self,
        key: &ObjectKey,
        body: &Body,
        size: u64,
        metadata: &HashMap<String, String>,
        progress: Option<&Progress>,
    ) -> PortResult<()> {
        let what = self.what();
        let started = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type("text/csv")
            .set_metadata(Some(metadata.clone()))
            .send()
            .await
            .map_err(|e| sdk_error(&what, e))?;
        let upload_id = started.upload_id().unwrap_or_default().to_string();
        // Cancelled (the task dropped) or failed: the parts sent so far
        // cost storage until the upload is aborted, so it is.
        let mut abort = AbortOnDrop {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.as_str().to_string(),
            upload_id: Some(upload_id.clone()),
        };
        let result = async {
            let mut parts = Vec::new();
            let mut sent = 0u64;
            // One part in memory at a time, read from the file as it goes.
            let mut source =
                Parts::open(body).map_err(|e| PortError::permanent(format!("cannot read the file: {e}")))?;
            let mut number = 0;
            while let Some(chunk) = source
                .next_part()
                .await
                .map_err(|e| PortError::permanent(format!("cannot read the file: {e}")))?
            {
                number += 1;
                // Each part is retried on its own: a dropped connection costs
                // one part, not the whole upload. A part that keeps failing
                // ends the upload for good (the caller does not start over).
                let part = self
                    .retry
                    .run("upload a part", || async {
                        self.client
                            .upload_part()
                            .bucket(&self.bucket)
                            .key(key.as_str())
                            .upload_id(&upload_id)
                            .part_number(number)
                            .body(ByteStream::from(chunk.clone()))
                            .customize()
                            .config_override(carrying(chunk.len()))
                            .send()
                            .await
                            .map_err(|e| sdk_error(&what, e))
                    })
                    .await
                    .map_err(|e| match e {
                        PortError::Transient(m) => PortError::permanent(format!(
                            "part {number} could not be uploaded after {} attempts: {m}",
                            self.retry.attempts
                        )),
                        other => other,
                    })?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(part.e_tag().map(String::from))
                        .build(),
                );
                sent += chunk.len() as u64;
                if let Some(report) = progress {
                    report(sent, size);
                }
            }
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| sdk_error(&what, e))
        }
        .await;
        if result.is_ok() {
            abort.upload_id = None;
        }
        drop(abort);
        result.map(|_| ())
    }

    async fn report(&self, key: &ObjectKey) -> PortResult<Option<LoadReport>> {
        let fetched = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::report_key(key))
            .send()
            .await;
        let object = match fetched {
            Ok(object) => object,
            Err(e) => {
                return match sdk_error(&self.what(), e) {
                    PortError::NotFound(_) => Ok(None),
                    other => Err(other),
                };
            }
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| PortError::transient(format!("reading a report from {} broke off: {e}", self.what())))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PortError::permanent(format!("the report of {key} in {} is unreadable: {e}", self.what())))
    }
}

fn to_timestamp(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Timestamp {
    t.and_then(|t| t.to_millis().ok()).map_or(Timestamp(0), Timestamp)
}

/// A body read a part at a time (at most `PART_SIZE` in memory).
struct Parts {
    bytes: Option<Bytes>,
    file: Option<tokio::fs::File>,
}

impl Parts {
    fn open(body: &Body) -> std::io::Result<Parts> {
        Ok(match body {
            Body::Bytes(bytes) => Parts {
                bytes: Some(bytes.clone()),
                file: None,
            },
            Body::File(path) => Parts {
                bytes: None,
                file: Some(tokio::fs::File::from_std(std::fs::File::open(path)?)),
            },
        })
    }

    async fn next_part(&mut self) -> std::io::Result<Option<Bytes>> {
        use tokio::io::AsyncReadExt;
        if let Some(bytes) = &mut self.bytes {
            if bytes.is_empty() {
                return Ok(None);
            }
            let part = bytes.split_to(PART_SIZE.min(bytes.len()));
            return Ok(Some(part));
        }
        let Some(file) = &mut self.file else { return Ok(None) };
        let mut part = Vec::with_capacity(PART_SIZE);
        while part.len() < PART_SIZE {
            let n = (&mut *file)
                .take((PART_SIZE - part.len()) as u64)
                .read_to_end(&mut part)
                .await?;
            if n == 0 {
                break;
            }
        }
        Ok((!part.is_empty()).then(|| Bytes::from(part)))
    }
}

/// Timeouts for a request that carries `bytes`: long enough for the
/// slowest link stockwatch supports.
fn carrying(bytes: usize) -> aws_sdk_s3::config::Builder {
    let needed = Duration::from_secs(bytes as u64 / SLOWEST_LINK_BYTES_PER_SECOND + 1);
    let attempt = needed.max(Duration::from_secs(30));
    aws_sdk_s3::config::Builder::default().timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .operation_timeout(attempt + Duration::from_secs(30))
            .build(),
    )
}

/// Aborts a multipart upload when dropped unfinished (`upload_id` still
/// set): a cancel drops the uploading task wherever it is.
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key.clone());
        runtime.spawn(async move {
            let aborted = client
                .abort_multipart_upload()
                .bucket(&bucket)
                .key(&key)
                .upload_id(&upload_id)
                .send()
                .await;
            if let Err(e) = aborted {
                // The bucket's lifecycle rule removes it within a day.
                tracing::warn!(key, error = %e, "could not abort a multipart upload");
            }
        });
    }
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn put(
        &self,
        key: &ObjectKey,
        body: &Body,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> PortResult<ObjectInfo> {
        let unreadable = |e: std::io::Error| PortError::permanent(format!("cannot read the file: {e}"));
        let size = body.len().map_err(unreadable)?;
        if let Some(report) = &progress {
            report(0, size);
        }
        // S3's LastModified has whole seconds: two uploads in one second would
        // tie, and a tie keeps the lower count per item, mixing a file and its
        // correction. The millisecond time rides along as metadata.
        let mut metadata = HashMap::from([(UPLOADED_AT.to_string(), Timestamp::now().0.to_string())]);
        if let Some(as_of) = as_of {
            metadata.insert(AS_OF.to_string(), as_of.0.to_string());
        }
        if size > MULTIPART_THRESHOLD as u64 {
            self.put_multipart(key, body, size, &metadata, progress.as_ref())
                .await?;
        } else {
            // At most one part's size: read whole.
            let bytes = match Parts::open(body)
                .map_err(unreadable)?
                .next_part()
                .await
                .map_err(unreadable)?
            {
                Some(bytes) => bytes,
                None => Bytes::new(),
            };
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .content_type("text/csv")
                .set_metadata(Some(metadata))
                .body(ByteStream::from(bytes.clone()))
                .customize()
                .config_override(carrying(bytes.len()))
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
            if let Some(report) = &progress {
                report(size, size);
            }
        }
        // S3's own time, which is what an S3-triggered loader sees as well.
        let mut info = self.head(key).await?;
        info.status = ObjectStatus::Received;
        info.report = None;
        Ok(info)
    }

    async fn get(&self, key: &ObjectKey) -> PortResult<Bytes> {
        let object = self.get_object(key).await?;
        let body = object
            .body
            .collect()
            .await
            .map_err(|e| PortError::transient(format!("reading {key} from {} broke off: {e}", self.what())))?;
        Ok(body.into_bytes())
    }

    async fn fetch(&self, key: &ObjectKey) -> PortResult<Fetched> {
        let object = self.get_object(key).await?;
        let (file, path) = tempfile::NamedTempFile::new()
            .and_then(|f| f.keep().map_err(|e| e.error))
            .map_err(|e| PortError::permanent(format!("cannot make a file to download {key} into: {e}")))?;
        // Removed when dropped, whatever happens next.
        let fetched = Fetched::copy(path);
        let mut file = tokio::fs::File::from_std(file);
        let mut body = object.body.into_async_read();
        tokio::io::copy(&mut body, &mut file)
            .await
            .map_err(|e| PortError::transient(format!("downloading {key} from {} broke off: {e}", self.what())))?;
        Ok(fetched)
    }

    async fn head(&self, key: &ObjectKey) -> PortResult<ObjectInfo> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the object {key} in {}", self.what()), e))?;
        let report = self.report(key).await?;
        let meta = |name: &str| {
            head.metadata()
                .and_then(|m| m.get(name))
                .and_then(|v| v.parse::<i64>().ok())
                .map(Timestamp)
        };
        Ok(ObjectInfo {
            key: key.clone(),
            size: head.content_length().unwrap_or(0).max(0) as u64,
            // Files put there by other tools have only S3's own time.
            uploaded_at: meta(UPLOADED_AT).unwrap_or_else(|| to_timestamp(head.last_modified())),
            as_of: meta(AS_OF),
            status: report.as_ref().map_or(ObjectStatus::Received, |r| r.status),
            loading_until: None,
            report,
        })
    }

    async fn set_report(&self, key: &ObjectKey, report: &LoadReport) -> PortResult<()> {
        let json =
            serde_json::to_vec(report).map_err(|e| PortError::permanent(format!("cannot encode the report: {e}")))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::report_key(key))
            .content_type("application/json")
            .body(ByteStream::from(json))
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        Ok(())
    }

    async fn list(&self, page: Option<&PageToken>, limit: usize) -> PortResult<Page<ObjectInfo>> {
        // S3 lists by key; newest first needs them all, then a page of them.
        let mut all = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .into_paginator()
            .send();
        while let Some(listing) = pages.next().await {
            let listing = listing.map_err(|e| sdk_error(&self.what(), e))?;
            for object in listing.contents() {
                let Some(key) = object.key().filter(|k| !k.starts_with(REPORTS_PREFIX)) else {
                    continue;
                };
                let Ok(key) = ObjectKey::parse(key) else {
                    continue;
                };
                all.push((
                    to_timestamp(object.last_modified()),
                    key,
                    object.size().unwrap_or(0).max(0) as u64,
                ));
            }
        }
        // S3 times have whole seconds: upload keys start with their time, so
        // the key breaks ties the same way.
        all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        let start = match page {
            Some(token) => {
                // The first object after the token's place in the order, even if
                // the token's own object has been deleted since.
                let (at, key) = token.object_place()?;
                all.iter()
                    .position(|(a, k, _)| (*a, k) < (at, &key))
                    .unwrap_or(all.len())
            }
            None => 0,
        };
        let mut items = Vec::new();
        for (at, key, size) in all.iter().skip(start).take(limit) {
            let report = self.report(key).await?;
            items.push(ObjectInfo {
                key: key.clone(),
                size: *size,
                uploaded_at: *at,
                as_of: None,
                status: report.as_ref().map_or(ObjectStatus::Received, |r| r.status),
                loading_until: None,
                report,
            });
        }
        let next = (start + items.len() < all.len())
            .then(|| items.last().map(PageToken::after_object))
            .flatten();
        Ok(Page { items, next })
    }

    async fn begin_load(&self, _key: &ObjectKey, _token: &str, _lease: Duration) -> PortResult<bool> {
        Ok(true)
    }

    async fn stalled(&self, before: Timestamp, limit: usize) -> PortResult<Vec<ObjectKey>> {
        // Upload keys start with their time: only the recent ones are listed.
        let since = Timestamp(before.0 - STALLED_WINDOW_MS).to_compact();
        let uploads = self
            .keys_after(UPLOADS_PREFIX, &format!("{UPLOADS_PREFIX}{since}"))
            .await?;
        let reports: HashSet<String> = self
            .keys_after(
                &format!("{REPORTS_PREFIX}{UPLOADS_PREFIX}"),
                &format!("{REPORTS_PREFIX}{UPLOADS_PREFIX}{since}"),
            )
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut stalled: Vec<(Timestamp, ObjectKey)> = uploads
            .into_iter()
            .filter(|(key, at)| *at < before && !reports.contains(&Self::report_key_of(key)))
            .filter_map(|(key, at)| Some((at, ObjectKey::parse(&key).ok()?)))
            .collect();
        stalled.sort();
        Ok(stalled.into_iter().take(limit).map(|(_, key)| key).collect())
    }
}

impl S3Objects {
    /// Keys under `prefix` after `start`, with S3's last-modified time.
    async fn keys_after(&self, prefix: &str, start: &str) -> PortResult<Vec<(String, Timestamp)>> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .start_after(start)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(listing) = pages.next().await {
            let listing = listing.map_err(|e| sdk_error(&self.what(), e))?;
            for object in listing.contents() {
                if let Some(key) = object.key() {
                    keys.push((key.to_string(), to_timestamp(object.last_modified())));
                }
            }
        }
        Ok(keys)
    }

    fn report_key_of(key: &str) -> String {
        format!("{REPORTS_PREFIX}{key}.json")
    }
}
