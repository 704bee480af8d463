//! What the compiler cannot see about the layering. The crate graph is the
//! layering (domain ← core ← local, aws ← console, web, functions ← the binary):
//! the compiler refuses a path to a crate not depended on, and this test
//! keeps the dependencies themselves one way. Read from the manifests and
//! the source text:
//! - each crate depends only on the crates below it (normal dependencies);
//! - the domain is pure: no files, network, processes, clocks or async;
//! - no two files of a crate import each other, directly or round a circle
//!   (a `mod.rs` or `lib.rs` naming its children, and test files, aside);
//! - the front ends (the CLI, the console, the web dashboard) call the application layer, not
//!   the ports: no `ports.ledger.…(…)` and the like outside the core.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each crate and the workspace crates its code may depend on.
const CRATES: &[(&str, &str, &[&str])] = &[
    ("stockwatch-domain", "crates/domain", &[]),
    ("stockwatch-core", "crates/core", &["stockwatch-domain"]),
    (
        "stockwatch-local",
        "crates/local",
        &["stockwatch-domain", "stockwatch-core"],
    ),
    (
        "stockwatch-aws",
        "crates/aws",
        &["stockwatch-domain", "stockwatch-core"],
    ),
    (
        "stockwatch-console",
        "crates/console",
        &["stockwatch-domain", "stockwatch-core"],
    ),
    (
        "stockwatch-web",
        "crates/web",
        &["stockwatch-domain", "stockwatch-core"],
    ),
    (
        "stockwatch-functions",
        "crates/functions",
        &["stockwatch-domain", "stockwatch-core", "stockwatch-aws"],
    ),
    (
        "stockwatch",
        ".",
        &[
            "stockwatch-domain",
            "stockwatch-core",
            "stockwatch-local",
            "stockwatch-aws",
            "stockwatch-console",
            "stockwatch-web",
        ],
    ),
    (
        "stockwatch-testkit",
        "crates/testkit",
        &["stockwatch-domain", "stockwatch-core", "stockwatch-aws"],
    ),
];

/// A source file: its path under its crate's src/ and its module path (`files::view`).
struct Source {
    path: String,
    module: Vec<String>,
    text: String,
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

/// Every rule broken inside one crate's sources, one line each.
fn violations(crate_dir: &str, sources: &[Source]) -> Vec<String> {
    let mut broken = Vec::new();
    let modules: BTreeMap<Vec<String>, String> = sources.iter().map(|s| (s.module.clone(), s.path.clone())).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let code = code_only(&source.text);
        if crate_dir == "crates/domain" {
            for impure in [
                "std::fs",
                "std::net",
                "std::process",
                "SystemTime::now",
                "Instant::now",
                "async fn",
            ] {
                if code.contains(impure) {
                    broken.push(format!(
                        "{crate_dir}/src/{}: the domain is pure, but it mentions `{impure}`",
                        source.path
                    ));
                }
            }
        }
        let is_mod_file = source.path.ends_with("mod.rs") || source.path.ends_with("lib.rs");
        for path in paths_in(&code) {
            let target = absolute(&source.module, is_mod_file, &path);
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
        broken.push(format!("{crate_dir}: files import each other: {}", circle.join(" → ")));
    }
    broken
}

/// The ports `Ports` holds: a front end hands them on, it does not call them.
const PORTS: &[&str] = &[
    "objects",
    "table",
    "feed",
    "checkpoints",
    "ledger",
    "history",
    "publisher",
    "fanout",
];

/// Each call of a port by a front end: `ports.ledger.get(id)` (a clone,
/// to hand a port on, is not a call).
fn port_calls(path: &str, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let squeezed: String = code.split_whitespace().collect::<Vec<_>>().join("");
    for port in PORTS {
        let needle = format!("ports.{port}.");
        let mut rest = squeezed.as_str();
        while let Some(at) = rest.find(&needle) {
            let after = &rest[at + needle.len()..];
            let method: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if method != "clone" && after[method.len()..].starts_with('(') {
                found.push(format!(
                    "{path}: calls the {port} port ({method}); a front end goes through stockwatch_core::app"
                ));
            }
            rest = after;
        }
    }
    found
}

/// The workspace crates a manifest's `[dependencies]` name (not dev ones).
fn workspace_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
        } else if in_dependencies && line.starts_with("stockwatch-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or("");
            found.insert(name.to_string());
        }
    }
    found
}

