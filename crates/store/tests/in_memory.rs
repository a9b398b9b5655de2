//! The contract suite on the embedded store held in memory (what the bridge-overhead benchmark uses): the same
//! tables and transactions as on disk, so it must keep the same promises.

#[macro_use]
mod contract;

use std::sync::Arc;

use bridge_store::{EmbeddedStore, StoreConfig};
use contract::Harness;

async fn open(config: StoreConfig) -> Harness {
    Harness { store: Arc::new(EmbeddedStore::in_memory(config).unwrap()), keep_alive: Box::new(()) }
}

contract_suite!(open);
