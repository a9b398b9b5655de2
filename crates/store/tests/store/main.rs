//! The store's integration tests, one binary: the contract suite runs against each store in its own module
//! (DynamoDB on moto, the embedded store on disk and in memory), beside what only that store has. One binary
//! compiles the contract and links the store and the AWS SDK once instead of once per store.

#[macro_use]
mod contract;
mod moto;

mod dynamodb;
mod embedded;
mod in_memory;
