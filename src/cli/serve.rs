//! `stockwatch serve`: the web dashboard on this backend, until SIGTERM
//! or Ctrl-C. Signing in: the data dir's users (`stockwatch users add`)
//! on the local backend, the stack's Cognito user pool on AWS.

use super::Session;
use super::alerts::operator;
use super::error::CliError;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stockwatch_core::app::{FollowOptions, PUBLISHER_SILENT, Pass, Schedule};
use stockwatch_web::cognito::{Cognito, CognitoPool};
use stockwatch_web::session::SignIn;
use stockwatch_web::users::Users;
use stockwatch_web::{Anonymous, ServeOptions, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnonymousArg {
    /// Every page shows; acting needs signing in.
    Read,
    /// Only the sign-in page answers until one signs in.
    Refuse,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Loopback by default: put a reverse
    /// proxy with TLS in front to serve others (README: "The web dashboard").
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:8080",
        env = "STOCKWATCH_LISTEN"
    )]
    pub listen: SocketAddr,
    /// What visitors who have not signed in may do.
    #[arg(long, value_enum, default_value = "read", env = "STOCKWATCH_ANONYMOUS")]
    pub anonymous: AnonymousArg,
    /// Nobody acts from the page: no sign-in, no uploads, no checker.
    #[arg(long)]
    pub read_only: bool,
    /// Do not run the checker here (another process raises the alerts;
    /// with --stack the deployed check-stock function always does).
    #[arg(long)]
    pub no_checker: bool,
    /// The largest file an upload takes, in MB.
    #[arg(long, value_name = "MB", default_value_t = 256)]
    pub max_upload_mb: u64,
    /// Requests and event streams one address may hold open at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub per_client: usize,
    /// Mark cookies Secure: the dashboard is reached over HTTPS (a proxy
    /// in front terminates TLS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// A Cognito user pool to sign in against (a stack's is used by itself).
    #[arg(long, value_name = "ID", requires = "user_pool_client")]
    pub user_pool: Option<String>,
    /// The user pool's app client (no secret, USER_PASSWORD_AUTH allowed).
    #[arg(long, value_name = "ID", requires = "user_pool")]
    pub user_pool_client: Option<String>,
}

fn sign_in(ctx: &Session, args: &ServeArgs) -> Option<SignIn> {
    if args.read_only || ctx.data_read_only() {
        return None;
    }
    // A pool named by flags first, then a stack's, then the data dir's users.
    let aws = ctx.aws.as_ref();
    let pool = args
        .user_pool
        .clone()
        .zip(args.user_pool_client.clone())
        .or_else(|| aws.and_then(|a| a.user_pool_id.clone().zip(a.user_pool_client_id.clone())));
    if let Some((pool_id, client_id)) = pool {
        // A pool's id starts with its region: `eu-west-1_AbC123`.
        let region = match pool_id.split_once('_') {
            Some((region, _)) if !region.is_empty() => region.to_string(),
            _ => aws.and_then(|a| a.region.clone()).unwrap_or_else(|| "us-east-1".into()),
        };
        return Some(SignIn::Cognito(Cognito::new(CognitoPool {
            region,
            pool_id,
            client_id,
            endpoint: cognito_endpoint(),
        })));
    }
    ctx.local
        .as_ref()
        .map(|l| SignIn::Local(Users::in_dir(&l.opened.data_dir)))
}

/// The endpoint the AWS SDK would use for Cognito (tests point it at moto).
fn cognito_endpoint() -> Option<String> {
    ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
}

pub async fn run(ctx: &Session, args: &ServeArgs) -> Result<(), CliError> {
    let read_only = args.read_only || ctx.data_read_only();
    let sign_in = sign_in(ctx, args);
    let checker = (!args.no_checker && !read_only && ctx.roles.checks_here()).then(|| ctx.checker());
    let uploads = (!read_only).then(|| ctx.upload_flow(true));
    // A server that raises the alerts itself checks beside following, as
    // `watch` does (not through an in-process relay as the console: a
    // relay publishes a page only after checking the one before, and a
    // burst's last changes would reach the pages a whole check late).
    let duties = checker.map(|checker| {
        let duties = ctx.ops.duties(
            Schedule::checking_follower(&ctx.knobs),
            Some(Pass::Check(Box::new(checker))),
            Some(ctx.quiet_loader()),
        );
        (duties, ctx.ports.idle_poll)
    });
    let said_sign_in = match &sign_in {
        Some(SignIn::Local(users)) => {
            let known = users.names().map_err(|e| CliError::Usage(e.to_string()))?.len();
            format!(
                "sign-in: {known} local user{} in {} (stockwatch users add NAME)",
                if known == 1 { "" } else { "s" },
                users.path().display()
            )
        }
        Some(SignIn::Cognito(_)) => "sign-in: the Cognito user pool".to_string(),
        None => "nobody signs in: read-only".to_string(),
    };
    let options = ServeOptions {
        listen: args.listen,
        anonymous: match args.anonymous {
            AnonymousArg::Read => Anonymous::Read,
            AnonymousArg::Refuse => Anonymous::Refuse,
        },
        sign_in,
        uploads,
        thresholds: ctx.checker_config.thresholds.clone(),
        max_upload_bytes: args.max_upload_mb.saturating_mul(1_000_000),
        per_client: args.per_client,
        secure_cookies: args.secure_cookies,
        follower: format!("serve {} (pid {})", operator()?, std::process::id()),
        follow: FollowOptions {
            snapshot: true,
            snoozes: true,
            from_start: false,
            wait: Duration::from_secs(10),
            keep_alive_every: ctx.knobs.keep_alive_every(),
            silent_after: PUBLISHER_SILENT,
        },
        duties,
        location: ctx.ports.location.clone(),
        clock: Arc::new(stockwatch_domain::Timestamp::now),
    };
    let server = Server::bind(ctx.ops.clone(), options)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    println!(
        "serving the dashboard on http://{} ({}); {said_sign_in}; Ctrl-C stops",
        server.local_addr(),
        ctx.ports.location
    );
    server
        .run(stockwatch_core::shutdown::signal())
        .await
        .map_err(|e| CliError::Io(e.to_string()))
}
