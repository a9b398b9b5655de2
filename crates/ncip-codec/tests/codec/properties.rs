//! Property tests: any value the codec can write reads back to the same value, and random byte
//! mutations of corpus files never panic (every failure still yields a writable NCIP answer).
//!
//! "Writable" values respect the XSD choices the writer enforces: a response holds problems or data,
//! LookupItem names an item or a request, StructuredAddress uses one of its two line forms, requests
//! carry their required (non-blank) identifiers.

use ncip_codec::{ReadOptions, error_response, peek, read, write};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::common;
use crate::strategies::message;

#[test]
fn any_writable_message_reads_back_to_the_same_value() {
    // The composed strategy is deep; unoptimised test builds need more than the default thread stack.
    let run = || {
        let mut runner =
            proptest::test_runner::TestRunner::new(ProptestConfig { cases: 512, ..ProptestConfig::default() });
        runner
            .run(&message(), |msg| {
                let bytes = write(&msg);
                let back = read(&bytes, &ReadOptions { max_bytes: usize::MAX, ..ReadOptions::default() });
                prop_assert!(back.is_ok(), "{:?}\n{}", back.err(), String::from_utf8_lossy(&bytes));
                prop_assert_eq!(back.unwrap(), msg);
                Ok(())
            })
            .map_err(|failure| failure.to_string())
    };
    let outcome = std::thread::Builder::new().stack_size(256 << 20).spawn(run).unwrap().join().unwrap();
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

proptest! {

    #[test]
    fn mutated_corpus_files_never_panic(
        file in any::<prop::sample::Index>(),
        edits in vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..8),
    ) {
        let files = corpus();
        let (_, original) = &files[file.index(files.len())];
        let mut bytes = original.clone();
        for (at, op, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        let _ = peek(&bytes, &ncip_codec::ReadOptions::default());
        match read(&bytes, &ReadOptions::default()) {
            Ok(msg) => {
                // Whatever parses must write and read back to the same value.
                let again = read(&write(&msg), &ReadOptions::default());
                prop_assert_eq!(again.ok(), Some(msg));
            }
            Err(err) => {
                let answer = write(&error_response(&err, None));
                prop_assert!(read(&answer, &ReadOptions::default()).is_ok());
            }
        }
    }
}

fn corpus() -> &'static [(String, Vec<u8>)] {
    static CORPUS: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(common::corpus_or_fixtures)
}
