//! The README's "Map of the folders" is how a newcomer finds their way: every path it names must exist, and
//! every folder of the workspace and every module of the core library must be on it.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The paths the map names, each resolved against the unindented entry above it (`  src/x.rs` under
/// `crates/bridge/` is `crates/bridge/src/x.rs`). Continuation lines start with spaces and no path.
fn mapped_paths() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let map = readme.split("## Map of the folders").nth(1).expect("a map section");
    let block = map.split("```").nth(1).expect("a fenced block in the map section");
    let mut parent = String::new();
    let mut paths = Vec::new();
    for line in block.lines().filter(|line| !line.trim().is_empty()) {
        let indented = line.starts_with(' ');
        let name = line.split_whitespace().next().expect("a first word");
        // A wrapped description: more spaces than an entry's indent before its first word.
        if indented && line.len() - line.trim_start().len() > 2 {
            continue;
        }
        if indented {
            paths.push(format!("{parent}{name}"));
        } else {
            parent = name.to_owned();
            paths.push(name.to_owned());
        }
    }
    paths
}

#[test]
fn every_path_on_the_map_exists() {
    let paths = mapped_paths();
    assert!(paths.len() > 10, "the map was read: {paths:?}");
    for path in paths {
        // `functions/<name>/` stands for each function's folder.
        let path = path.replace("<name>/", "");
        assert!(Path::new(ROOT).join(&path).exists(), "the README's map names {path}, which does not exist");
    }
}

#[test]
fn every_folder_and_core_module_is_on_the_map() {
    let mapped: BTreeSet<String> = mapped_paths().into_iter().map(|p| p.trim_end_matches('/').to_owned()).collect();
    let listed = |dir: &str| -> Vec<String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).expect("readable folder") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            names.push(if dir.is_empty() { name } else { format!("{dir}/{name}") });
        }
        names
    };
    // Folders only at the top (files there are the usual Cargo/licence/CI files); every module in the core.
    let mut wanted: Vec<String> = listed("")
        .into_iter()
        .filter(|name| Path::new(ROOT).join(name).is_dir())
        .filter(|name| !name.starts_with('.') && !matches!(name.as_str(), "target" | "data"))
        .collect();
    wanted.extend(listed("crates"));
    wanted.extend(listed("crates/bridge/src").into_iter().filter(|name| !name.ends_with("/lib.rs")));
    for name in wanted {
        // A folder is on the map itself or through entries inside it (`crates/store/`); `functions/<name>/`
        // stands for each function.
        let inside = format!("{name}/");
        assert!(
            mapped.contains(&name)
                || mapped.iter().any(|path| path.starts_with(&inside))
                || (name.starts_with("functions/") && mapped.contains("functions/<name>")),
            "{name} is missing from the README's map of the folders"
        );
    }
}
