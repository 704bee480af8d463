//! The change feed over DynamoDB Streams (NEW_AND_OLD_IMAGES).
//!
//! The tailing checklist, point by point:
//! - shard lineage: a shard is read only once its parent is read to its end
//!   (or has aged out of the stream);
//! - an empty batch does not end a shard, a missing `NextShardIterator` does;
//! - an expired iterator is replaced by one AFTER_SEQUENCE_NUMBER of the last
//!   applied record (TRIM_HORIZON if none was applied yet);
//! - trimmed data or a new stream ARN sets `gap` (consumers re-read the
//!   table) and reading goes on from the oldest record kept;
//! - throttling comes back as a transient error for the caller's backoff;
//! - positions are per (stream ARN, shard), so moto's reuse of shard ids
//!   across tables is harmless, and the cursor is resumable JSON.

use super::attrs::{Item, from_stream, get_n, get_s, opt_n, opt_s};
use super::errors::{from_code, sdk_error};
use async_trait::async_trait;
use aws_sdk_dynamodbstreams::Client as StreamsClient;
use aws_sdk_dynamodbstreams::error::ProvideErrorMetadata;
use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError;
use aws_sdk_dynamodbstreams::types::{OperationType, Record, Shard, ShardIteratorType};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stockwatch_core::ports::{
    Change, ChangeFeed, ChangeKind, FeedCursor, FeedPage, Image, Need, PortError, PortResult,
};
use stockwatch_domain::Timestamp;

/// How long the table's current stream ARN is trusted before asking again.
const ARN_TTL: Duration = Duration::from_secs(30);
/// How long a shard list is trusted; a split shows up within this.
const SHARDS_TTL: Duration = Duration::from_secs(10);
/// GetRecords takes at most 1000.
const MAX_RECORDS: usize = 1000;

/// Where a reader is: opaque JSON to everyone else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub arn: String,
    /// Shard id → sequence number of the last record applied.
    #[serde(default)]
    pub shards: BTreeMap<String, String>,
    /// Shards read to their end.
    #[serde(default)]
    pub done: BTreeSet<String>,
    /// Shards entered at their tip by `tip()`: the LATEST iterator taken then.
    #[serde(default)]
    pub latest: BTreeMap<String, String>,
    /// Shards the last read found gone from the stream (trimmed 24 hours
    /// after closing): a saved checkpoint forgets them, so what is stored
    /// stays as small as the stream's own shard list.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub gone: BTreeSet<String>,
}

impl Position {
    pub fn parse(cursor: Option<&FeedCursor>) -> PortResult<Position> {
        match cursor {
            None => Ok(Position::default()),
            Some(c) => serde_json::from_str(&c.0)
                .map_err(|_| PortError::Invalid("the change feed position is not one of this backend's".into())),
        }
    }

    pub fn to_cursor(&self) -> FeedCursor {
        FeedCursor(serde_json::to_string(self).unwrap_or_default())
    }

    /// The furthest of two positions of one stream, shard by shard: what a
    /// checkpoint keeps when several checkers save it.
    pub fn merge(mut self, other: Position) -> Position {
        if self.arn != other.arn {
            // Stream ARNs end in their creation time: the later one is current.
            return if other.arn > self.arn { other } else { self };
        }
        for (shard, seq) in other.shards {
            let keep = self.shards.get(&shard).is_some_and(|mine| !sequence_before(mine, &seq));
            if !keep {
                self.shards.insert(shard, seq);
            }
        }
        self.done.extend(other.done);
        for (shard, iterator) in other.latest {
            if !self.shards.contains_key(&shard) && !self.done.contains(&shard) {
                self.latest.entry(shard).or_insert(iterator);
            }
        }
        // A finished shard has no place to resume from (kept, it reads as
        // lost data once the shard is trimmed); a gone one is forgotten.
        let gone = std::mem::take(&mut self.gone);
        let forget = |shard: &String| other.gone.contains(shard) || gone.contains(shard);
        self.done.retain(|shard| !forget(shard));
        self.shards
            .retain(|shard, _| !self.done.contains(shard) && !forget(shard));
        self.latest
            .retain(|shard, _| !self.shards.contains_key(shard) && !self.done.contains(shard) && !forget(shard));
        self
    }
}

