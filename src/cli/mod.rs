//! The headless command line: `upload`, `stock`, `alerts`, `ack`, `watch`,
//! `uploads`, `check`, `provision`, and `completions` and `man` (generated
//! from this definition). Thin: it parses, calls the pipeline and prints.

mod alerts;
mod check;
mod completions;
mod console;
pub mod error;
mod history;
pub mod output;
mod provision;
mod relay;
mod serve;
mod snooze;
mod stock;
mod upload;
mod uploads;
mod users;
mod watch;

use clap::{Args, Parser, Subcommand, ValueEnum};
use error::{CliError, EXIT_CODES_HELP};
use std::path::PathBuf;
use std::sync::Arc;
use stockwatch_aws::{AwsSettings, Clients, WriteMode};
use stockwatch_core::app::Operations;
use stockwatch_core::pipeline::loader::LOAD_LEASE;
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader, RetryNotice, RetryPolicy, UploadFlow};
use stockwatch_core::ports::Ports;
use stockwatch_core::settings as config;
use stockwatch_core::settings::{self, AlertRules, Checks, ConfigFile, Given, LoaderKind, Loads, Roles, TestKnobs};
use stockwatch_local::LocalBackend;

#[derive(Debug, Parser)]
#[command(
    name = "stockwatch",
    version,
    about = "Store inventory in, stock alerts out: load inventory CSV files, raise out-of-stock and low-stock alerts, follow them live.",
    long_about = None,
    after_help = EXIT_CODES_HELP,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub console: console::ConsoleArgs,
    /// Without a command, stockwatch opens the console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// SQLite and a bucket folder in the data dir (no account needed).
    Local,
    /// S3, DynamoDB (+ Streams) and SNS, with the standard AWS credential chain.
    Aws,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where stock is kept [default: local].
    #[arg(long, env = "STOCKWATCH_BACKEND", value_enum, global = true)]
    pub backend: Option<BackendKind>,
    /// Data dir of the local backend [default: the platform's data dir, e.g. ~/.local/share/stockwatch].
    #[arg(long, env = "STOCKWATCH_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file [default: the platform's config dir, e.g. ~/.config/stockwatch/config.toml].
    #[arg(long, env = "STOCKWATCH_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Low-stock threshold for items without their own [default: 3]
    /// [env: STOCKWATCH_LOW_THRESHOLD].
    #[arg(long, global = true, value_name = "N")]
    pub low_threshold: Option<u32>,
    /// Notify LOW alerts too (OUT alerts are always notified)
    /// [env: STOCKWATCH_NOTIFY_LOW: 1/0, yes/no, true/false, on/off].
    #[arg(long, global = true)]
    pub notify_low: bool,
    /// Notify SOON alerts too: an item predicted to run out within its
    /// horizon (alerts.soon_within, 3 days unless set) [env: STOCKWATCH_NOTIFY_SOON].
    #[arg(long, global = true)]
    pub notify_soon: bool,
    /// Remind of OUT alerts still open and unacknowledged this long after
    /// their last message (e.g. 1h) [default: never; alerts.renotify_after]
    /// [env: STOCKWATCH_RENOTIFY_AFTER].
    #[arg(long, global = true, value_name = "DURATION")]
    pub renotify_after: Option<String>,
    /// `relay`: what batches raise is sent together once no new alert came
    /// for this long, 0 for each page at once [default: 30s; alerts.group_wait]
    /// [env: STOCKWATCH_GROUP_WAIT].
    #[arg(long, global = true, value_name = "DURATION")]
    pub group_wait: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Names of an AWS deployment; the region, profile and endpoints come from
