//! Answered Problems in the redb file: one row each, keyed by [`AnsweredProblem::sort_key`] so that the
//! week's list is a range read backwards and the expired rows are the oldest ones.

use jiff::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{Failure, tables};
use crate::config::{expiry_after, is_live};
use crate::problems::{AnsweredProblem, PROBLEM_RETENTION, sort_key_from};

/// Sort key -> [`StoredProblem`].
pub(super) const PROBLEMS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("answered_problems");

#[derive(Serialize, Deserialize)]
struct StoredProblem {
    problem: AnsweredProblem,
    expires_at: i64,
}

pub(super) fn record(db: &Database, problem: &AnsweredProblem) -> Result<(), Failure> {
    let stored = StoredProblem { problem: problem.clone(), expires_at: expiry_after(problem.at, PROBLEM_RETENTION) };
    let txn = db.begin_write()?;
    txn.open_table(PROBLEMS)?
        .insert(problem.sort_key().as_str(), tables::encode("answered problem", &stored)?.as_slice())?;
    txn.commit()?;
    Ok(())
}

pub(super) fn since(
    db: &Database,
    since: Timestamp,
    limit: usize,
    now: Timestamp,
) -> Result<Vec<AnsweredProblem>, Failure> {
    let txn = db.begin_read()?;
    let table = txn.open_table(PROBLEMS)?;
    let mut problems = Vec::new();
    for row in table.range(sort_key_from(since).as_str()..)?.rev() {
        let (_, value) = row?;
        let stored: StoredProblem = tables::decode("answered problem", value.value())?;
        if is_live(Some(stored.expires_at), now) {
            problems.push(stored.problem);
        }
        if problems.len() >= limit {
            break;
        }
    }
    Ok(problems)
}

/// Removes the expired rows (the oldest, since every row is kept equally long); returns how many went.
pub(super) fn purge(txn: &WriteTransaction, now: Timestamp) -> Result<usize, Failure> {
    let mut table = txn.open_table(PROBLEMS)?;
    let mut expired = Vec::new();
    for row in table.iter()? {
        let (key, value) = row?;
        let stored: StoredProblem = tables::decode("answered problem", value.value())?;
        if is_live(Some(stored.expires_at), now) {
            break;
        }
        expired.push(key.value().to_owned());
    }
    for key in &expired {
        table.remove(key.as_str())?;
    }
    Ok(expired.len())
}