/// Sequence numbers are decimal strings of up to 40 digits.
fn sequence_before(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

pub struct StreamFeed {
    streams: StreamsClient,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    arn: Mutex<Option<(Instant, String)>>,
    /// (arn, shard) → (sequence the iterator continues after, iterator).
    iterators: Mutex<HashMap<(String, String), (String, String)>>,
    shard_list: Mutex<Option<(Instant, String, Vec<Shard>)>>,
}

/// What a reader makes of a stream record (`None`: nothing for it).
pub type Decode<T> = fn(&Record) -> PortResult<Option<T>>;

enum Read {
    Records(Vec<Record>, Option<String>),
    Expired,
    Trimmed,
}

impl StreamFeed {
    pub fn new(streams: StreamsClient, dynamodb: aws_sdk_dynamodb::Client, table: String) -> Self {
        StreamFeed {
            streams,
            dynamodb,
            table,
            arn: Mutex::new(None),
            iterators: Mutex::new(HashMap::new()),
            shard_list: Mutex::new(None),
        }
    }

    fn what(&self) -> String {
        format!("the stream of table {}", self.table)
    }

    /// The table's current stream, asked again every `ARN_TTL`.
    pub async fn stream_arn(&self) -> PortResult<String> {
        if let Some((at, arn)) = self.arn.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < ARN_TTL
        {
            return Ok(arn.clone());
        }
        let table = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the table {}", self.table), e))?;
        let arn = table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .map(String::from)
            .ok_or_else(|| PortError::setup(Need::Stream, format!("the table {} has no stream", self.table)))?;
        *self.arn.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), arn.clone()));
        Ok(arn)
    }

    /// The stream's shards, asked again every `SHARDS_TTL` (DescribeStream
    /// allows ten calls a second per account) or when a shard has closed.
    pub async fn shards(&self, arn: &str) -> PortResult<Vec<Shard>> {
        if let Some((at, cached_arn, shards)) = self.shard_list.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < SHARDS_TTL
            && cached_arn == arn
        {
            return Ok(shards.clone());
        }
        let shards = self.describe_shards(arn).await?;
        *self.shard_list.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), arn.to_string(), shards.clone()));
        Ok(shards)
    }

    async fn describe_shards(&self, arn: &str) -> PortResult<Vec<Shard>> {
        let mut shards = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .streams
                .describe_stream()
                .stream_arn(arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
            let Some(description) = out.stream_description else {
                break;
            };
            shards.extend(description.shards.unwrap_or_default());
            match description.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok(shards)
    }

    /// An iterator for a shard from `start`. `true` when records between the
    /// position and the iterator are lost (trimmed, or the shard aged out).
    async fn open(&self, arn: &str, shard: &str, start: &Start) -> PortResult<(Option<String>, bool)> {
        let request = self.streams.get_shard_iterator().stream_arn(arn).shard_id(shard);
        let request = match start {
            Start::After(seq) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq),
            Start::Oldest => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Start::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
        };
        match request.send().await {
            Ok(out) => Ok((out.shard_iterator, false)),
            // The shard aged out: nothing left to read there; if we were
            // part way through it, what we had not read is lost.
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok((None, matches!(start, Start::After(_)))),
            Err(e) if e.code() == Some("TrimmedDataAccessException") => {
                let (iterator, _) = Box::pin(self.open(arn, shard, &Start::Oldest)).await?;
                Ok((iterator, true))
            }
            Err(e) => Err(sdk_error(&self.what(), e)),
        }
    }

    async fn get_records(&self, iterator: &str, limit: usize) -> PortResult<Read> {
        let result = self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(limit.clamp(1, MAX_RECORDS) as i32)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Read::Records(out.records.unwrap_or_default(), out.next_shard_iterator)),
            Err(e) => match e.as_service_error() {
                Some(GetRecordsError::ExpiredIteratorException(_)) => Ok(Read::Expired),
                Some(GetRecordsError::TrimmedDataAccessException(_)) => Ok(Read::Trimmed),
                Some(other) => Err(from_code(&self.what(), other.code(), other.message().unwrap_or(""))),
                None => Err(sdk_error(&self.what(), e)),
            },
        }
    }

    fn cached(&self, arn: &str, shard: &str, after: &str) -> Option<String> {
        let cache = self.iterators.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&(arn.to_string(), shard.to_string()))
            .filter(|(seq, _)| seq == after)
            .map(|(_, it)| it.clone())
    }

    fn remember(&self, arn: &str, shard: &str, after: &str, iterator: Option<String>) {
        let mut cache = self.iterators.lock().unwrap_or_else(|p| p.into_inner());
        match iterator {
            Some(it) => {
                cache.insert((arn.to_string(), shard.to_string()), (after.to_string(), it));
            }
            None => {
                cache.remove(&(arn.to_string(), shard.to_string()));
            }
        }
    }

    fn forget(&self, arn: &str, shard: &str) {
        self.remember(arn, shard, "", None);
    }

    /// Reads one shard from the position on, what `decode` makes of each
    /// record into `changes`. Returns whether records were lost on the way.
    async fn read_shard<T>(
        &self,
        pos: &mut Position,
        shard: &str,
        changes: &mut Vec<T>,
        limit: usize,
        decode: Decode<T>,
    ) -> PortResult<bool> {
        let arn = pos.arn.clone();
        let mut gap = false;
        let mut fresh_tries = 0;
        let start = Start::of(pos, shard);
        let mut iterator = match self.cached(&arn, shard, &start.cache_key()) {
            Some(it) => Some(it),
            None => match (&start, pos.latest.get(shard)) {
                (Start::Latest, Some(taken_at_tip)) => Some(taken_at_tip.clone()),
                _ => {
                    let (it, lost) = self.open(&arn, shard, &start).await?;
                    gap |= lost;
                    it
                }
            },
        };
        if iterator.is_none() && gap {
            // The shard aged out under our position: nothing more to read.
            pos.shards.remove(shard);
            pos.done.insert(shard.to_string());
        }
        while let Some(it) = iterator.take() {
            if changes.len() >= limit {
                self.remember(&arn, shard, &Start::of(pos, shard).cache_key(), Some(it));
                break;
            }
            match self.get_records(&it, limit - changes.len()).await? {
                Read::Records(records, next) => {
                    let got = records.len();
                    for record in &records {
                        if let Some(change) = decode(record)? {
                            changes.push(change);
                        }
                        if let Some(seq) = record.dynamodb().and_then(|d| d.sequence_number()) {
                            pos.shards.insert(shard.to_string(), seq.to_string());
                            pos.latest.remove(shard);
                        }
                    }
                    match next {
                        None => {
                            // The shard is closed and read to its end; its
                            // children may be new, so list the shards again.
                            *self.shard_list.lock().unwrap_or_else(|p| p.into_inner()) = None;
                            pos.done.insert(shard.to_string());
                            pos.shards.remove(shard);
                            pos.latest.remove(shard);
                            self.forget(&arn, shard);
                        }
                        Some(next) if got == 0 => {
                            // Nothing new for now; an open shard stays open.
                            if pos.latest.contains_key(shard) {
                                pos.latest.insert(shard.to_string(), next.clone());
                            }
                            self.remember(&arn, shard, &Start::of(pos, shard).cache_key(), Some(next));
                        }
                        Some(next) => iterator = Some(next),
                    }
                }
                Read::Expired => {
                    fresh_tries += 1;
                    if fresh_tries > 2 {
                        return Err(PortError::transient(format!(
                            "{}: shard iterators keep expiring",
                            self.what()
                        )));
                    }
                    let start = Start::of(pos, shard);
                    // A tip iterator that expired unused: take a new tip, and
                    // say that what happened in between was not seen.
                    if matches!(start, Start::Latest) {
                        gap = true;
                    }
                    let (it, lost) = self.open(&arn, shard, &start).await?;
                    gap |= lost;
                    if let (Some(fresh), true) = (&it, pos.latest.contains_key(shard)) {
                        pos.latest.insert(shard.to_string(), fresh.clone());
                    }
                    iterator = it;
                }
                Read::Trimmed => {
                    // Records we had not read are gone: start again at the
                    // oldest one kept, and tell the consumer about the gap.
                    gap = true;
                    fresh_tries += 1;
                    if fresh_tries > 2 {
                        return Err(PortError::transient(format!(
                            "{}: data keeps being trimmed",
                            self.what()
                        )));
                    }
                    pos.shards.remove(shard);
                    pos.latest.remove(shard);
                    iterator = self.open(&arn, shard, &Start::Oldest).await?.0;
                }
            }
        }
        Ok(gap)
    }
}

