//! HTTP glue shared by every function and the local server: which route is which function, how callers
//! authenticate, and how answers are shaped (NCIP XML, HTML pages, JSON, redirects).

pub mod auth;
pub mod pages;
pub mod respond;
pub mod route;
