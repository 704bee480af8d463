//! Reading and writing DynamoDB items. The Streams SDK and Lambda's events
//! have their own attribute value types: `serde_dynamo` converts them.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use stockwatch_core::ports::PortError;
use stockwatch_domain::Timestamp;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn missing(name: &str) -> PortError {
    PortError::permanent(format!("an item in the table has no usable `{name}` attribute"))
}

pub fn get_s(item: &Item, name: &str) -> Result<String, PortError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| missing(name))
}

pub fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, PortError> {
    opt_n(item, name).ok_or_else(|| missing(name))
}

pub fn opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

pub fn opt_time(item: &Item, name: &str) -> Option<Timestamp> {
    opt_n::<i64>(item, name).map(Timestamp)
}

/// A stream record's image as an ordinary item. A type this SDK does not
/// know yet reads as missing (serde_dynamo would panic on it).
pub fn from_stream(image: &HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>) -> Item {
    let known: HashMap<_, _> = image
        .iter()
        .filter(|(_, value)| !value.is_unknown())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    serde_dynamo::Item::from(known).into()
}
