//! The typed NCIP model: plain data, no I/O, no XML.

pub mod common;
pub mod ids;
pub mod item;
pub mod messages;
pub mod user;
