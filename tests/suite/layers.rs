//! The layer rule of the README's repository layout, read from the sources: the folder a file is
//! in says what it may import. A decision (`src/decide/`) touches no adapter, SDK, command line,
//! terminal or I/O; the adapters (`src/aws/`, `src/local/`) never import each other, a command or
//! the wiring; and no module reaches back to one that reaches it (no import circle).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What a file in each layer may not import: crate paths (`crate::…`) and outside crates or
/// standard-library modules (by path prefix).
struct Layer {
    folder: &'static str,
    crate_paths_allowed: Option<&'static [&'static str]>,
    crate_paths_refused: &'static [&'static str],
    outside_refused: &'static [&'static str],
}

/// Everything that performs I/O or knows a backend, the command line or the terminal.
const IO_AND_BACKENDS: &[&str] = &[
    "tokio",
    "clap",
    "clap_complete",
    "aws_sdk_",
    "aws_config",
    "aws_smithy_",
    "aws_types",
    "hyper",
    "reqwest",
    "indicatif",
    "crossterm",
    "ratatui",
    "anstream",
    "libc",
    "rusqlite",
    "mgrid_pipeline::aws",
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::thread",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
];

const LAYERS: &[Layer] = &[
    Layer {
        folder: "decide/",
        crate_paths_allowed: Some(&["decide", "failure", "clock", "ids", "ports", "ui::text"]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "ports.rs",
        crate_paths_allowed: Some(&["decide", "failure", "clock"]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "aws/",
        crate_paths_allowed: None,
        crate_paths_refused: &[
            "local",
            "commands",
            "target",
            "cli",
            "ui::output",
            "ui::terminal",
            "ui::dashboard",
        ],
        outside_refused: &["clap", "indicatif", "ratatui", "crossterm"],
    },
    Layer {
        folder: "local/",
        crate_paths_allowed: None,
        crate_paths_refused: &[
            "aws",
            "commands",
            "target",
            "cli",
            "ui::output",
            "ui::terminal",
            "ui::dashboard",
        ],
        outside_refused: &[
            "clap",
            "indicatif",
            "ratatui",
            "crossterm",
            "aws_sdk_",
            "aws_config",
        ],
    },
    Layer {
        folder: "providers/",
        crate_paths_allowed: None,
        crate_paths_refused: &["aws", "local", "commands", "target", "cli", "ui"],
        outside_refused: &[
            "clap",
            "indicatif",
            "ratatui",
            "crossterm",
            "aws_sdk_",
            "aws_config",
            "rusqlite",
        ],
    },
    Layer {
        folder: "ui/",
        crate_paths_allowed: None,
        crate_paths_refused: &["aws", "local", "commands", "target", "cli"],
        outside_refused: &[
            "aws_sdk_",
            "aws_config",
            "aws_smithy_",
            "tokio::fs",
            "tokio::net",
        ],
    },
];

/// A file's code without comments and without its test module (tests may use anything).
fn code_of(text: &str) -> String {
    let without_tests = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    without_tests
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string ("https://…") is not a comment; strings are not imports.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate paths a file names (`crate::decide::shift::X` → `decide::shift`), first two segments.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = code[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).take(2).collect();
        let lowercase = |s: &&str| s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let modules: Vec<&str> = segments.into_iter().take_while(lowercase).collect();
        if !modules.is_empty() {
            found.insert(modules.join("::"));
        }
    }
    found
}

/// Whether the code names `prefix` as a path (`tokio::spawn`, `use clap::Parser`, `aws_sdk_sqs`).
fn names(code: &str, prefix: &str) -> bool {
    code.match_indices(prefix).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let starts_a_path = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let rest = &code[at + prefix.len()..];
        let whole = prefix.ends_with('_')
            || rest.starts_with("::")
            || rest.starts_with(|c: char| !(c.is_alphanumeric() || c == '_'));
        starts_a_path && whole
    })
}

fn within(path: &str, allowed: &str) -> bool {
    path == allowed || path.starts_with(&format!("{allowed}::"))
}

/// Every break of the layer rule in one file (`relative`: its path under src/).
fn breaks(relative: &str, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for layer in LAYERS
        .iter()
        .filter(|layer| relative.starts_with(layer.folder))
    {
        for path in crate_paths(code) {
            let allowed = layer
                .crate_paths_allowed
                .is_none_or(|allowed| allowed.iter().any(|a| within(&path, a)));
            let refused = layer.crate_paths_refused.iter().any(|r| within(&path, r));
            if !allowed || refused {
                found.push(format!("{relative} imports crate::{path}"));
            }
        }
        for outside in layer.outside_refused {
            if names(code, outside) {
                found.push(format!("{relative} uses {outside}"));
            }
        }
    }
    found
}

/// The unit a module path belongs to: `decide::X` and `ui::X` each their own, else the top level.
fn unit_of(path: &str) -> String {
    let segments: Vec<&str> = path.split("::").collect();
    match segments.as_slice() {
        [layer @ ("decide" | "ui"), module, ..] => format!("{layer}::{module}"),
        [first, ..] => (*first).to_owned(),
        [] => String::new(),
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(&root)
                    .expect("under src/")
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).expect("a source file");
                files.push((relative, code_of(&text)));
            }
        }
    }
    files.sort();
    files
}

/// The unit graph's circles (strongly connected components of more than one unit).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn finish(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) {
        if !seen.insert(node.to_owned()) {
            return;
        }
        for next in graph.get(node).into_iter().flatten() {
            finish(next, graph, seen, order);
        }
        order.push(node.to_owned());
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos {
            reversed.entry(to.clone()).or_default().insert(from.clone());
        }
    }
    let (mut seen, mut order) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        finish(node, graph, &mut seen, &mut order);
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for node in order.iter().rev() {
        let mut component = Vec::new();
        finish(node, &reversed, &mut assigned, &mut component);
        if component.len() > 1 {
            component.sort();
            found.push(component);
        }
    }
    found
}