/// the standard AWS settings (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL…).
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "AWS backend")]
pub struct AwsArgs {
    /// The stack deployed from deploy/template.yaml (implies --backend aws):
    /// its outputs name the bucket, tables and topic, and its functions load
    /// uploads and raise alerts.
    #[arg(long, env = "STOCKWATCH_STACK", global = true, value_name = "NAME")]
    pub stack: Option<String>,
    /// The bucket stores upload inventory files to.
    #[arg(long, env = "STOCKWATCH_BUCKET", global = true, value_name = "NAME")]
    pub bucket: Option<String>,
    /// The inventory table [default: Inventory].
    #[arg(long, env = "STOCKWATCH_TABLE", global = true, value_name = "NAME")]
    pub table: Option<String>,
    /// The alert ledger table [default: StockwatchAlerts].
    #[arg(long, env = "STOCKWATCH_LEDGER_TABLE", global = true, value_name = "NAME")]
    pub ledger_table: Option<String>,
    /// The notification topic's name [default: NoStock].
    #[arg(long, env = "STOCKWATCH_TOPIC", global = true, value_name = "NAME")]
    pub topic: Option<String>,
    /// The topic's ARN [default: the one `provision` recorded].
    #[arg(long, env = "STOCKWATCH_TOPIC_ARN", global = true, value_name = "ARN")]
    pub topic_arn: Option<String>,
    /// Reminders go to this topic instead [default: the alert topic; alerts.escalation_topic_arn]
    /// [env: STOCKWATCH_ESCALATION_TOPIC_ARN].
    #[arg(long, global = true, value_name = "ARN")]
    pub escalation_topic_arn: Option<String>,
    /// AWS region [default: AWS_REGION or the profile's].
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile [default: AWS_PROFILE or `default`].
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Writes in flight at once while loading (stores, in batched mode) [default: 32].
    #[arg(long, env = "STOCKWATCH_WRITE_CONCURRENCY", global = true, value_name = "N")]
    pub write_concurrency: Option<usize>,
    /// How loads write rows [default: batched].
    #[arg(long, env = "STOCKWATCH_WRITE_MODE", global = true, value_parser = one_of(&WriteMode::ALL, WriteMode::name, WriteMode::describe))]
    pub write_mode: Option<WriteMode>,
    /// Who loads uploaded files: this stockwatch, or the deployed S3-triggered
    /// function (uploads then wait for its report) [default: function with
    /// --stack, else console].
    #[arg(long, env = "STOCKWATCH_LOADER", global = true, value_parser = one_of(&LoaderKind::ALL, LoaderKind::name, LoaderKind::describe))]
    pub loader: Option<LoaderKind>,
}

