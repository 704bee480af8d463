//! `stockwatch users`: the dashboard's local users (names and argon2
//! password hashes in the data dir's users.toml).

use super::error::CliError;
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use stockwatch_web::users::Users;

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: UsersAction,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Add a user, or set a user's password. The password is read from
    /// the terminal (twice), or as one line from standard input.
    Add { name: String },
    /// Remove a user: they cannot sign in again (sessions open end within
    /// the server's restart or their idle time).
    Remove { name: String },
    /// List the users' names.
    List,
}

fn read_password() -> Result<String, CliError> {
    let failed = |e: std::io::Error| CliError::Io(format!("cannot read the password: {e}"));
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(failed)?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let first = rpassword::prompt_password("password: ").map_err(failed)?;
    if rpassword::prompt_password("again: ").map_err(failed)? != first {
        return Err(CliError::Usage("the two passwords differ; nothing was changed".into()));
    }
    Ok(first)
}

pub fn run(data_dir: &Path, args: &UsersArgs) -> Result<(), CliError> {
    let users = Users::in_dir(data_dir);
    let failed = |e: stockwatch_web::users::UsersError| CliError::Usage(e.to_string());
    match &args.action {
        UsersAction::Add { name } => {
            let password = read_password()?;
            let added = users.add(name, &password).map_err(failed)?;
            println!(
                "{} {} in {}",
                if added { "added" } else { "new password for" },
                stockwatch_domain::escape_for_terminal(name),
                users.path().display()
            );
        }
        UsersAction::Remove { name } => {
            if !users.remove(name).map_err(failed)? {
                return Err(CliError::Port(stockwatch_core::ports::PortError::not_found(format!(
                    "there is no user {} in {}",
                    stockwatch_domain::escape_for_terminal(name),
                    users.path().display()
                ))));
            }
            println!("removed {}", stockwatch_domain::escape_for_terminal(name));
        }
        UsersAction::List => {
            for name in users.names().map_err(failed)? {
                println!("{}", stockwatch_domain::escape_for_terminal(&name));
            }
        }
    }
    Ok(())
}
