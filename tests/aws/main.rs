//! The AWS tier: the AWS adapter over real HTTP against moto's server (and
//! DynamoDB Local), faults moto cannot make through scripted endpoints,
//! fencing with a clock ahead (libfaketime), the relay and the fan-out.
//! Needs `STOCKWATCH_TEST_MOTO` and `STOCKWATCH_TEST_DYNAMODB_LOCAL`:
//! `./scripts/test.sh` starts both; built with `--features tier-aws`.

mod adapter;
mod aws_cognito;
mod aws_faults;
mod aws_fencing;
mod aws_ledger;
mod aws_relay;
mod aws_serve;
mod contract_aws;