/// A flag's parser for a settings enum the layers below define (they know
/// nothing of clap): its names, with their help, and nothing else accepted.
fn one_of<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    describe: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T> {
    let values = all
        .iter()
        .map(move |v| clap::builder::PossibleValue::new(name(*v)).help(describe(*v)));
    clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(values), move |text| {
        *all.iter()
            .find(|v| name(**v) == text)
            .expect("clap accepts only the listed names")
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload inventory files and load them; prints a report per file.
    Upload(upload::UploadArgs),
    /// List stock by store and item: OUT rows red, LOW rows yellow.
    Stock(stock::StockArgs),
    /// One item's counts over time (as-of, count, file), oldest first, and
    /// its forecast: units sold a day, days left, when it runs out.
    History(history::HistoryArgs),
    /// List open and acknowledged alerts, newest first.
    Alerts(alerts::AlertsArgs),
    /// Acknowledge an alert.
    Ack(alerts::AckArgs),
    /// Take an acknowledgement back (one made by mistake): the alert is open
    /// again, and its reminders come due again.
    Unack(alerts::UnackArgs),
    /// Snooze an alert's item, a store or one of its items: new alerts are
    /// raised and shown, not notified, until the snooze ends.
    Snooze(snooze::SnoozeArgs),
    /// End a snooze.
    Unsnooze(snooze::UnsnoozeArgs),
    /// Follow changes and alerts until interrupted (runs the checker too).
    Watch(watch::WatchArgs),
    /// List uploaded files with their load status, or show one file's report.
    Uploads(uploads::UploadsArgs),
    /// Run the checker once: raise and notify alerts for changes not yet checked.
    Check(check::CheckArgs),
    /// Publish every change and alert to each console's and watch's queue,
    /// and raise the alerts (AWS, once per setup without a stack).
    Relay(relay::RelayArgs),
    /// Prepare the backend: the local data dir, or the AWS bucket, tables and topic.
    Provision(provision::ProvisionArgs),
    /// Serve the web dashboard: the live stock, alerts and uploads in a
    /// browser, for people who never open a terminal.
    Serve(serve::ServeArgs),
    /// The web dashboard's local users (the data dir's users.toml).
    Users(users::UsersArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the stockwatch man page, or write every command's page into a folder with --out.
    Man(completions::ManArgs),
}

/// Everything a command needs, resolved from flags, environment and config.
pub struct Session {
    pub ports: Ports,
    /// The operator's use cases over these ports (`stockwatch_core::app`).
    pub ops: Operations,
    pub local: Option<LocalBackend>,
    pub config: ConfigFile,
    pub checker_config: CheckerConfig,
    /// The alert rules the checker configurations come from.
    pub rules: AlertRules,
    /// What only tests turn (short leases, queues abandoned sooner).
    pub knobs: TestKnobs,
    /// Who loads, who raises the alerts, how followers follow, whether
    /// this process writes (`stockwatch_core::settings::Roles`).
    pub roles: Roles,
    /// The AWS deployment's names and region (AWS backend only).
    pub aws: Option<AwsSettings>,
}

/// Settings resolved from flags, environment and the config file.
pub struct Resolved {
    pub config: ConfigFile,
    /// The alert rules from every layer (`stockwatch_core::settings`).
    pub rules: AlertRules,
    /// What only tests turn.
    pub knobs: TestKnobs,
    pub kind: BackendKind,
    pub data_dir: Option<PathBuf>,
    pub aws: Option<AwsSettings>,
    /// The AWS clients made to read a stack, kept so connecting does not
    /// resolve credentials and region a second time.
    clients: Option<Clients>,
}

impl Resolved {
    pub async fn from(global: &GlobalArgs) -> Result<Resolved, CliError> {
        let (config_path, must_exist) = match &global.config {
            Some(path) => (Some(path.clone()), true),
            None => (config::default_config_path(), false),
        };
        let config = match &config_path {
            Some(path) => config::load(path, must_exist)?,
            None => ConfigFile::default(),
        };
        // The console's key sets are its own: named wrong in the file, every
        // command says so, with the line (not only the console, later).
        if let Some(keymap) = &config.keymap
            && stockwatch_console::keymap::builtin(keymap.get_ref()).is_none()
        {
            return Err(config
                .invalid_at(
                    &keymap.span(),
                    &format!(
                        "there is no built-in keymap `{}`; the built-in keymaps are default and arrows (your own \
                         bindings go in keymap.toml beside the config file)",
                        stockwatch_domain::escape_for_terminal(keymap.get_ref())
                    ),
                )
                .into());
        }
        let knobs = TestKnobs::from_env(|name| std::env::var(name).ok());
        let rules = AlertRules::resolve(&given(global), &config).map_err(|e| CliError::Usage(e.to_string()))?;
        // Naming a stack names an AWS deployment: --stack alone means AWS.
        let stack_flag = global.aws.stack.is_some();
        let kind = match (global.backend, config.backend.as_ref().map(|b| b.get_ref().as_str())) {
            (Some(kind), _) => kind,
            (None, _) if stack_flag => BackendKind::Aws,
            (None, None) if config.aws.stack.is_some() => BackendKind::Aws,
            (None, Some("aws")) => BackendKind::Aws,
            // The file's backend is checked when read: `local` or `aws`.
            (None, _) => BackendKind::Local,
        };
        if kind == BackendKind::Local && stack_flag {
            return Err(CliError::Usage(
                "--stack (or STOCKWATCH_STACK) names an AWS stack, but the backend is local; drop --backend local"
                    .into(),
            ));
        }
        let mut clients = None;
        let (data_dir, aws) = match kind {
            BackendKind::Local => {
                let dir = global
                    .data_dir
                    .clone()
                    .or_else(|| config.data_dir.as_ref().map(|d| config::expand_home(d.get_ref())))
                    .or_else(config::default_data_dir)
                    .ok_or_else(|| {
                        CliError::Usage(
                            "no home directory to keep data in; pass --data-dir or set STOCKWATCH_DATA_DIR".into(),
                        )
                    })?;
                (Some(dir), None)
            }
            BackendKind::Aws => {
                let (mut settings, made) = aws_settings(&global.aws, &config).await?;
                settings.escalation_topic_arn = rules.escalation_topic_arn.clone();
                settings.history_keep = rules.history_keep;
                settings.follower_abandoned = knobs.abandoned();
                clients = made;
                (None, Some(settings))
            }
        };
        Ok(Resolved {
            config,
            rules,
            knobs,
            kind,
            data_dir,
            aws,
            clients,
        })
    }

    /// Clients for these AWS settings: the ones already made, or new ones.
    pub async fn clients(&self, settings: &AwsSettings) -> Result<Clients, CliError> {
        match &self.clients {
            Some(clients) => Ok(clients.clone()),
            None => Ok(Clients::load(settings).await?),
        }
    }
}

/// Names given beside a stack. A stack names everything: a name also given
/// elsewhere (often a variable left from another deployment) would silently
/// split the deployment in two.
fn names_beside_a_stack(args: &AwsArgs, file: &config::AwsFileSettings) -> Vec<&'static str> {
    [
        ("--bucket / STOCKWATCH_BUCKET / bucket", &args.bucket, &file.bucket),
        ("--table / STOCKWATCH_TABLE / table", &args.table, &file.table),
        (
            "--ledger-table / STOCKWATCH_LEDGER_TABLE / ledger_table",
            &args.ledger_table,
            &file.ledger_table,
        ),
        ("--topic / STOCKWATCH_TOPIC / topic", &args.topic, &file.topic),
        (
            "--topic-arn / STOCKWATCH_TOPIC_ARN / topic_arn",
            &args.topic_arn,
            &file.topic_arn,
        ),
    ]
    .into_iter()
    .filter(|(_, flag, file)| flag.is_some() || file.is_some())
    .map(|(what, _, _)| what)
    .collect()
}

/// The deployment's settings, and the clients made to read its stack (if any).
async fn aws_settings(args: &AwsArgs, config: &ConfigFile) -> Result<(AwsSettings, Option<Clients>), CliError> {
    let file = &config.aws;
    let pick = |flag: &Option<String>, file: &Option<String>| flag.clone().or_else(|| file.clone());
    // As everywhere: flag, then environment (the AWS chain reads it), then file.
    let from_environment = |names: &[&str]| names.iter().any(|n| std::env::var_os(n).is_some());
    let region = args.region.clone().or_else(|| {
        (!from_environment(&["AWS_REGION", "AWS_DEFAULT_REGION"]))
            .then(|| file.region.clone())
            .flatten()
    });
    let profile = args.profile.clone().or_else(|| {
        (!from_environment(&["AWS_PROFILE"]))
            .then(|| file.profile.clone())
            .flatten()
    });
    let stack_name = pick(&args.stack, &file.stack);
    let stack = match &stack_name {
        Some(name) => {
            let clashes = names_beside_a_stack(args, file);
            if !clashes.is_empty() {
                return Err(CliError::Usage(format!(
                    "the stack {} names the bucket, tables and topic, but so does {}; unset or drop it",
                    stockwatch_domain::escape_for_terminal(name),
                    clashes.join(", and ")
                )));
            }
            let mut locate = AwsSettings::new(String::new());
            locate.region = region.clone();
            locate.profile = profile.clone();
            let clients = Clients::load(&locate).await?;
            let names = retries()
                .run("read the stack", || stockwatch_aws::stack::read(&clients, name))
                .await?;
            Some((names, clients))
        }
        None => None,
    };
    let (stack, clients) = stack.map_or((None, None), |(names, clients)| (Some(names), Some(clients)));
    let bucket = pick(&args.bucket, &file.bucket)
        .or_else(|| stack.as_ref().map(|s| s.bucket.clone()))
        .ok_or_else(|| {
            CliError::Usage(
                "the AWS backend needs a bucket: pass --stack NAME (a stack deployed from deploy/template.yaml) or \
                 --bucket NAME, set STOCKWATCH_STACK or STOCKWATCH_BUCKET, or set `stack` or `bucket` under [aws] in \
                 the config file"
                    .into(),
            )
        })?;
    let mut settings = AwsSettings::new(bucket);
    if let Some(names) = &stack {
        settings.table = names.table.clone();
        settings.ledger_table = names.ledger_table.clone();
        settings.topic = names.topic().to_string();
        settings.topic_arn = Some(names.topic_arn.clone());
        settings.fanout_topic_arn = names.fanout_topic_arn.clone();
        settings.follower_queue_prefix = names.follower_queue_prefix.clone();
        settings.user_pool_id = names.user_pool_id.clone();
        settings.user_pool_client_id = names.user_pool_client_id.clone();
    }
    if let Some(table) = pick(&args.table, &file.table) {
        settings.table = table;
    }
    if let Some(table) = pick(&args.ledger_table, &file.ledger_table) {
        settings.ledger_table = table;
    }
    if let Some(topic) = pick(&args.topic, &file.topic) {
        settings.topic = topic;
    }
    if let Some(arn) = pick(&args.topic_arn, &file.topic_arn) {
        settings.topic_arn = Some(arn);
    }
    settings.stack = stack_name;
    settings.region = region;
    settings.profile = profile;
    if let Some(mode) = args.write_mode.or(file.write_mode) {
        settings.write_mode = mode;
    }
    if let Some(n) = args.write_concurrency.or(file.write_concurrency) {
        settings.write_concurrency = n.clamp(1, 512);
    }
    Ok((settings, clients))
}

impl Session {
    pub async fn open(global: &GlobalArgs) -> Result<Session, CliError> {
        Session::open_as(global, false).await
    }

    /// The session of the fan-out feed's publisher (`stockwatch relay`).
    pub async fn open_publisher(global: &GlobalArgs) -> Result<Session, CliError> {
        Session::open_as(global, true).await
    }

    async fn open_as(global: &GlobalArgs, publisher: bool) -> Result<Session, CliError> {
        let resolved = Resolved::from(global).await?;
        let (ports, local) = match (&resolved.data_dir, &resolved.aws) {
            (_, Some(aws)) => (
                {
                    let clients = resolved.clients(aws).await?;
                    retries()
                        .run("connect", || {
                            let clients = clients.clone();
                            async move {
                                if publisher {
                                    stockwatch_aws::connect_publisher(aws, clients).await
                                } else {
                                    stockwatch_aws::connect_with(aws, clients).await
                                }
                            }
                        })
                        .await?
                },
                None,
            ),
            (Some(dir), None) => {
                let local = LocalBackend::keeping_history(dir, resolved.rules.history_keep)?;
                (local.ports.clone(), Some(local))
            }
            (None, None) => unreachable!("every backend resolves its settings"),
        };
        let (config, rules, knobs) = (resolved.config, resolved.rules, resolved.knobs);
        let name = config
            .checker_name
            .clone()
            .unwrap_or_else(|| CheckerConfig::default().name);
        // A pass is sent whole; only `relay` holds batches for a window.
        let checker_config = rules.checker_config(&name, false, &knobs);
        // Who loads, who checks, how followers follow: decided once.
        let loader = resolved.aws.as_ref().and(global.aws.loader.or(config.aws.loader));
        let stack = resolved.aws.as_ref().is_some_and(|aws| aws.stack.is_some());
        let writable = !local.as_ref().is_some_and(|l| l.opened.read_only);
        let roles = Roles::decide(loader, stack, ports.relayed, writable);
        Ok(Session {
            ops: Operations::new(ports.clone(), retries()),
            ports,
            local,
            config,
            checker_config,
            rules,
            knobs,
            roles,
            aws: resolved.aws.clone(),
        })
    }

    /// The local data dir may be read here, not written: front ends that
    /// would write (a checker, acknowledging keys) leave it alone.
    pub fn data_read_only(&self) -> bool {
        !self.roles.writable
    }

    /// A loader that loads here, or waits for the deployed function.
    pub fn quiet_loader(&self) -> Loader {
        let loader = Loader::new(self.ports.clone()).with_lease(self.knobs.lease.unwrap_or(LOAD_LEASE));
        if self.roles.loads == Loads::Function {
            loader.loaded_elsewhere(FUNCTION_WAIT)
        } else {
            loader
        }
    }

    pub fn loader(&self) -> Loader {
        self.quiet_loader().with_retry(retries())
    }

    /// Uploads as the `upload` command makes them: loaded here (or by the
    /// function), then checked here when `check` (claims are idempotent, so
    /// checking beside a deployed function raises nothing twice).
    /// A stack's function (or a relay) raises the alerts of what is
    /// uploaded: no checker runs here then (an operator may not claim).
    pub fn upload_flow(&self, check: bool) -> UploadFlow {
        let checker = (check && self.roles.checks == Checks::Here).then(|| self.checker());
        UploadFlow::new(self.ports.clone(), self.loader(), checker)
    }

    pub fn checker(&self) -> Checker {
        Checker::new(self.ports.clone(), self.checker_config.clone()).with_retry(retries())
    }

    /// The checker of `stockwatch relay`: alerts come in pages, held for
    /// the grouping window and sent together.
    pub fn relay_checker(&self) -> Checker {
        let config = self.rules.checker_config(&self.checker_config.name, true, &self.knobs);
        Checker::new(self.ports.clone(), config).with_retry(retries())
    }
}

/// The values given in the environment and by flags, for the settings
/// path (`stockwatch_core::settings`): a flag over its variable.
fn given(global: &GlobalArgs) -> Given {
    let yes = |on: bool| on.then(|| "yes".to_string());
    Given::from_env(|name| std::env::var(name).ok())
        .flag(settings::LOW_THRESHOLD, global.low_threshold.map(|n| n.to_string()))
        .flag(settings::NOTIFY_LOW, yes(global.notify_low))
        .flag(settings::NOTIFY_SOON, yes(global.notify_soon))
        .flag(settings::RENOTIFY_AFTER, global.renotify_after.clone())
        .flag(settings::GROUP_WAIT, global.group_wait.clone())
        .flag(settings::ESCALATION_TOPIC_ARN, global.aws.escalation_topic_arn.clone())
}

/// How long an upload waits for the deployed function's report.
const FUNCTION_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// How the CLI retries a failed request: the default policy, each retry
/// shown on stderr. The one retry layer (the SDK makes one attempt).
pub fn retries() -> RetryPolicy {
    RetryPolicy::default().announcing(Arc::new(show_retry))
}

/// Retries are shown, on stderr so `--json` output stays clean.
fn show_retry(notice: &RetryNotice) {
    say(&format!(
        "{} failed ({}); retrying in {} ms (attempt {} of {})",
        notice.what,
        notice.error,
        notice.delay.as_millis(),
        notice.attempt + 1,
        notice.attempts
    ));
}

/// Every message to people on stderr goes through here: errors quote paths,
/// keys and ids that can hold anything, and none of it reaches the terminal raw.
pub fn say(message: &str) {
    eprintln!("stockwatch: {}", stockwatch_domain::escape_for_terminal(message));
}

/// `say` for a message whose lines are its own (TOML's errors point at the
/// spot with a caret below the line): each line escaped on its own.
fn say_lines(message: &str) {
    let mut lines = message.lines();
    say(lines.next().unwrap_or_default());
    for line in lines {
        eprintln!("{}", stockwatch_domain::escape_for_terminal(line));
    }
}

/// Whether the command line asks for JSON (before any `--`): errors then
/// come as JSON too, even those of a command line clap could not parse.
fn json_wanted() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// An error for scripts, one line on stderr (stdout keeps only results):
/// `{"error":{"exit_code":4,"kind":"not_found","message":"…"}}`.
fn say_json_error(code: u8, message: &str) {
    let kind = match code {
        error::exit::USAGE => "usage",
        error::exit::REJECTED => "rejected",
        error::exit::NOT_FOUND => "not_found",
        error::exit::CONFLICT => "conflict",
        _ => "failure",
    };
    let value = serde_json::json!({ "error": { "exit_code": code, "kind": kind, "message": message } });
    let mut err = std::io::stderr().lock();
    let _ = output::json_line(&mut err, &value);
}

/// Runs the command line; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let json = json_wanted();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are answers, not errors: clap prints them.
        Err(e) if json && e.use_stderr() => {
            let first = e.to_string();
            let message = first.lines().next().unwrap_or_default().trim_start_matches("error: ");
            say_json_error(error::exit::USAGE, message);
            return std::process::ExitCode::from(error::exit::USAGE);
        }
        Err(e) => e.exit(),
    };
    // Generated from the definition alone: no config, backend, log or runtime.
    match &cli.command {
        Some(Command::Completions(args)) => return exit_with(completions::completions(args), json),
        Some(Command::Man(args)) => return exit_with(completions::man(args), json),
        _ => {}
    }
    if let Err(message) = stockwatch_core::logging::check_settings() {
        if json {
            say_json_error(error::exit::USAGE, &message);
        } else {
            say(&message);
        }
        return std::process::ExitCode::from(error::exit::USAGE);
    }
    let _log_guard = stockwatch_core::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("cannot start: {e}"));
            return std::process::ExitCode::from(error::exit::FAILURE);
        }
    };
    let result = runtime.block_on(run(cli));
    // A blocking read still in flight (a preview of a slow file) must not hold up the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    exit_with(result, json)
}