/// Where reading a shard starts from.
enum Start {
    After(String),
    Oldest,
    Latest,
}

impl Start {
    fn of(pos: &Position, shard: &str) -> Start {
        match (pos.shards.get(shard), pos.latest.contains_key(shard)) {
            (Some(seq), _) => Start::After(seq.clone()),
            (None, true) => Start::Latest,
            (None, false) => Start::Oldest,
        }
    }

    /// Cached iterators are keyed by where they continue from.
    fn cache_key(&self) -> String {
        match self {
            Start::After(seq) => seq.clone(),
            Start::Oldest => "oldest".into(),
            Start::Latest => "latest".into(),
        }
    }
}

/// Shards in an order where parents come first, with whether each may be read.
fn readable<'a>(shards: &'a [Shard], pos: &Position) -> Vec<&'a str> {
    let present: BTreeSet<&str> = shards.iter().filter_map(|s| s.shard_id()).collect();
    shards
        .iter()
        .filter_map(|shard| {
            let id = shard.shard_id()?;
            if pos.done.contains(id) {
                return None;
            }
            let parent_ready = match shard.parent_shard_id() {
                None => true,
                Some(parent) => !present.contains(parent) || pos.done.contains(parent),
            };
            parent_ready.then_some(id)
        })
        .collect()
}

