//! Answered Problems on DynamoDB: one item each in the `PROBLEM` partition, sorted by the instant of the
//! answer, expiring with DynamoDB's TTL seven days on; the week's list is one query read newest first.

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::items::{self, s};
use super::{DynamoStore, map_sdk_error};
use crate::StoreError;
use crate::config::{expiry_after, is_live};
use crate::problems::{AnsweredProblem, PROBLEM_RETENTION, sort_key_from};
use crate::schema::{PARTITION_KEY, PROBLEM_PARTITION, SORT_KEY, TTL_ATTRIBUTE};

pub(super) async fn record_problem(store: &DynamoStore, problem: &AnsweredProblem) -> Result<(), StoreError> {
    let body = serde_json::to_string(problem).map_err(|e| StoreError::corrupt("answered problem", &e))?;
    store
        .client
        .put_item()
        .table_name(&store.table)
        .item(PARTITION_KEY, s(PROBLEM_PARTITION))
        .item(SORT_KEY, s(problem.sort_key()))
        .item(items::BODY, s(body))
        .item(TTL_ATTRIBUTE, AttributeValue::N(expiry_after(problem.at, PROBLEM_RETENTION).to_string()))
        .send()
        .await
        .map_err(|e| map_sdk_error("PutItem", e))?;
    Ok(())
}

pub(super) async fn problems_since(
    store: &DynamoStore,
    since: Timestamp,
    limit: usize,
) -> Result<Vec<AnsweredProblem>, StoreError> {
    let now = store.config.now();
    let mut problems = Vec::new();
    let mut start = None;
    loop {
        let output = store
            .client
            .query()
            .table_name(&store.table)
            .scan_index_forward(false)
            .key_condition_expression("#pk = :pk AND #sk >= :since")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":pk", s(PROBLEM_PARTITION))
            .expression_attribute_values(":since", s(sort_key_from(since)))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", e))?;
        for item in output.items() {
            if !is_live(items::expires_at(item), now) {
                continue;
            }
            let body = item.get(items::BODY).and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt {
                what: "answered problem",
                reason: "attribute `body` is missing".to_owned(),
            })?;
            problems.push(serde_json::from_str(body).map_err(|e| StoreError::corrupt("answered problem", &e))?);
            if problems.len() >= limit {
                return Ok(problems);
            }
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(problems),
        }
    }
}
