//! POST /ncip: authenticates Relais, reads the NCIP message type and invokes the function for it.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::NCIP)
}
