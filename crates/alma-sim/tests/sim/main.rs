//! The simulator's integration tests, one binary: each module is one area of Alma's behaviour, and `common`
//! starts simulators and talks to them as the bridge would. One binary links the simulator and the HTTP
//! client once instead of once per area, and runs every area's tests in parallel.

mod common;

mod api_keys;
mod concurrency;
mod drift;
mod faults_and_admin;
mod golden;
mod governance;
mod ncip_faults;
mod ncip_flows;
mod request_sides;
mod rest_api;
mod rest_faults;
mod strictness;