fn unit_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, code) in files {
        let module = relative
            .trim_end_matches(".rs")
            .trim_end_matches("/mod")
            .replace('/', "::");
        if module == "main" || module == "lib" {
            continue;
        }
        let from = unit_of(&module);
        for path in crate_paths(code) {
            let to = unit_of(&path);
            if to != from {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

#[test]
fn every_file_imports_only_what_its_layer_may() {
    let files = sources();
    assert!(
        files.iter().any(|(f, _)| f.starts_with("decide/")),
        "src/decide/ exists"
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|(relative, code)| breaks(relative, code))
        .collect();
    assert!(
        found.is_empty(),
        "the layer rule (README, Repository layout) is broken:\n{}",
        found.join("\n")
    );
}

/// The modules of `commands/` every verb may share; a verb imports no other verb.
const SHARED_STEPS: &[&str] = &[
    "commands::flow",
    "commands::movers",
    "commands::secret_input",
    "commands::watch",
];

/// The verbs that import another verb (`commands/x.rs` or `commands/x/…` → `crate::commands::y`).
fn verbs_importing_verbs(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (relative, code) in files {
        let Some(inside) = relative.strip_prefix("commands/") else {
            continue;
        };
        let own = inside
            .split(['/', '.'])
            .next()
            .map(|verb| format!("commands::{verb}"))
            .unwrap_or_default();
        for path in crate_paths(code) {
            let verb = path.starts_with("commands::")
                && path != own
                && !SHARED_STEPS.iter().any(|shared| within(&path, shared));
            if verb && !SHARED_STEPS.contains(&own.as_str()) {
                found.push(format!("{relative} imports crate::{path}"));
            }
        }
    }
    found
}

#[test]
fn a_verb_imports_no_other_verb() {
    let found = verbs_importing_verbs(&sources());
    assert!(found.is_empty(), "{}", found.join("\n"));
    let synthetic = [(
        "commands/send.rs".to_owned(),
        code_of(
            "fn f() { crate::commands::keys::cache_time(); crate::commands::flow::carry_out(); }",
        ),
    )];
    assert_eq!(
        verbs_importing_verbs(&synthetic),
        ["commands/send.rs imports crate::commands::keys"]
    );
}

/// README's repository layout names every folder and file at the top of `src/`, and every
/// module of `decide/` and `ui/`: it was written from the tree, and this keeps it so.
#[test]
fn the_readme_layout_names_every_module() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("## Repository layout")
        .expect("a layout section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let mut missing = Vec::new();
    for (relative, _) in sources() {
        let parts: Vec<&str> = relative.split('/').collect();
        let name = match parts.as_slice() {
            [file] if *file != "main.rs" && *file != "lib.rs" => format!("`{file}`"),
            [folder @ ("decide" | "ui"), file] if *file != "mod.rs" => {
                let module = file.trim_end_matches(".rs");
                if section.contains(&format!("`{module}`"))
                    || section.contains(&format!("`{module}/`"))
                {
                    continue;
                }
                format!("`{module}` of {folder}/")
            }
            [folder @ ("decide" | "ui"), module, ..] if parts.len() > 2 => {
                if section.contains(&format!("`{module}/`")) {
                    continue;
                }
                format!("`{module}/` of {folder}/")
            }
            [folder, ..] if parts.len() > 1 => format!("`{folder}/`"),
            _ => continue,
        };
        let bare = name.split(" of ").next().unwrap_or_default();
        if !section.contains(bare) && !missing.contains(&name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "README's layout does not name: {}",
        missing.join(", ")
    );
}

#[test]
fn no_module_imports_one_that_imports_it() {
    let found = circles(&unit_graph(&sources()));
    assert!(found.is_empty(), "import circles: {found:?}");
}

#[test]
fn the_rule_catches_a_decision_that_reaches_a_backend_or_the_command_line() {
    let decision = "use aws_sdk_sqs::Client;\nuse crate::aws::queues::Queue;\nfn f() { clap::Command::new(\"x\"); std::fs::read(\"p\"); }\n";
    let found = breaks("decide/redrive.rs", &code_of(decision));
    assert_eq!(
        found,
        [
            "decide/redrive.rs imports crate::aws::queues",
            "decide/redrive.rs uses clap",
            "decide/redrive.rs uses aws_sdk_",
            "decide/redrive.rs uses std::fs",
        ]
    );
    let fine = "use crate::decide::move_engine::Origin;\nuse crate::ui::text::GOOD;\n// tokio::spawn in a comment\n#[cfg(test)]\nmod tests {\n    use tokio::time;\n}\n";
    assert!(breaks("decide/redrive.rs", &code_of(fine)).is_empty());
    let adapter = "use crate::local::db::Db;\n";
    assert_eq!(
        breaks("aws/queues.rs", &code_of(adapter)),
        ["aws/queues.rs imports crate::local::db"]
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("cli", vec!["config"]),
        ("config", vec!["decide::shift"]),
        ("decide::shift", vec!["ui::output"]),
        ("ui::output", vec!["cli"]),
        ("commands", vec!["cli"]),
    ]
    .into_iter()
    .map(|(from, tos)| {
        (
            from.to_owned(),
            tos.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(
        circles(&graph),
        [vec!["cli", "config", "decide::shift", "ui::output"]]
    );
}
