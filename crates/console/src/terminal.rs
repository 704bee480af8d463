//! The terminal: raw mode and the alternate screen on the way in, both
//! undone on the way out, and a panic hook that undoes them too, so a
//! panic never leaves the operator's terminal unusable.

use ratatui::crossterm::{cursor, event, execute, terminal};
use ratatui::{Terminal, backend::CrosstermBackend};
use std::io::Stdout;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Takes the terminal over: raw mode, alternate screen, no cursor, and
/// the mouse if asked for. Call `restore` after, whatever happened; if
/// taking over fails half way, the terminal is given back here.
pub fn enter(mouse: bool) -> std::io::Result<Term> {
    give_back_on_panic();
    let taken = (|| {
        take_over(mouse)?;
        let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        term.hide_cursor()?;
        repaint(&mut term)?;
        Ok(term)
    })();
    if taken.is_err() {
        restore();
    }
    taken
}

fn take_over(mouse: bool) -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), terminal::EnterAlternateScreen)?;
    if mouse {
        execute!(std::io::stdout(), event::EnableMouseCapture)?;
    }
    Ok(())
}

/// Ctrl-Z: gives the terminal back and stops the process as the shell
/// expects (SIGTSTP); when `fg` continues it, takes the terminal over again
/// and redraws everything.
pub fn suspend(term: &mut Term, mouse: bool) -> std::io::Result<()> {
    restore();
    #[cfg(unix)]
    // SAFETY: raise only sends a signal to this process; the default
    // SIGTSTP action stops it until SIGCONT.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    take_over(mouse)?;
    term.hide_cursor()?;
    repaint(term)
}

/// Clears the screen and draws everything again on the next frame. Not
/// `Terminal::clear`: that asks the terminal where its cursor is, and a
/// terminal that never answers (some serial consoles, a wedged multiplexer)
/// would stop the console.
pub fn repaint(term: &mut Term) -> std::io::Result<()> {
    let area = term.size()?;
    term.resize(ratatui::layout::Rect::new(0, 0, area.width, area.height))
}

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

/// A panic restores the terminal before the usual report is printed.
fn give_back_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
