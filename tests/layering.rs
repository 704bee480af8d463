//! The one-way layering, kept true: domain ← ports ← adapters ← pipeline ←
//! front ends (cli, console, lambda, and their config and logging). Read
//! from the source text, so a new import that breaks a rule fails here.
//!
//! Rules:
//! - a module mentions only modules of its own layer or the layers below;
//! - domain, ports, adapters and pipeline never mention clap, the CLI, the
//!   console or the functions;
//! - the domain is pure: no async runtime, no files, no databases, no AWS;
//! - the local and AWS adapters do not know each other;
//! - among the front ends, only the CLI starts the console; config and
//!   logging serve them all and know none of them;
//! - no two files import each other, directly or round a circle (a module's
//!   `mod.rs` re-exporting its children, and test files, aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["ports"],
    &["adapters"],
    &["pipeline"],
    &[
        "cli", "console", "lambda", "config", "logging", "shutdown", "main", "bin",
    ],
];

/// Front-end modules each front end may mention.
const FRONT_ENDS: &[(&str, &[&str])] = &[
    ("cli", &["console", "config", "logging", "shutdown"]),
    ("console", &["config", "logging", "shutdown"]),
    ("lambda", &["config"]),
    ("config", &[]),
    ("logging", &["config"]),
    ("shutdown", &[]),
    ("main", &["cli"]),
    ("bin", &["lambda"]),
];

/// A source file: its path under src/ and its module path (`console::view`).
struct Source {
    path: String,
    module: Vec<String>,
    text: String,
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|names| names.contains(&top))
}

/// The module path of a file under src/ (`adapters/aws/mod.rs` → adapters::aws).
fn module_of(path: &str) -> Vec<String> {
    let without = path.trim_end_matches(".rs");
    let mut parts: Vec<String> = without.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Code without comments and string literals, so a word in a doc comment
/// or a message never counts as an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path a file mentions that starts at `crate`, `super` or `self`,
/// with `use` braces expanded: `use super::{a::B, c}` gives super::a::B and super::c.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // `use` trees first (they may hold braces), then paths anywhere else.
    for statement in code.split(';') {
        let trimmed = statement.trim_start();
        let tree = trimmed
            .strip_prefix("pub use ")
            .or_else(|| trimmed.strip_prefix("pub(crate) use "))
            .or_else(|| trimmed.strip_prefix("use "));
        if let Some(tree) = tree {
            expand(
                &tree.split_whitespace().collect::<String>(),
                &mut Vec::new(),
                &mut found,
            );
        }
    }
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if starts_word {
            for root in ["crate::", "super::", "self::"] {
                let rest: String = bytes[i..].iter().take(root.len()).collect();
                if rest == root {
                    let mut j = i;
                    while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_' || bytes[j] == ':') {
                        j += 1;
                    }
                    let path: String = bytes[i..j].iter().collect();
                    found.push(path.split("::").filter(|s| !s.is_empty()).map(String::from).collect());
                    i = j;
                    break;
                }
            }
        }
        i += 1;
    }
    found
        .into_iter()
        .filter(|p: &Vec<String>| matches!(p.first().map(String::as_str), Some("crate" | "super" | "self")))
        .collect()
}

/// Expands one `use` tree (spaces removed) into its paths.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(open) = tree.find('{') else {
        let mut path = prefix.clone();
        path.extend(
            tree.split(" as ")
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        out.push(path);
        return;
    };
    let head: Vec<String> = tree[..open]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let close = tree.rfind('}').unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let depth = prefix.len();
    prefix.extend(head);
    let mut level = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                expand(&inner[start..i], prefix, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        expand(&inner[start..], prefix, out);
    }
    prefix.truncate(depth);
}

/// A mentioned path, made absolute (`super::files` in console::view → console::files).
fn absolute(from: &[String], is_mod_file: bool, path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => from.to_vec(),
        _ => from.to_vec(),
    };
    // In a.rs `super` is a's parent; in a/mod.rs too, but `self` is a itself.
    let _ = is_mod_file;
    let mut rest = &path[1..];
    if path.first().map(String::as_str) == Some("super") {
        base.pop();
        while rest.first().map(String::as_str) == Some("super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().cloned());
    base
}

/// The file a module path lands in: the longest prefix that is a file.
fn file_for(modules: &BTreeMap<Vec<String>, String>, path: &[String]) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]).cloned())
}

fn is_test_file(path: &str) -> bool {
    path.ends_with("_tests.rs") || path.ends_with("test_support.rs") || path.ends_with("/tests.rs")
}