/// The tail reads an image without a usable `Count` as no image: one odd
/// item written by another tool must not stop every console.
fn image(item: Option<&Item>) -> Option<Image> {
    parse_image(item?).ok()
}

/// An item image as stockwatch sees it; `Err` when it has no usable `Count`.
pub fn parse_image(item: &Item) -> PortResult<Image> {
    Ok(Image {
        count: get_n(item, "Count")?,
        as_of: Timestamp(opt_n(item, "AsOf").unwrap_or(0)),
        source: opt_s(item, "Source").unwrap_or_default(),
    })
}

/// A change from a stream record's parts, its new image required to be well
/// formed: the Lambda trigger reports a record it cannot decide on instead
/// of reading it as a deletion. An unreadable old image reads as none (the
/// write that repairs a bad Count must go through).
pub fn strict_change(
    id: String,
    kind: ChangeKind,
    keys: &Item,
    old: Option<&Item>,
    new: Option<&Item>,
    at: Timestamp,
) -> PortResult<Change> {
    let new = new.map(parse_image).transpose()?;
    assemble(id, kind, keys, image(old), new, at)
}

fn assemble(
    id: String,
    kind: ChangeKind,
    keys: &Item,
    old: Option<Image>,
    new: Option<Image>,
    at: Timestamp,
) -> PortResult<Change> {
    Ok(Change {
        id,
        kind,
        store: get_s(keys, "Store")?,
        item: get_s(keys, "Item")?,
        old,
        new,
        at,
    })
}

pub fn to_change(record: &Record) -> PortResult<Option<Change>> {
    let Some(data) = record.dynamodb() else {
        return Ok(None);
    };
    let keys = data.keys().map(from_stream).unwrap_or_default();
    let old = data.old_image().map(from_stream);
    let new = data.new_image().map(from_stream);
    let kind = match record.event_name() {
        Some(OperationType::Insert) => ChangeKind::Insert,
        Some(OperationType::Remove) => ChangeKind::Remove,
        _ => ChangeKind::Modify,
    };
    let at = data
        .approximate_creation_date_time()
        .and_then(|t| t.to_millis().ok())
        .map_or_else(Timestamp::now, Timestamp);
    let id = record
        .event_id()
        .map(String::from)
        .or_else(|| data.sequence_number().map(String::from))
        .ok_or_else(|| PortError::Permanent("a stream record has neither an event id nor a sequence number".into()))?;
    assemble(id, kind, &keys, image(old.as_ref()), image(new.as_ref()), at).map(Some)
}