/// Each crate whose dependencies are not the ones its layer allows.
fn crate_graph_broken(read: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut broken = Vec::new();
    for (name, dir, allowed) in CRATES {
        let manifest = read(&format!("{dir}/Cargo.toml"));
        for dependency in workspace_dependencies(&manifest) {
            if !allowed.contains(&dependency.as_str()) {
                broken.push(format!(
                    "{name} depends on {dependency}, a crate of its own layer or above"
                ));
            }
        }
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

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_crates_point_one_way() {
    let broken = crate_graph_broken(&|path| std::fs::read_to_string(repo().join(path)).unwrap());
    assert!(broken.is_empty(), "the crate graph is broken:\n{}", broken.join("\n"));
}

#[test]
fn the_front_ends_call_the_application_layer() {
    let mut broken = Vec::new();
    for dir in ["crates/console/src", "crates/web/src", "src"] {
        for source in read_tree(&repo().join(dir)) {
            if is_test_file(&source.path) {
                continue;
            }
            broken.extend(port_calls(&format!("{dir}/{}", source.path), &code_only(&source.text)));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn inside_each_crate_the_rules_hold() {
    let mut read = 0;
    let mut broken = Vec::new();
    for (_, dir, _) in CRATES {
        let sources = read_tree(&repo().join(dir).join("src"));
        read += sources.len();
        broken.extend(violations(dir, &sources));
    }
    assert!(read > 120, "read every crate ({read} files)");
    assert!(broken.is_empty(), "the layering is broken:\n{}", broken.join("\n"));
}

/// The checks themselves can fail: each rule, broken on purpose.
#[test]
fn each_rule_catches_what_it_is_for() {
    let manifests = |dir: &str| {
        match dir {
        "crates/local/Cargo.toml" => "[dependencies]\nstockwatch-core.workspace = true\nstockwatch-aws.workspace = true\n[dev-dependencies]\nstockwatch-console.workspace = true\n".to_string(),
        _ => "[dependencies]\nstockwatch-domain.workspace = true\n".to_string(),
    }
    };
    let broken = crate_graph_broken(&manifests);
    assert!(
        broken
            .iter()
            .any(|b| b == "stockwatch-local depends on stockwatch-aws, a crate of its own layer or above"),
        "{broken:?}"
    );
    assert!(
        broken.iter().all(|b| !b.contains("stockwatch-console")),
        "dev-dependencies are free: {broken:?}"
    );
    assert!(
        broken
            .iter()
            .any(|b| b.starts_with("stockwatch-domain depends on stockwatch-domain")),
        "{broken:?}"
    );

    let impure = [source("rules.rs", "async fn f() { std::fs::read(p) }")];
    let broken = violations("crates/domain", &impure);
    assert!(
        broken
            .iter()
            .any(|b| b.contains("the domain is pure, but it mentions `std::fs`")),
        "{broken:?}"
    );
    assert!(broken.iter().any(|b| b.contains("`async fn`")), "{broken:?}");

    let circle = [
        source("view.rs", "use super::files_view::draw;"),
        source("files_view.rs", "use super::{app::App, view::{Theme, safe}};"),
        source("app.rs", ""),
    ];
    let broken = violations("crates/console", &circle);
    assert!(
        broken
            .iter()
            .any(|b| b.contains("files import each other: files_view.rs → view.rs")),
        "{broken:?}"
    );
    let calls = port_calls(
        "cli/ack.rs",
        "let a = ctx.ports\n    .ledger\n    .get(id).await?; let f = ports.fanout.clone();",
    );
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains("calls the ledger port (get)"), "{calls:?}");
    // Words in comments and messages are not imports.
    let fine = [
        source(
            "lib.rs",
            "// pass --data-dir (crate::cli knows)\nconst A: &str = \"crate::view std::fs\";",
        ),
        source("view.rs", "use super::theme::Theme;"),
        source("theme.rs", "pub struct Theme;"),
    ];
    assert_eq!(violations("crates/domain", &fine), Vec::<String>::new());
}
