//! NCIP LookupUser: answers who a patron is from Alma's Users API.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    alma_relais_bridge::lambda::run(alma_relais_bridge::Function::PatronLookup)
}