/// Reports a command's error, if any, and gives its exit code.
fn exit_with(result: Result<(), CliError>, json: bool) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match e.message() {
                Some(message) => tracing::error!(error = %message, code = e.exit_code(), "command failed"),
                // Already reported (rejected files): only the code is news.
                None => tracing::info!(code = e.exit_code(), "finished"),
            }
            match e.message() {
                Some(message) if json => say_json_error(e.exit_code(), &message),
                Some(message) if matches!(&e, CliError::Config(c) if c.is_multiline()) => say_lines(&message),
                Some(message) => say(&message),
                None => {}
            }
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let Some(command) = cli.command else {
        let ctx = Session::open(&cli.global).await?;
        return console::start(&ctx, &cli.console).await;
    };
    if let Command::Provision(args) = &command {
        return provision::run(&cli.global, args).await;
    }
    if let Command::Relay(args) = &command {
        return relay::run(&cli.global, args).await;
    }
    let ctx = Session::open(&cli.global).await?;
    match command {
        Command::Upload(args) => upload::run(&ctx, &args).await,
        Command::Stock(args) => stock::run(&ctx, &args).await,
        Command::History(args) => history::run(&ctx, &args).await,
        Command::Alerts(args) => alerts::list(&ctx, &args).await,
        Command::Ack(args) => alerts::ack(&ctx, &args).await,
        Command::Unack(args) => alerts::unack(&ctx, &args).await,
        Command::Watch(args) => watch::run(&ctx, &args).await,
        Command::Snooze(args) => snooze::snooze(&ctx, &args).await,
        Command::Unsnooze(args) => snooze::unsnooze(&ctx, &args).await,
        Command::Uploads(args) => uploads::run(&ctx, &args).await,
        Command::Check(args) => check::run(&ctx, &args).await,
        Command::Serve(args) => serve::run(&ctx, &args).await,
        Command::Users(args) => match &ctx.local {
            Some(local) => users::run(&local.opened.data_dir, &args),
            None => Err(CliError::Usage(
                "`stockwatch users` manages the local backend's users; on AWS the dashboard signs users in against \
                 the stack's Cognito user pool (aws cognito-idp admin-create-user, docs/aws.md)"
                    .into(),
            )),
        },
        Command::Provision(_) | Command::Relay(_) => unreachable!("handled above"),
        Command::Completions(_) | Command::Man(_) => unreachable!("handled before the runtime starts"),
    }
}

/// Broken pipes (`stockwatch stock | head`) end output quietly.
pub fn write_failed(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::Reported(error::exit::OK)
    } else {
        CliError::Io(format!("cannot write the output: {e}"))
    }
}
