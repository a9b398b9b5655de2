//! NCIP AcceptItem: the borrowing library received an item from its lender.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::ACCEPT_ITEM)
}