/// Every rule broken, one line each.
fn violations(sources: &[Source]) -> Vec<String> {
    let mut broken = Vec::new();
    let modules: BTreeMap<Vec<String>, String> = sources.iter().map(|s| (s.module.clone(), s.path.clone())).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let Some(top) = source.module.first().map(String::as_str) else {
            continue;
        };
        let Some(layer) = layer_of(top) else {
            broken.push(format!(
                "{}: the module `{top}` is in no layer (tests/layering.rs lists them)",
                source.path
            ));
            continue;
        };
        let code = code_only(&source.text);
        let below_front_ends = layer < 4;
        if below_front_ends && code.contains("clap") {
            broken.push(format!("{}: mentions clap, which belongs to the CLI", source.path));
        }
        if top == "domain" {
            for impure in ["tokio", "rusqlite", "aws_", "std::fs", "std::net", "async fn"] {
                if code.contains(impure) {
                    broken.push(format!(
                        "{}: the domain is pure, but it mentions `{impure}`",
                        source.path
                    ));
                }
            }
        }
        let is_mod_file = source.path.ends_with("mod.rs") || source.path.ends_with("lib.rs");
        for path in paths_in(&code) {
            let target = absolute(&source.module, is_mod_file, &path);
            let Some(target_top) = target.first().map(String::as_str) else {
                continue;
            };
            let Some(target_layer) = layer_of(target_top) else {
                continue;
            };
            if target_layer > layer {
                broken.push(format!(
                    "{}: mentions {} of a higher layer",
                    source.path,
                    target.join("::")
                ));
            }
            if layer == 4 && target_layer == 4 && target_top != top {
                let allowed = FRONT_ENDS.iter().find(|(m, _)| *m == top).map_or(&[][..], |(_, a)| a);
                if !allowed.contains(&target_top) {
                    broken.push(format!(
                        "{}: the front end `{top}` mentions `{target_top}`",
                        source.path
                    ));
                }
            }
            if top == "adapters" && target_top == "adapters" {
                let (from, to) = (source.module.get(1), target.get(1));
                if let (Some(from), Some(to)) = (from, to)
                    && from != to
                    && ["local", "aws"].contains(&from.as_str())
                    && ["local", "aws"].contains(&to.as_str())
                {
                    broken.push(format!("{}: the {from} adapter mentions the {to} adapter", source.path));
                }
            }
            if let Some(file) = file_for(&modules, &target)
                && file != source.path
            {
                edges.entry(source.path.clone()).or_default().insert(file);
            }
        }
    }
    // Circles between files: a mod.rs naming its children, and tests, aside.
    let counted = |f: &str| !f.ends_with("mod.rs") && !f.ends_with("lib.rs") && !is_test_file(f);
    for circle in circles(&edges, &counted) {
        broken.push(format!("files import each other: {}", circle.join(" → ")));
    }
    broken
}

/// Strongly connected groups of more than one file (Tarjan), each as a list.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>, counted: &dyn Fn(&str) -> bool) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        counted: &'a dyn Fn(&str) -> bool,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        found: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, node: &str) {
            let n = self.index.len();
            self.index.insert(node.to_string(), n);
            self.low.insert(node.to_string(), n);
            self.stack.push(node.to_string());
            self.on_stack.insert(node.to_string());
            let next: Vec<String> = self
                .edges
                .get(node)
                .into_iter()
                .flatten()
                .filter(|t| (self.counted)(t))
                .cloned()
                .collect();
            for target in next {
                if !self.index.contains_key(&target) {
                    self.visit(&target);
                    let low = self.low[&target].min(self.low[node]);
                    self.low.insert(node.to_string(), low);
                } else if self.on_stack.contains(&target) {
                    let low = self.index[&target].min(self.low[node]);
                    self.low.insert(node.to_string(), low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(&top);
                    let done = top == node;
                    group.push(top);
                    if done {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        counted,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    let nodes: Vec<String> = edges.keys().filter(|n| counted(n)).cloned().collect();
    for node in nodes {
        if !walk.index.contains_key(&node) {
            walk.visit(&node);
        }
    }
    walk.found
}

fn read_tree(root: &Path) -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push(Source {
                    module: module_of(&relative),
                    text: std::fs::read_to_string(&path).unwrap(),
                    path: relative,
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

fn source(path: &str, text: &str) -> Source {
    Source {
        path: path.into(),
        module: module_of(path),
        text: text.into(),
    }
}

#[test]
fn the_layers_point_one_way() {
    let sources = read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(sources.len() > 40, "read the whole tree ({} files)", sources.len());
    let broken = violations(&sources);
    assert!(broken.is_empty(), "the layering is broken:\n{}", broken.join("\n"));
}

/// The checks themselves can fail: each rule, broken on purpose.
#[test]
fn each_rule_catches_what_it_is_for() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("adapters/local/mod.rs", "use crate::cli::LoaderKind;")],
            "higher layer",
        ),
        (
            &[("pipeline/loader.rs", "#[derive(clap::ValueEnum)] enum A {}")],
            "mentions clap",
        ),
        (
            &[(
                "adapters/aws/table.rs",
                "fn f() -> crate::console::app::App { todo!() }",
            )],
            "higher layer",
        ),
        (&[("ports/mod.rs", "use crate::pipeline::Checker;")], "higher layer"),
        (
            &[("domain/rules.rs", "async fn f() { tokio::time::sleep(d).await }")],
            "the domain is pure",
        ),
        (
            &[("adapters/local/db.rs", "use crate::adapters::aws::Clients;")],
            "the local adapter mentions the aws adapter",
        ),
        (
            &[("console/app.rs", "use crate::cli::Session;")],
            "the front end `console` mentions `cli`",
        ),
        (
            &[("config.rs", "use crate::cli::LoaderKind;")],
            "the front end `config` mentions `cli`",
        ),
        (
            &[
                ("console/view.rs", "use super::files_view::draw;"),
                ("console/files_view.rs", "use super::{app::App, view::{Theme, safe}};"),
                ("console/app.rs", ""),
            ],
            "files import each other: console/files_view.rs → console/view.rs",
        ),
    ];
    for (files, expected) in cases {
        let sources: Vec<Source> = files.iter().map(|(p, t)| source(p, t)).collect();
        let broken = violations(&sources);
        assert!(
            broken.iter().any(|b| b.contains(expected)),
            "{files:?} should break `{expected}`, got {broken:?}"
        );
    }
    // Words in comments and messages are not imports.
    let fine = [
        source(
            "adapters/local/mod.rs",
            "// pass --data-dir (crate::cli knows)\nconst A: &str = \"crate::console clap\";",
        ),
        source("console/view.rs", "use super::theme::Theme;"),
        source("console/theme.rs", "pub struct Theme;"),
    ];
    assert_eq!(violations(&fine), Vec::<String>::new());
}
