//! Plain-text tables and colours for terminals, JSON for scripts. Every
//! string from a file or the backend goes through `escape_for_terminal`.

use serde::Serialize;
use std::io::{IsTerminal, Write};
use stockwatch_domain::{escape_for_terminal, terminal_safe_json};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Red,
    Yellow,
    Dim,
    Green,
}

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn paint(text: &str, tone: Tone, colour: bool) -> String {
    let code = match tone {
        Tone::Plain => return text.to_string(),
        Tone::Red => "31;1",
        Tone::Yellow => "33",
        Tone::Dim => "2",
        Tone::Green => "32",
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A cell: text already safe for the terminal, and its tone.
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// Escapes `text`: use for anything that came from a file or the backend.
    pub fn new(text: &str) -> Cell {
        Cell {
            text: escape_for_terminal(text).into_owned(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: &str, tone: Tone) -> Cell {
        Cell {
            tone,
            ..Cell::new(text)
        }
    }
}

/// Columns sized to their content, one space-separated line per row.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<(Vec<Cell>, Tone)>,
    /// Right-aligned columns (numbers).
    right: Vec<usize>,
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Self {
        Table {
            headers,
            rows: Vec::new(),
            right: Vec::new(),
        }
    }

    pub fn align_right(mut self, column: usize) -> Self {
        self.right.push(column);
        self
    }

    /// Adds a row; `tone` colours the whole row unless a cell has its own.
    pub fn row(&mut self, cells: Vec<Cell>, tone: Tone) {
        self.rows.push((cells, tone));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn write(&self, out: &mut impl Write, colour: bool) -> std::io::Result<()> {
        self.write_continued(out, colour, None).map(|_| ())
    }

    /// Writes the rows as a continuation of a table written before with
    /// `before` widths (its header not again), or whole when `None`; returns
    /// the widths used, for the next part.
    pub fn write_continued(
        &self,
        out: &mut impl Write,
        colour: bool,
        before: Option<&[usize]>,
    ) -> std::io::Result<Vec<usize>> {
        let mut widths: Vec<usize> = match before {
            Some(before) => before.to_vec(),
            None => self.headers.iter().map(|h| h.width()).collect(),
        };
        for (cells, _) in &self.rows {
            for (i, cell) in cells.iter().enumerate() {
                widths[i] = widths[i].max(cell.text.width());
            }
        }
        if before.is_none() {
            let header: Vec<Cell> = self.headers.iter().map(|h| Cell::new(h)).collect();
            self.line(out, &header, Tone::Plain, &widths, colour, true)?;
        }
        for (cells, tone) in &self.rows {
            self.line(out, cells, *tone, &widths, colour, false)?;
        }
        Ok(widths)
    }

    fn line(
        &self,
        out: &mut impl Write,
        cells: &[Cell],
        tone: Tone,
        widths: &[usize],
        colour: bool,
        bold: bool,
    ) -> std::io::Result<()> {
        let mut text = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.text.width());
            let padded = if self.right.contains(&i) {
                format!("{}{}", " ".repeat(pad), cell.text)
            } else if i == last {
                cell.text.clone()
            } else {
                format!("{}{}", cell.text, " ".repeat(pad))
            };
            let cell_tone = if cell.tone == Tone::Plain { tone } else { cell.tone };
            text.push_str(&paint(&padded, cell_tone, colour));
            if i != last {
                text.push_str("  ");
            }
        }
        if bold && colour {
            text = format!("\x1b[1m{text}\x1b[0m");
        }
        writeln!(out, "{text}")
    }
}

/// Writes a JSON array item by item, so big listings stream.
pub struct JsonArray<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonArray<W> {
    pub fn start(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"[")?;
        Ok(JsonArray { out, first: true })
    }

    pub fn push(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n  ")?;
        write_json(&mut self.out, value, false)
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

/// One JSON document per line, flushed at once (for `watch`).
pub fn json_line(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    write_json(&mut *out, value, false)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `value` as JSON that is safe on a terminal: C1 controls, line
/// separators and bidi/format characters from files come out as `\uXXXX`
/// (the same JSON to a parser, inert to a terminal).
pub fn write_json(out: &mut impl Write, value: &impl Serialize, pretty: bool) -> std::io::Result<()> {
    let text = if pretty {
        serde_json::to_string_pretty(value)?
    } else {
        serde_json::to_string(value)?
    };
    out.write_all(terminal_safe_json(&text).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_escape() {
        let mut t = Table::new(vec!["STORE", "COUNT", "NOTE"]).align_right(1);
        t.row(vec![Cell::new("Berlin"), Cell::new("12"), Cell::new("x")], Tone::Plain);
        t.row(
            vec![Cell::new("上海"), Cell::new("0"), Cell::new("a\u{1b}[2Jb")],
            Tone::Red,
        );
        let mut out = Vec::new();
        t.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "STORE   COUNT  NOTE\nBerlin     12  x\n上海        0  a\\u{1b}[2Jb\n"
        );
    }

    #[test]
    fn colour_wraps_cells_only_when_asked() {
        assert_eq!(paint("OUT", Tone::Red, false), "OUT");
        assert_eq!(paint("OUT", Tone::Red, true), "\x1b[31;1mOUT\x1b[0m");
    }

    #[test]
    fn json_arrays_are_valid_empty_or_not() {
        let mut buf = Vec::new();
        JsonArray::start(&mut buf).unwrap().finish().unwrap();
        assert_eq!(serde_json::from_slice::<Vec<u8>>(&buf).unwrap(), Vec::<u8>::new());
        let mut buf = Vec::new();
        let mut a = JsonArray::start(&mut buf).unwrap();
        a.push(&1).unwrap();
        a.push(&2).unwrap();
        a.finish().unwrap();
        assert_eq!(serde_json::from_slice::<Vec<u8>>(&buf).unwrap(), vec![1, 2]);
    }
}
