//! Helpers shared by the integration tests: locating the shared NCIP corpus.

#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus directory: `$NCIP_CORPUS_DIR`, else `<workspace>/../shared/ncip-corpus`.
/// Panics (fails the test) when neither exists: the corpus is the acceptance data, never skipped.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NCIP_CORPUS_DIR") {
        let dir = PathBuf::from(dir);
        assert!(dir.is_dir(), "NCIP_CORPUS_DIR={} is not a directory", dir.display());
        return dir;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // crates/ncip-codec -> workspace root -> its sibling `shared`.
    let candidates = [manifest.join("../../../shared/ncip-corpus"), manifest.join("../../shared/ncip-corpus")];
    for candidate in &candidates {
        if candidate.is_dir() {
            return candidate.canonicalize().expect("corpus path resolves");
        }
    }
    panic!(
        "NCIP corpus not found (tried $NCIP_CORPUS_DIR and {:?}); set NCIP_CORPUS_DIR to shared/ncip-corpus",
        candidates
    );
}

/// Every `*.xml` file of the corpus as (file name, bytes), sorted by name.
pub fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
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
    files
}
