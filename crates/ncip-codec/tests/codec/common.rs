//! Helpers shared by the integration tests and the bench: locating the outside NCIP corpus.
//!
//! The corpus (`../shared/ncip-corpus` beside the checkout, or `$NCIP_CORPUS_DIR`) is an extra check that only
//! some machines have; the repository's own fixtures (`tests/fixtures/ncip/`, read by `dialects.rs` beside this file)
//! cover every dialect without it. So a missing corpus skips, with one line saying so, and never fails a fresh
//! clone. `NCIP_CORPUS_REQUIRED=1` turns the skip into a failure for machines that must have it.

use std::io::Write;
use std::path::PathBuf;

/// The corpus directory, or None (after printing why) when it is absent or holds no `*.xml` file.
pub fn corpus_dir() -> Option<PathBuf> {
    match find_corpus() {
        Ok(dir) => Some(dir),
        Err(reason) => {
            let required = std::env::var_os("NCIP_CORPUS_REQUIRED").is_some_and(|v| v == "1");
            assert!(!required, "{reason}; NCIP_CORPUS_REQUIRED=1");
            skipped(&reason);
            None
        }
    }
}

/// Where the corpus is, or why it is not there.
fn find_corpus() -> Result<PathBuf, String> {
    let (dir, how) = match std::env::var_os("NCIP_CORPUS_DIR") {
        Some(dir) => (PathBuf::from(dir), "NCIP_CORPUS_DIR"),
        // crates/ncip-codec -> workspace root -> its sibling `shared`.
        None => (PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ncip-corpus"), "the default path"),
    };
    let has_xml = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().any(|e| e.path().extension().is_some_and(|x| x == "xml")))
        .unwrap_or(false);
    if has_xml {
        Ok(dir.canonicalize().unwrap_or(dir))
    } else {
        Err(format!("no NCIP corpus at {} ({how})", dir.display()))
    }
}

/// One line on the real stderr (not the test harness' captured output), so a skip is seen, not silent.
fn skipped(reason: &str) {
    let line = format!(
        "SKIPPED {}: {reason}; the outside corpus is an extra check, tests/fixtures/ncip covers the dialects \
         (set NCIP_CORPUS_DIR to run it)\n",
        std::thread::current().name().unwrap_or("corpus test")
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Every `*.xml` file of the corpus as (file name, bytes), sorted by name; None when the corpus is absent.
pub fn corpus_files() -> Option<Vec<(String, Vec<u8>)>> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir()?)
        .expect("corpus directory is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("corpus file is readable");
            (name, bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 55, "expected the 55-file corpus, found {}", files.len());
    Some(files)
}

/// The repository's own NCIP fixtures (`tests/fixtures/ncip/{alma,dialects}`), sorted by name.
pub fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ncip");
    let mut files: Vec<(String, Vec<u8>)> = ["alma", "dialects"]
        .iter()
        .flat_map(|folder| std::fs::read_dir(root.join(folder)).expect("the repository's NCIP fixtures"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

/// The outside corpus when present, else the repository's fixtures: for checks (fuzzing, benches) that need
/// real messages of every dialect but not one particular file.
pub fn corpus_or_fixtures() -> Vec<(String, Vec<u8>)> {
    match find_corpus() {
        Ok(_) => corpus_files().expect("the corpus was found"),
        Err(_) => fixture_files(),
    }
}
