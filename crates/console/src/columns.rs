//! Fitting a table to its width: what is never cut (counts, states, alert
//! numbers) keeps its width, names get the space that is left, and when
//! even that is too little whole columns give way, the least needed first
//! (the date before the count), instead of every cell being cut.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// One column's needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// Its width if fixed; the least it can do with if flexible.
    pub width: u16,
    /// A name column: shares the space left, cut with "…" if it must be.
    pub flex: bool,
    /// Columns are dropped lowest first while the table does not fit.
    pub keep: u8,
    /// The most a flexible column takes of spare room: on a wide screen
    /// the numbers stay next to the names rather than across the screen.
    pub most: u16,
}

impl Need {
    pub fn fixed(width: usize, keep: u8) -> Need {
        Need {
            width: width as u16,
            flex: false,
            keep,
            most: width as u16,
        }
    }

    pub fn flex(min: u16, keep: u8) -> Need {
        Need {
            width: min,
            flex: true,
            keep,
            most: u16::MAX,
        }
    }

    /// A flexible column that takes at most `most` cells (never less than
    /// its least).
    pub fn at_most(self, most: usize) -> Need {
        Need {
            most: (most.min(u16::MAX as usize) as u16).max(self.width),
            ..self
        }
    }
}

/// Spaces between columns (ratatui's default column spacing).
pub const SPACING: u16 = 1;

/// Never dropped (counts, states, alert numbers, names).
pub const NEVER: u8 = u8::MAX;

/// The width of each column (0: dropped), given `total` cells across.
pub fn fit(needs: &[Need], total: u16) -> Vec<u16> {
    let mut widths: Vec<u16> = needs.iter().map(|n| n.width).collect();
    let used = |widths: &[u16]| -> u16 {
        let shown = widths.iter().filter(|w| **w > 0).count() as u16;
        widths.iter().sum::<u16>() + shown.saturating_sub(1) * SPACING
    };
    while used(&widths) > total {
        // The least needed column still shown, the rightmost of equals.
        let drop = (0..needs.len())
            .filter(|&i| widths[i] > 0 && needs[i].keep != NEVER)
            .min_by_key(|&i| (needs[i].keep, usize::MAX - i));
        match drop {
            Some(i) => widths[i] = 0,
            None => break,
        }
    }
    let flexible: Vec<usize> = (0..needs.len()).filter(|&i| widths[i] > 0 && needs[i].flex).collect();
    let (need, total) = (used(&widths), total);
    if need <= total {
        // Spare room shared among the names, each up to its most; what
        // none takes is left empty at the right.
        let mut spare = total - need;
        loop {
            let open: Vec<usize> = flexible
                .iter()
                .copied()
                .filter(|&i| widths[i] < needs[i].most)
                .collect();
            if open.is_empty() || spare == 0 {
                break;
            }
            let share = (spare / open.len() as u16).max(1);
            for &i in &open {
                let give = share.min(needs[i].most - widths[i]).min(spare);
                widths[i] += give;
                spare -= give;
            }
        }
    } else {
        // Names shrink (down to one cell) before anything else is cut.
        let mut deficit = need - total;
        for &i in &flexible {
            let give = deficit.min(widths[i].saturating_sub(1));
            widths[i] -= give;
            deficit -= give;
        }
    }
    widths
}

/// Keeps the items of the columns `fit` kept.
pub fn kept<T>(items: Vec<T>, widths: &[u16]) -> Vec<T> {
    items
        .into_iter()
        .zip(widths)
        .filter(|(_, w)| **w > 0)
        .map(|(t, _)| t)
        .collect()
}

/// `text` in at most `width` cells, cut with "…" when it is longer.
pub fn ellipsize(text: &str, width: u16) -> String {
    let width = width as usize;
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` and spaces to fill `width` cells (`format!`'s padding counts
/// characters, and a CJK character takes two cells).
pub fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

/// The widest of `texts` (for a column sized to its content).
pub fn widest<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts.into_iter().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_share_what_fixed_columns_leave_and_dates_go_first() {
        let needs = [
            Need::flex(8, NEVER),
            Need::fixed(7, NEVER),
            Need::fixed(5, NEVER),
            Need::fixed(6, 1),
        ];
        assert_eq!(fit(&needs, 40), vec![19, 7, 5, 6]);
        assert_eq!(
            fit(&needs, 28),
            vec![14, 7, 5, 0],
            "the date gave way, the count did not"
        );
        assert_eq!(
            fit(&needs, 18),
            vec![4, 7, 5, 0],
            "the name shrank; the count and state stay whole"
        );
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(ellipsize("Echo Dot", 10), "Echo Dot");
        assert_eq!(ellipsize("Amazon Echo Show 10", 10), "Amazon Ec…");
        assert_eq!(ellipsize("東京東京", 5), "東京…");
    }
}