impl StreamFeed {
    /// The changes of one shard from `first` to `last` (sequence numbers,
    /// both included): what a stream batch held, to do again what was given
    /// up on. `None` when the records are no longer kept (trimmed after 24
    /// hours, or the shard aged out): only reading the table can tell.
    pub async fn read_range(&self, arn: &str, shard: &str, first: &str, last: &str) -> PortResult<Option<Vec<Change>>> {
        let opened = self
            .streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(first)
            .send()
            .await;
        let mut iterator = match opened {
            Ok(out) => out.shard_iterator,
            Err(e)
                if matches!(
                    e.code(),
                    Some("TrimmedDataAccessException" | "ResourceNotFoundException")
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error(&self.what(), e)),
        };
        let mut changes = Vec::new();
        while let Some(it) = iterator.take() {
            let (records, next) = match self.get_records(&it, MAX_RECORDS).await? {
                Read::Records(records, next) => (records, next),
                Read::Trimmed => return Ok(None),
                Read::Expired => return Err(PortError::transient(format!("{}: an iterator expired", self.what()))),
            };
            let empty = records.is_empty();
            for record in &records {
                let seq = record.dynamodb().and_then(|d| d.sequence_number()).unwrap_or_default();
                if sequence_before(last, seq) {
                    return Ok(Some(changes));
                }
                if let Some(change) = to_change(record)? {
                    changes.push(change);
                }
            }
            // An open shard with nothing more: the range has been read.
            iterator = next.filter(|_| !empty);
        }
        Ok(Some(changes))
    }
}

impl StreamFeed {
    /// Reads on from `cursor`: up to `limit` of what `decode` makes of the
    /// records, the position after them, and whether records were lost. A
    /// shard that fails (throttled) after others gave records ends the read
    /// early with what was read: their progress is kept, not thrown away.
    pub async fn read_with<T>(
        &self,
        cursor: Option<&FeedCursor>,
        limit: usize,
        decode: Decode<T>,
    ) -> PortResult<(Vec<T>, FeedCursor, bool)> {
        let mut pos = Position::parse(cursor)?;
        let arn = self.stream_arn().await?;
        let mut gap = false;
        if pos.arn != arn {
            // A new stream (the old one was disabled or the table recreated):
            // what happened in between is unknown.
            gap = !pos.arn.is_empty();
            pos = Position {
                arn: arn.clone(),
                ..Position::default()
            };
        }
        let mut changes = Vec::new();
        let limit = limit.max(1);
        let mut shards = self.shards(&arn).await?;
        // A position naming a shard this (cached) list lacks: another reader
        // sharing the checkpoint has seen a newer list (a split). Ask again
        // before concluding anything vanished: a false "lost" makes every
        // checker reconcile the whole table.
        let listed = |shards: &[Shard], id: &str| shards.iter().any(|s| s.shard_id() == Some(id));
        let named = pos.shards.keys().chain(&pos.done).chain(pos.latest.keys());
        if named.clone().any(|id| !listed(&shards, id)) {
            *self.shard_list.lock().unwrap_or_else(|p| p.into_inner()) = None;
            shards = self.shards(&arn).await?;
        }
        // Shards that aged out of the stream need no memory of being done;
        // saving tells the stored checkpoint to forget them too (`gone`).
        let present: BTreeSet<&str> = shards.iter().filter_map(|s| s.shard_id()).collect();
        pos.gone.clear();
        let absent = |id: &String| !present.contains(id.as_str());
        pos.gone.extend(pos.done.iter().filter(|id| absent(id)).cloned());
        pos.done.retain(|id| present.contains(id.as_str()));
        // A position in a shard that aged out is lost data, not just memory.
        let vanished: Vec<String> = pos.shards.keys().filter(|id| absent(id)).cloned().collect();
        if !vanished.is_empty() {
            gap = true;
            for id in vanished {
                pos.shards.remove(&id);
                pos.gone.insert(id);
            }
        }
        pos.gone.extend(pos.latest.keys().filter(|id| absent(id)).cloned());
        pos.latest.retain(|id, _| present.contains(id.as_str()));
        // Reading a parent to its end makes its children readable: go round
        // until a pass reads nothing new.
        loop {
            let before = (pos.done.len(), changes.len());
            for shard in readable(&shards, &pos) {
                if changes.len() >= limit {
                    break;
                }
                match self.read_shard(&mut pos, shard, &mut changes, limit, decode).await {
                    Ok(lost) => gap |= lost,
                    Err(e) if changes.is_empty() => return Err(e),
                    Err(e) => {
                        tracing::debug!(error = %e, shard, "a shard failed; keeping what the others gave");
                        return Ok((changes, pos.to_cursor(), gap));
                    }
                }
            }
            if (pos.done.len(), changes.len()) == before || changes.len() >= limit {
                break;
            }
        }
        Ok((changes, pos.to_cursor(), gap))
    }

