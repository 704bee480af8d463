//! A deployed stack's outputs (deploy/template.yaml declares them), so
//! operators name the stack and never type a bucket, table or topic.

use super::Clients;
use super::errors::sdk_error;
use std::collections::HashMap;
use stockwatch_core::ports::{Need, PortError, PortResult};
use stockwatch_domain::escape_for_terminal;

/// Output keys of deploy/template.yaml that stockwatch reads.
pub const BUCKET_OUTPUT: &str = "BucketName";
pub const TABLE_OUTPUT: &str = "InventoryTableName";
pub const LEDGER_TABLE_OUTPUT: &str = "LedgerTableName";
pub const TOPIC_ARN_OUTPUT: &str = "TopicArn";
pub const REQUIRED_OUTPUTS: [&str; 4] = [BUCKET_OUTPUT, TABLE_OUTPUT, LEDGER_TABLE_OUTPUT, TOPIC_ARN_OUTPUT];
/// The fan-out feed's topic: stacks deployed before it have none.
pub const FANOUT_TOPIC_OUTPUT: &str = "FanoutTopicArn";
/// What followers' queue names start with: the operator policy allows
/// queues by this prefix (a stack's name may be too long to fit in one).
pub const FOLLOWER_PREFIX_OUTPUT: &str = "FollowerQueuePrefix";
/// The Cognito user pool the web dashboard signs users in against, and
/// its app client: stacks deployed before it have none.
pub const USER_POOL_OUTPUT: &str = "UserPoolId";
pub const USER_POOL_CLIENT_OUTPUT: &str = "UserPoolClientId";

/// The names one stack deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    pub bucket: String,
    pub table: String,
    pub ledger_table: String,
    pub topic_arn: String,
    pub fanout_topic_arn: Option<String>,
    /// Stacks deployed before it have none (followers derive one).
    pub follower_queue_prefix: Option<String>,
    /// The dashboard's users (`stockwatch serve --stack`); stacks deployed
    /// before it have none.
    pub user_pool_id: Option<String>,
    pub user_pool_client_id: Option<String>,
}

impl StackNames {
    /// The topic's name is the last part of its ARN.
    pub fn topic(&self) -> &str {
        self.topic_arn.rsplit(':').next().unwrap_or(&self.topic_arn)
    }
}

/// Reads the stack's outputs in the clients' region.
pub async fn read(clients: &Clients, stack: &str) -> PortResult<StackNames> {
    let what = format!("the stack {stack} in {}", clients.region);
    let answer = clients.cloudformation.describe_stacks().stack_name(stack).send().await;
    let answer = match answer {
        Ok(answer) => answer,
        // CloudFormation says "does not exist" with a ValidationError.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| format!("{s:?}").contains("does not exist")) =>
        {
            return Err(PortError::setup(
                Need::Stack,
                format!("there is no stack {} in {}", escape_for_terminal(stack), clients.region),
            ));
        }
        Err(e) => return Err(sdk_error(&what, e)),
    };
    let found = answer
        .stacks()
        .first()
        .ok_or_else(|| PortError::not_found(format!("{what} was not found")))?;
    let status = found.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
    let outputs: HashMap<&str, &str> = found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?, o.output_value()?)))
        .collect();
    from_outputs(stack, &status, &outputs)
}

/// Picks the names out of a stack's outputs; a missing one is said with the
/// stack's status, which usually explains it (still creating, rolled back).
pub fn from_outputs(stack: &str, status: &str, outputs: &HashMap<&str, &str>) -> PortResult<StackNames> {
    let get = |key: &str| {
        outputs.get(key).map(|v| v.to_string()).ok_or_else(|| {
            PortError::not_found(format!(
                "the stack {} ({}) has no output {key}; is it deployed from deploy/template.yaml, and finished?",
                escape_for_terminal(stack),
                escape_for_terminal(status)
            ))
        })
    };
    Ok(StackNames {
        bucket: get(BUCKET_OUTPUT)?,
        table: get(TABLE_OUTPUT)?,
        ledger_table: get(LEDGER_TABLE_OUTPUT)?,
        topic_arn: get(TOPIC_ARN_OUTPUT)?,
        fanout_topic_arn: outputs.get(FANOUT_TOPIC_OUTPUT).map(|v| v.to_string()),
        follower_queue_prefix: outputs.get(FOLLOWER_PREFIX_OUTPUT).map(|v| v.to_string()),
        user_pool_id: outputs.get(USER_POOL_OUTPUT).map(|v| v.to_string()),
        user_pool_client_id: outputs.get(USER_POOL_CLIENT_OUTPUT).map(|v| v.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_outputs() {
        let outputs = HashMap::from([
            (BUCKET_OUTPUT, "stockwatch-123-abc"),
            (TABLE_OUTPUT, "prod-InventoryTable-1X"),
            (LEDGER_TABLE_OUTPUT, "prod-LedgerTable-2Y"),
            (TOPIC_ARN_OUTPUT, "arn:aws:sns:eu-west-1:123456789012:prod-NoStock"),
        ]);
        let names = from_outputs("prod", "CREATE_COMPLETE", &outputs).unwrap();
        assert_eq!(names.bucket, "stockwatch-123-abc");
        assert_eq!(names.topic(), "prod-NoStock");
        assert_eq!(
            (names.user_pool_id, names.user_pool_client_id),
            (None, None),
            "an older stack"
        );
        let mut with_pool = outputs.clone();
        with_pool.insert(USER_POOL_OUTPUT, "eu-west-1_AbC123");
        with_pool.insert(USER_POOL_CLIENT_OUTPUT, "4h5i6j7k8l9m0n1o2p3q4r5s6t");
        let names = from_outputs("prod", "UPDATE_COMPLETE", &with_pool).unwrap();
        assert_eq!(names.user_pool_id.as_deref(), Some("eu-west-1_AbC123"));
        assert_eq!(names.user_pool_client_id.as_deref(), Some("4h5i6j7k8l9m0n1o2p3q4r5s6t"));
        let mut partial = outputs.clone();
        partial.remove(LEDGER_TABLE_OUTPUT);
        let e = from_outputs("prod", "ROLLBACK_COMPLETE", &partial)
            .unwrap_err()
            .to_string();
        assert!(e.contains("LedgerTableName") && e.contains("ROLLBACK_COMPLETE"), "{e}");
    }

    #[test]
    fn the_template_declares_every_output_read_here() {
        let template = include_str!("../../../deploy/template.yaml");
        let outputs = &template[template.find("\nOutputs:\n").expect("the template has outputs")..];
        for key in REQUIRED_OUTPUTS.iter().chain([
            &FANOUT_TOPIC_OUTPUT,
            &FOLLOWER_PREFIX_OUTPUT,
            &USER_POOL_OUTPUT,
            &USER_POOL_CLIENT_OUTPUT,
        ]) {
            assert!(
                outputs.contains(&format!("\n  {key}:\n")),
                "deploy/template.yaml has no output {key}"
            );
        }
    }
}
