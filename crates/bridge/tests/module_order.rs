//! The core library's modules depend on each other in one direction only (lib.rs draws the graph): a module
//! may use the ones on its own layer or below, never one above. This test reads every source file and fails
//! on the first `crate::<module>` path that points upwards, so a cycle cannot creep back in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer; a module may use modules of a layer less than or equal to its own.
/// Within the bottom layer the modules are independent adapters and codecs; `bottom_layer_is_acyclic` keeps
/// them from using each other in a circle.
const LAYERS: [(&str, u8); 16] = [
    ("function", 0),
    ("config", 0),
    ("clock", 0),
    ("logging", 0),
    ("metrics", 0),
    ("alma", 0),
    ("idp", 0),
    ("store", 0),
    ("ncip", 0),
    ("openurl", 0),
    ("flows", 1),
    ("app", 2),
    ("preflight", 2),
    ("http", 3),
    ("lambda", 4),
    ("lib", 5),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module {module} is not placed in the layer table of this test"))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/flows/once.rs` -> `flows`).
fn owner(file: &Path) -> String {
    let relative = file.strip_prefix(src()).expect("under src");
    let first = relative.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a source text names through `crate::`, including grouped `use crate::{a, b::c}`.
fn used_modules(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split on commas outside nested braces.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            used.push(std::mem::take(&mut name));
                        }
                        at_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                    } else if !name.is_empty() {
                        used.push(std::mem::take(&mut name));
                        at_start = false;
                    }
                }
            }
            if !name.is_empty() {
                used.push(name);
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                used.push(name);
            }
        }
    }
    used
}

/// The source without its line comments: a doc link such as ``[`crate::lambda`]`` names a module without
/// depending on it.
fn code_only(text: &str) -> String {
    text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Which top-level modules each module uses (types named at the crate root are skipped).
fn dependencies() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let known: Vec<&str> = LAYERS.iter().map(|(name, _)| *name).collect();
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let from = owner(&file);
        let text = std::fs::read_to_string(&file).expect("readable source");
        for to in used_modules(&code_only(&text)) {
            if to != from && known.contains(&to.as_str()) {
                graph.entry(from.clone()).or_default().entry(to).or_insert_with(|| file.clone());
            }
        }
    }
    graph
}

#[test]
fn no_module_uses_one_above_it() {
    let graph = dependencies();
    assert!(graph.get("flows").is_some_and(|d| d.contains_key("store")), "the scan finds crate:: paths");
    for (from, targets) in &graph {
        for (to, file) in targets {
            assert!(layer(to) <= layer(from), "{} uses crate::{to}, which sits above {from}", file.display());
        }
    }
}

#[test]
fn bottom_layer_is_acyclic() {
    let graph = dependencies();
    let bottom: Vec<&str> = LAYERS.iter().filter(|(_, l)| *l == 0).map(|(name, _)| *name).collect();
    // Depth-first search for a path back to the start from each bottom module.
    for start in &bottom {
        let mut stack: Vec<String> = vec![(*start).to_owned()];
        let mut seen: Vec<String> = Vec::new();
        while let Some(module) = stack.pop() {
            for next in graph.get(&module).map(|d| d.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                assert_ne!(&next, start, "{start} reaches itself through {module}: a cycle in the bottom layer");
                if bottom.contains(&next.as_str()) && !seen.contains(&next) {
                    seen.push(next.clone());
                    stack.push(next);
                }
            }
        }
    }
}

#[test]
fn grouped_imports_are_read_by_their_top_level_names() {
    let text = "use crate::{flows::{self, Bridge}, http,store::Outcome};\nlet x = crate::app::f();";
    assert_eq!(used_modules(text), ["flows", "http", "store", "app"]);
}

#[test]
fn doc_links_are_not_dependencies() {
    let text = "//! Hosted by [`crate::lambda`].\nuse crate::store;";
    assert_eq!(used_modules(&code_only(text)), ["store"]);
}