    /// A cursor at the stream's tip: reading from it gives what comes next.
    pub async fn tip_cursor(&self) -> PortResult<FeedCursor> {
        let arn = self.stream_arn().await?;
        let mut pos = Position {
            arn: arn.clone(),
            ..Position::default()
        };
        for shard in self.shards(&arn).await? {
            let Some(id) = shard.shard_id() else { continue };
            let closed = shard
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some();
            if closed {
                pos.done.insert(id.to_string());
            } else if let Some(it) = self.open(&arn, id, &Start::Latest).await?.0 {
                pos.latest.insert(id.to_string(), it);
            }
        }
        Ok(pos.to_cursor())
    }
}

#[async_trait]
impl ChangeFeed for StreamFeed {
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedPage> {
        // A write that only moved the as-of (same count) is a change too:
        // followers show the as-of, as on the local backend.
        let (changes, cursor, gap) = self.read_with(cursor, limit, to_change).await?;
        Ok(FeedPage { changes, cursor, gap })
    }

    async fn tip(&self) -> PortResult<FeedCursor> {
        self.tip_cursor().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(sequence_before("900", "1000"));
        assert!(sequence_before("1000", "1001"));
        assert!(!sequence_before("1001", "1001"));
    }

    #[test]
    fn merged_positions_keep_the_furthest_point_of_each_shard() {
        let a = Position {
            arn: "s".into(),
            shards: [
                ("1".to_string(), "500".to_string()),
                ("2".to_string(), "90".to_string()),
            ]
            .into(),
            ..Position::default()
        };
        let b = Position {
            arn: "s".into(),
            shards: [
                ("1".to_string(), "1200".to_string()),
                ("2".to_string(), "10".to_string()),
            ]
            .into(),
            done: ["0".to_string()].into(),
            ..Position::default()
        };
        let merged = a.clone().merge(b);
        assert_eq!(merged.shards["1"], "1200");
        assert_eq!(merged.shards["2"], "90");
        assert!(merged.done.contains("0"));
        let other_stream = Position {
            arn: "t".into(),
            ..Position::default()
        };
        assert_eq!(merged.merge(other_stream.clone()), other_stream);
    }

    #[test]
    fn a_shard_finished_by_either_is_no_place_to_resume_and_a_gone_one_is_forgotten() {
        let theirs = Position {
            arn: "s".into(),
            shards: [("old".to_string(), "100".to_string())].into(),
            done: ["trimmed".to_string()].into(),
            ..Position::default()
        };
        let mine = Position {
            arn: "s".into(),
            shards: [("child".to_string(), "300".to_string())].into(),
            done: ["old".to_string()].into(),
            gone: ["trimmed".to_string()].into(),
            ..Position::default()
        };
        let merged = theirs.merge(mine);
        assert!(!merged.shards.contains_key("old"), "{merged:?}");
        assert!(merged.done.contains("old"));
        assert!(!merged.done.contains("trimmed"), "{merged:?}");
        assert!(merged.gone.is_empty(), "only a read's own finding");
        assert_eq!(merged.shards["child"], "300");
    }
}
