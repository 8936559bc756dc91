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
    "anstream::stdout",
    "anstream::stderr",
    "anstream::AutoStream",
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
    "getrandom",
];

const LAYERS: &[Layer] = &[
    Layer {
        folder: "decide/",
        crate_paths_allowed: Some(&["decide", "failure", "clock", "text"]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "text.rs",
        crate_paths_allowed: Some(&[]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "failure.rs",
        crate_paths_allowed: Some(&[]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "clock.rs",
        crate_paths_allowed: Some(&["failure"]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "retry.rs",
        crate_paths_allowed: Some(&["failure"]),
        crate_paths_refused: &[],
        outside_refused: IO_AND_BACKENDS,
    },
    Layer {
        folder: "ids.rs",
        crate_paths_allowed: Some(&["failure"]),
        crate_paths_refused: &[],
        outside_refused: &[
            "tokio",
            "clap",
            "aws_sdk_",
            "hyper",
            "ratatui",
            "crossterm",
            "rusqlite",
        ],
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
    let without_tests = match text.find("#[cfg(test)]\nmod ") {
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

/// The module a source file is (`commands/deploy/mod.rs` → `commands::deploy`).
fn module_of(relative: &str) -> String {
    relative
        .trim_end_matches(".rs")
        .trim_end_matches("/mod")
        .replace('/', "::")
}

/// The paths a file names from the crate's root: `crate::a::b`, `super::a` and `self::a` resolved
/// against the file's own module, `super::{a, b}` each, and a child module it declares (`mod a;`)
/// when it is named (`a::f`). A path keeps only its lowercase segments (modules, not items).
fn resolved_paths(module: &str, code: &str) -> BTreeSet<String> {
    let own: Vec<&str> = module.split("::").collect();
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub(crate) mod ")
                .or_else(|| line.strip_prefix("pub mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let mut found = BTreeSet::new();
    let is_path_char = |c: char| c.is_alphanumeric() || c == '_';
    let modules_of = |path: &str| -> Vec<String> {
        path.split("::")
            .filter(|s| !s.is_empty())
            .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .map(str::to_owned)
            .collect()
    };
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let starts = !code[..at].ends_with(|c: char| is_path_char(c) || c == ':');
        let word: String = rest.chars().take_while(|&c| is_path_char(c)).collect();
        if word.is_empty() {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        if starts && rest[word.len()..].starts_with("::") {
            let path: String = rest
                .chars()
                .take_while(|&c| {
                    is_path_char(c) || c == ':' || c == '{' || c == '}' || c == ',' || c == ' '
                })
                .collect();
            let base: Option<Vec<String>> = match word.as_str() {
                "crate" => Some(Vec::new()),
                "self" => Some(own.iter().map(|s| (*s).to_owned()).collect()),
                "super" => {
                    // `super::super::x`: one level up for each.
                    let ups = path.matches("super::").count();
                    Some(
                        own[..own.len().saturating_sub(ups)]
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect(),
                    )
                }
                child if children.contains(child) => {
                    Some(own.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                }
                _ => None,
            };
            if let Some(base) = base {
                let tail = match word.as_str() {
                    "crate" | "self" => &path[word.len() + 2..],
                    "super" => path.trim_start_matches("super::"),
                    _ => path.as_str(),
                };
                let tail = tail.split([' ', ',', '}']).next().unwrap_or_default();
                let (head, group) = match tail.split_once('{') {
                    Some((head, _)) => {
                        let close = path.find('}').unwrap_or(path.len());
                        let open = path.find('{').unwrap_or(0);
                        (head, Some(&path[open + 1..close]))
                    }
                    None => (tail, None),
                };
                let mut prefix = base;
                prefix.extend(modules_of(head));
                if group.is_none() {
                    found.insert(prefix.join("::"));
                }
                for item in group.into_iter().flat_map(|g| g.split(',')) {
                    let mut each = prefix.clone();
                    each.extend(modules_of(item.trim()));
                    found.insert(each.join("::"));
                }
            }
        }
        at += word.len();
    }
    found.remove("");
    found
}

/// The import graph between files: an arrow to the file that holds the longest named module.
fn file_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(relative, _)| module_of(relative))
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, code) in files {
        let from = module_of(relative);
        if from == "main" || from == "lib" {
            continue;
        }
        for path in resolved_paths(&from, code) {
            let mut segments: Vec<&str> = path.split("::").collect();
            while !segments.is_empty() && !modules.contains(&segments.join("::")) {
                segments.pop();
            }
            let to = segments.join("::");
            if !to.is_empty() && to != from {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

#[test]
fn no_file_imports_one_that_imports_it() {
    let found = circles(&file_graph(&sources()));
    assert!(
        found.is_empty(),
        "import circles between files (a folder's mod.rs and its files count):\n{}",
        found
            .iter()
            .map(|circle| circle.join(" ⇄ "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_file_graph_sees_super_self_and_child_modules() {
    let files = [
        (
            "a/mod.rs".to_owned(),
            code_of("mod b;\nfn f() { b::g(); }\n"),
        ),
        (
            "a/b.rs".to_owned(),
            code_of("use super::{Thing, c::Other};\n"),
        ),
        ("a/d.rs".to_owned(), code_of("use super::{b, c};\n")),
        ("a/c.rs".to_owned(), code_of("use crate::x::Y;\n")),
        ("x.rs".to_owned(), code_of("fn h() { crate::a::c::f(); }\n")),
    ];
    let graph = file_graph(&files);
    assert_eq!(graph["a"], BTreeSet::from(["a::b".to_owned()]));
    assert_eq!(
        graph["a::b"],
        BTreeSet::from(["a".to_owned(), "a::c".to_owned()])
    );
    assert_eq!(
        graph["a::d"],
        BTreeSet::from(["a::b".to_owned(), "a::c".to_owned()])
    );
    assert_eq!(
        circles(&graph),
        [
            vec!["a".to_owned(), "a::b".to_owned()],
            vec!["a::c".to_owned(), "x".to_owned()]
        ]
    );
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
    "commands::context",
    "commands::flow",
    "commands::movers",
    "commands::settle",
    "commands::secret_input",
    "commands::verdicts",
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

/// README's repository layout names every module: each file by its name (`stage`, or
/// `text.rs` at the top of `src/`) and each folder as `folder/`. It was written from the tree,
/// and this keeps it so.
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
    let named = |name: &str| section.contains(&format!("`{name}`"));
    let mut missing = Vec::new();
    for (relative, _) in sources() {
        let parts: Vec<&str> = relative.split('/').collect();
        let Some((file, folders)) = parts.split_last() else {
            continue;
        };
        for folder in folders {
            let folder = format!("{folder}/");
            if !named(&folder) && !missing.contains(&folder) {
                missing.push(folder);
            }
        }
        let stem = file.trim_end_matches(".rs");
        let skip = ["mod", "lib", "main", "tests"].contains(&stem);
        let found = if folders.is_empty() {
            named(file)
        } else {
            named(stem) || named(&format!("{stem}/"))
        };
        if !skip && !found {
            missing.push(relative.clone());
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
    let fine = "use crate::decide::move_engine::Origin;\nuse crate::text::GOOD;\n// tokio::spawn in a comment\n#[cfg(test)]\nmod tests {\n    use tokio::time;\n}\n";
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
