//! POST /ncip: authenticates Relais, reads the NCIP message type and invokes the function for it.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    alma_relais_bridge::lambda::run(alma_relais_bridge::Function::NcipFrontDoor)
}
