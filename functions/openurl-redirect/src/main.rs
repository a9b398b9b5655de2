//! GET /openurl: turns a Primo/Alma OpenURL into a redirect to the Relais request form.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::OPENURL_REDIRECT)
}
