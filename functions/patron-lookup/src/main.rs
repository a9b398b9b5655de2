//! NCIP LookupUser: answers who a patron is from Alma's Users API.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::PATRON_LOOKUP)
}
