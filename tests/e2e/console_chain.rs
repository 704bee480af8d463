//! The console with a chain's data, the real binary in tmux: 40 stores ×
//! 300 items with accented, CJK and 60-character names, 2,000 open alerts,
//! at 80×24 and 60×15. The alerts pane keeps its rows and says what it
//! hides, `:store sao` opens São Paulo at its first row with the store
//! marked in the stores pane, and every count on screen is the table's,
//! whole.

use stockwatch_testkit as common;

use common::Env;
use common::tmux::Tmux;

use common::chain::{item_name, store_names};

/// One file per store; every twelfth item out, every twelfth low: 50
/// alerts a store, 2,000 in all.
fn chain_loaded() -> Env {
    let env = Env::new();
    let files = env.dir.path().join("chain");
    std::fs::create_dir_all(&files).unwrap();
    let mut args: Vec<String> = vec!["upload".into()];
    for (n, store) in store_names().iter().enumerate() {
        let mut csv = String::from("store,item,count\n");
        for i in 0..300 {
            let item = item_name(i);
            let count = match i % 12 {
                0 => 0,
                1 => 2,
                k => 10 + k * 137,
            };
            csv.push_str(&format!("\"{store}\",\"{item}\",{count}\n"));
        }
        let path = files.join(format!("store-{n:02}.csv"));
        std::fs::write(&path, csv).unwrap();
        args.push(path.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    env
}

/// Whether a line sets SGR attribute `n` (4 underline, 7 reverse) in any
/// of its escape sequences (tmux joins them: `ESC[1;4m`).
fn sgr_has(line: &str, n: u8) -> bool {
    line.split("\u{1b}[").skip(1).any(|seq| {
        let Some((params, _)) = seq.split_once('m') else {
            return false;
        };
        let mut params = params.split(';');
        while let Some(p) = params.next() {
            match p {
                // A colour's own numbers (38;5;4 is blue, not underline).
                "38" | "48" => {
                    params.next();
                    params.next();
                }
                p if p == n.to_string() => return true,
                _ => {}
            }
        }
        false
    })
}

/// The rows of the pane whose title line holds `title`, up to its bottom border.
fn pane_lines<'a>(screen: &'a str, title: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = screen.lines().collect();
    let top = lines.iter().position(|l| l.contains(title)).expect(title);
    lines[top + 1..]
        .iter()
        .take_while(|l| !l.starts_with('└') && !l.starts_with('┗'))
        .copied()
        .collect()
}

#[test]
fn a_chain_at_80x24_and_60x15_shows_its_alerts_finds_stores_and_whole_counts() {
    let env = chain_loaded();
    let open = env.json(&["alerts", "--json"]).as_array().unwrap().len();
    assert_eq!(open, 2000, "the chain raises 2,000 alerts");
    let tmux = Tmux::start(&env, 80, 24);
    let screen = tmux.wait_for("the alerts", false, |s| s.contains("Alerts (2,000 open"));
    let alert_rows = pane_lines(&screen, "Alerts (2,000 open").len() - 1;
    assert!(alert_rows >= 7, "{alert_rows} alert rows at 80×24:\n{screen}");
    assert!(screen.contains("↓ 1,99"), "the alerts say what is below:\n{screen}");
    assert!(screen.contains("↓ 30 more"), "the stores too:\n{screen}");

    tmux.keys(&[":", "store sao", "Enter"]);
    let screen = tmux.wait_for("São Paulo", false, |s| s.contains("São Paulo Paulista (300 items)"));
    // The store shown is the one marked in the stores pane (underlined:
    // the cursor's row where the pane has no focus).
    let coloured = tmux.screen(true);
    let marked = coloured
        .lines()
        .find(|l| l.contains("São Paulo Paulista") && !l.contains("items)"))
        .unwrap_or_default();
    assert!(sgr_has(marked, 4), "the stores pane marks São Paulo: {marked:?}");
    // Its first row is the selected one (reversed), at the top of the list.
    let first = coloured
        .lines()
        .skip_while(|l| !l.contains("ITEM"))
        .nth(1)
        .unwrap_or_default();
    assert!(sgr_has(first, 7), "the first row is selected: {first:?}");

    // Every count shown is the table's, whole.
    let stock = env.json(&["stock", "--json", "--store", "São Paulo Paulista"]);
    let counts: std::collections::HashMap<String, u64> = stock
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["item"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect();
    let mut checked = 0;
    for line in pane_lines(&screen, "São Paulo Paulista (300 items)").iter().skip(1) {
        let Some(part) = line.split(['│', '┃']).nth(3) else {
            continue;
        };
        let Some((item, count)) = counts
            .iter()
            .filter(|(item, _)| part.trim_start().starts_with(item.as_str()))
            .max_by_key(|(item, _)| item.len())
        else {
            continue;
        };
        let shown = part.trim_start()[item.len()..]
            .split_whitespace()
            .next()
            .unwrap_or_default();
        assert_eq!(shown.parse::<u64>().ok(), Some(*count), "{item}: `{shown}` in {line:?}");
        checked += 1;
    }
    assert!(checked >= 5, "stock rows were checked ({checked}):\n{screen}");
    let status = screen.lines().last().unwrap_or_default();
    assert!(
        status.contains("12,000 items") && status.contains("✗1,000 out"),
        "{status:?}"
    );
    tmux.keys(&["q"]);

    // Smaller still: the alerts keep rows and every list says what it hides.
    let tmux = Tmux::start(&env, 60, 15);
    let screen = tmux.wait_for("the alerts", false, |s| s.contains("Alerts (2,000"));
    assert!(pane_lines(&screen, "Alerts (2,000").len() > 4, "{screen}");
    assert!(screen.matches('↓').count() >= 3, "{screen}");
    assert!(
        screen.lines().last().unwrap_or_default().contains("✗1,000 out"),
        "{screen}"
    );
}
