//! The Lambda tier: both functions as Lambda runs them (the runtime API
//! scripted, moto behind), their notifications, and the IAM test: each
//! role with exactly its policy from deploy/template.yaml. Needs
//! `STOCKWATCH_TEST_MOTO` and `STOCKWATCH_TEST_MOTO_IAM`; built with
//! `--features tier-lambda` (`./scripts/test.sh` turns every tier on).

mod functions;
mod iam;
mod lambda_notify;
