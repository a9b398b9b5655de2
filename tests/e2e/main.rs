//! The end-to-end tests: a whole bridge (the local server) in front of the Alma simulator, over real HTTP, on
//! the embedded store and on DynamoDB (moto's server, started by `scripts/test`), plus the checks of what is
//! deployed (the template, the events, the README's map).
//!
//! One test binary with a module per concern, rather than one per file: each binary links the whole core and
//! the AWS SDKs, so one link instead of fourteen is most of the test build's time on two cores
//! (docs/benchmarks.md). Run one concern with `cargo test --test e2e outbox`.

#[macro_use]
mod support;

mod alma_calls;
mod alma_client;
mod anonymous_noise;
mod bounds;
mod bulk_actions;
mod circulation;
mod corpus_over_http;
mod events;
mod exactly_once;
mod forwarding;
mod front_door_throttle;
mod hostile_http;
mod logs;
mod one_reading;
mod openurl;
mod outbox;
mod patron_lookup;
mod patron_lookup_lockouts;
mod preflight;
mod primary_key;
mod read_backs;
mod readme_map;
mod reconcile;
mod refusals;
mod relais_shapes;
mod remembered_patrons;
mod request_sides;
mod resends;
mod secret_rotation;
mod sign_in;
mod sign_in_real_idp;
mod soak;
mod staff_actions;
mod staff_console;
mod template;
