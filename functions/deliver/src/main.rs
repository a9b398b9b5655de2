//! The outbox's deliverer: queued Relais messages go to Alma once it can take them, woken by the outbox's
//! SQS FIFO queue and by a schedule.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::DELIVER)
}
