//! The contract suite on the embedded store held in memory (what the bridge-overhead benchmark uses): the same
//! tables and transactions as on disk, so it must keep the same promises.

use std::sync::Arc;

use crate::contract::Harness;
use bridge_store::{EmbeddedStore, StoreConfig};

async fn open(config: StoreConfig) -> Harness {
    Harness { store: Arc::new(EmbeddedStore::in_memory(config).unwrap()), _keep_alive: Box::new(()) }
}

contract_suite!(open);
