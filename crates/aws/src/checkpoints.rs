//! Checker checkpoints in the ledger table. Saving merges with what is
//! stored, shard by shard, under an optimistic version check, so several
//! checkers sharing a name never move it backwards.

use super::attrs::{n, opt_n, opt_s, s};
use super::errors::sdk_error;
use super::feed::Position;
use super::ledger::checkpoint_key;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use stockwatch_core::ports::{Checkpoints, FeedCursor, PortError, PortResult};

pub struct DynamoCheckpoints {
    client: Client,
    table: String,
}

impl DynamoCheckpoints {
    pub fn new(client: Client, table: String) -> Self {
        DynamoCheckpoints { client, table }
    }

    async fn stored(&self, name: &str) -> PortResult<Option<(Position, u64)>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(checkpoint_key(name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the ledger table {}", self.table), e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let cursor = opt_s(&item, "Cursor").map(FeedCursor);
        let position = Position::parse(cursor.as_ref())?;
        Ok(Some((position, opt_n(&item, "Version").unwrap_or(0))))
    }
}

#[async_trait]
impl Checkpoints for DynamoCheckpoints {
    async fn load(&self, name: &str) -> PortResult<Option<FeedCursor>> {
        Ok(self.stored(name).await?.map(|(p, _)| p.to_cursor()))
    }

    async fn save(&self, name: &str, cursor: &FeedCursor) -> PortResult<()> {
        let mine = Position::parse(Some(cursor))?;
        for _ in 0..5 {
            let (merged, condition, version) = match self.stored(name).await? {
                Some((theirs, version)) => (theirs.merge(mine.clone()), "Version = :v", version),
                None => (mine.clone(), "attribute_not_exists(pk)", 0),
            };
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(checkpoint_key(name)))
                .item("Cursor", s(merged.to_cursor().0))
                .item("Version", n(version + 1))
                .condition_expression(condition);
            if version > 0 || condition.contains(":v") {
                put = put.expression_attribute_values(":v", n(version));
            }
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => continue,
                Err(e) => return Err(sdk_error(&format!("the ledger table {}", self.table), e)),
            }
        }
        Err(PortError::transient(format!(
            "the checkpoint {name} keeps changing under concurrent checkers"
        )))
    }
}
