//! The production Alma REST client against the simulator over loopback HTTP: every call the bridge makes, the
//! typed errors the flows act on, Alma's per-second threshold, and answers that come too late.

use alma_sim::{AlmaSim, FaultKind, FaultScope, FaultSpec, Seed};
use bridge::alma::{AlmaError, AlmaRest, CallContext, HttpAlmaRest, Limiter, Transport};
use bridge::config::Secret;
use std::sync::Arc;
use std::time::Duration;

async fn sim() -> AlmaSim {
    AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts")
}

fn client(sim: &AlmaSim, calls_per_second: u32) -> HttpAlmaRest {
    let transport = Transport::new(Arc::new(Limiter::per_second(calls_per_second)), Some(Secret::new(sim.api_key())));
    HttpAlmaRest::new(transport, &sim.base_url()).unwrap()
}

fn ctx() -> CallContext {
    CallContext::new(Duration::from_secs(10))
}

fn error_code(err: &AlmaError) -> &str {
    match err {
        AlmaError::Api { code, .. } => code,
        other => panic!("expected Alma's error body, got {other:?}"),
    }
}

#[tokio::test]
async fn every_read_the_bridge_makes_returns_alma_data_or_a_typed_not_found() {
    let sim = sim().await;
    let alma = client(&sim, 25);

    let user = alma.user("21000000001", "all_unique", &ctx()).await.unwrap();
    assert_eq!(user.primary_id, "patron1");
    let err = alma.user("no-such-patron", "all_unique", &ctx()).await.unwrap_err();
    assert_eq!(error_code(&err), "401861");
    assert!(err.is_not_found() && !err.outcome_unknown());

    alma.authenticate("patron1", "patron1-pass", &ctx()).await.unwrap();
    let err = alma.authenticate("patron1", "wrong", &ctx()).await.unwrap_err();
    assert!(err.is_auth_failure(), "{err:?}");

    let item = alma.item_by_barcode("39000000001", &ctx()).await.unwrap();
    assert_eq!(item.item_data.barcode, "39000000001");
    assert!(!item.bib_data.mms_id.is_empty() && !item.holding_data.holding_id.is_empty());
    let err = alma.item_by_barcode("39999999999", &ctx()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    assert!(alma.user_requests("patron1", &ctx()).await.unwrap().is_empty());
    assert!(alma.user_loans("patron1", &ctx()).await.unwrap().is_empty());

    let partner = alma.partner("RELAIS", &ctx()).await.unwrap();
    assert_eq!(partner.partner_details.code, "RELAIS");
    let ncip = partner.partner_details.profile_details.and_then(|p| p.ncip_details).expect("NCIP parameters");
    assert_eq!(ncip.general_user_id_type.expect("a User Identifier Type").value, "BARCODE");
    let err = alma.partner("NO_SUCH_PARTNER", &ctx()).await.unwrap_err();
    assert!(matches!(err, AlmaError::Api { status: 400, .. }), "{err:?}");
}

#[tokio::test]
async fn a_burst_of_200_calls_stays_under_alma_s_threshold_and_all_complete() {
    let sim = sim().await;
    let alma = Arc::new(client(&sim, 25));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let alma = Arc::clone(&alma);
            tokio::spawn(async move {
                alma.item_by_barcode("39000000002", &CallContext::new(Duration::from_secs(20))).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every call of the burst completes");
    }
    let rejected = sim.calls().iter().filter(|c| c.status == Some(429)).count();
    assert_eq!(rejected, 0, "the pacer kept every call under 25 per second");
}

#[tokio::test]
async fn alma_s_429_is_waited_out_when_the_pacer_is_not_enough() {
    let sim = sim().await;
    // Another client of the same institution is already using Alma's whole per-second budget.
    let greedy = client(&sim, 1000);
    for _ in 0..25 {
        greedy.partner("RELAIS", &ctx()).await.unwrap();
    }
    let alma = client(&sim, 25);
    alma.partner("RELAIS", &ctx()).await.expect("backs off and succeeds within the second");
    assert!(sim.calls().iter().any(|c| c.status == Some(429)), "Alma did answer 429 at first");
}

#[tokio::test]
async fn a_transient_500_on_a_read_is_retried_and_maintenance_is_typed() {
    let sim = sim().await;
    let alma = client(&sim, 25);
    sim.faults().arm(FaultSpec::next(FaultKind::Http500, 1, FaultScope::Rest)).unwrap();
    alma.item_by_barcode("39000000001", &ctx()).await.expect("the GET is retried");

    sim.faults().arm(FaultSpec::next(FaultKind::Maintenance503, 100, FaultScope::Rest)).unwrap();
    let err = alma.item_by_barcode("39000000001", &CallContext::new(Duration::from_secs(3))).await.unwrap_err();
    assert!(matches!(err, AlmaError::Unavailable { status: 503, .. }), "{err:?}");
    assert!(!err.outcome_unknown(), "a maintenance page means Alma did nothing");
}

#[tokio::test]
async fn a_slow_alma_is_cut_off_inside_the_callers_deadline() {
    let sim = sim().await;
    let transport = Transport::new(Arc::new(Limiter::per_second(25)), Some(Secret::new(sim.api_key())))
        .with_attempt_timeout(Duration::from_millis(300));
    let alma = HttpAlmaRest::new(transport, &sim.base_url()).unwrap();
    sim.faults().arm(FaultSpec::next(FaultKind::Slow { millis: 5_000 }, 100, FaultScope::Rest)).unwrap();
    let started = std::time::Instant::now();
    let err = alma.partner("RELAIS", &CallContext::new(Duration::from_secs(2))).await.unwrap_err();
    assert!(matches!(err, AlmaError::Timeout { sent: true }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off before Alma's five-second answer");
}
