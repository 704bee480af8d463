//! `stockwatch completions SHELL` and `stockwatch man [--out DIR]`: shell
//! completions and man pages generated from the command line's own
//! definition. They read no config and open no backend: nothing is created
//! and no account is needed.

use super::error::CliError;
use super::{Cli, write_failed};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::{Path, PathBuf};
use stockwatch_domain::escape_for_terminal;

/// The name the binary is installed under: completions and pages are for it.
const BIN: &str = "stockwatch";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write stockwatch.1 and a page per command (stockwatch-upload.1, …)
    /// into this folder (created if missing) instead of printing the
    /// stockwatch page; prints the paths written.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub out: Option<PathBuf>,
}

/// Prints the completion script for the shell.
pub fn completions(args: &CompletionsArgs) -> Result<(), CliError> {
    // Into memory first: the generators panic on a failed write, and a
    // closed pipe (`stockwatch completions bash | head`) must end quietly.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN, &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script).and_then(|()| out.flush()).map_err(write_failed)
}

/// Prints the stockwatch page, or writes every page into `--out`.
pub fn man(args: &ManArgs) -> Result<(), CliError> {
    let root = man_command();
    match &args.out {
        None => {
            let mut page = Vec::new();
            page_of(root).render(&mut page).map_err(write_failed)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page).and_then(|()| out.flush()).map_err(write_failed)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| cannot_write(dir, &e))?;
            let mut written = Vec::new();
            write_pages(root, dir, &mut written)?;
            let mut out = std::io::stdout().lock();
            for path in written {
                writeln!(out, "{}", escape_for_terminal(&path.display().to_string())).map_err(write_failed)?;
            }
            out.flush().map_err(write_failed)
        }
    }
}

/// The command line as the pages show it: built, so global flags appear on
/// every command's page and each command knows its `stockwatch upload`
/// synopsis; without clap's `help` command (`--help` says the same).
fn man_command() -> clap::Command {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    root
}

fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
}

/// `cmd`'s page, then one page per command below it, named
/// `stockwatch-upload` (the name the pages refer to each other by: the
/// display name, which titles the page and names its file, while the
/// synopsis keeps `stockwatch upload`, the command as typed).
fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let prefix = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_string();
    let subcommands: Vec<clap::Command> = cmd.get_subcommands().cloned().collect();
    let page = page_of(cmd);
    let path = dir.join(page.get_filename());
    let mut text = Vec::new();
    page.render(&mut text)
        .and_then(|()| std::fs::write(&path, &text))
        .map_err(|e| cannot_write(&path, &e))?;
    written.push(path);
    for sub in subcommands {
        let name = format!("{prefix}-{}", sub.get_name());
        write_pages(sub.display_name(name), dir, written)?;
    }
    Ok(())
}

fn cannot_write(path: &Path, e: &std::io::Error) -> CliError {
    CliError::Io(format!("cannot write {}: {e}", path.display()))
}
