//! The staff console in a real browser: headless Chromium driven through chromedriver
//! ([`crate::support::webdriver`]).

use crate::support::webdriver::{Driver, screenshot_dir};
use crate::support::{Harness, STAFF_TOKEN, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::outbox::deliver_due;

/// The driver itself: a page is loaded, read, clicked and photographed, and a script error on it is
/// seen on the console (the console test relies on that to say "no script error").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webdriver_client_drives_headless_chromium() {
    let page = "data:text/html,<title>t</title><label>Tick <input type=checkbox id=tick></label><p id=p>there</p><p>and here</p>\
                <label>Name <input id=name oninput=echo.textContent=this.value></label><output id=echo></output><img src=x onerror=undefined_function()>";
    let driver = Driver::start().await;
    let browser = driver.session().await;
    browser.goto(page).await;
    assert_eq!(browser.title().await, "t");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let errors = browser.console_errors().await;
    assert!(errors.iter().any(|e| e.contains("undefined_function")), "{errors:?}");
    let tick = browser.expect("#tick").await;
    assert!(!browser.is_selected(&tick).await);
    browser.click(&tick).await;
    assert!(browser.is_selected(&tick).await);
    assert_eq!(browser.attribute(&tick, "id").await.as_deref(), Some("tick"));
    let paragraph = browser.expect("#p").await;
    assert_eq!(browser.text(&paragraph).await, "there");
    assert_eq!(browser.find_all("p").await.len(), 2);
    let name = browser.expect("#name").await;
    browser.type_into(&name, "typed").await;
    assert_eq!(browser.text(&browser.expect("#echo").await).await, "typed", "typing fires the page's input events");
    assert!(browser.body_text().await.contains("there\nand here"), "{}", browser.body_text().await);
    let shot = screenshot_dir("webdriver").join("smoke.png");
    browser.screenshot(&shot).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 100);
    browser.close().await;
}

const PATRON: &str = "21000000001";

/// The console as staff use it, in headless Chromium: sign in with the staff token, read the week's Problems,
/// go to the outbox by the header's link and re-drive a parked receipt with its button, find a request with
/// the search box, run the reconciliation from its page and read the drift it found, sign out. Every page is photographed under target/, and no page logs a script error (the
/// pages carry no script, and their Content-Security-Policy would report one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_and_move_through_the_console_in_a_browser() {
    let env = [("LOCAL_OUTBOX_POLL_MS", "0"), ("LIBRARY_TIME_ZONE", "Europe/Berlin")];
    let h = Harness::start_with(StoreKind::Embedded, &env, |store| store).await;
    // A receive Alma refuses at once (the patron is blocked): a Problem answered to Relais.
    assert!(h.sim.state().set_user_blocked(PATRON, true));
    let refused = h.ncip(&m::accept_item("RL-BR-1", "ILL-BR-1", PATRON)).await;
    assert!(refused.contains("User Blocked"), "{refused}");
    // A receive queued during maintenance, then refused on delivery: parked, waiting for staff.
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let queued = h.ncip(&m::accept_item("RL-BR-2", "ILL-BR-2", PATRON)).await;
    assert!(!queued.contains("Problem"), "{queued}");
    h.sim.faults().clear();
    deliver_due(&h.bridge.bridge).await;
    assert!(h.sim.state().set_user_blocked(PATRON, false), "the block is lifted: the re-drive can succeed");

    let shots = screenshot_dir("staff_console");
    let driver = Driver::start().await;
    let browser = driver.session().await;
    let shoot = async |name: &str| {
        let path = shots.join(format!("{name}.png"));
        browser.screenshot(&path).await;
        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "{name}: the browser's console shows errors: {errors:?}");
    };

    // Signing in: the console's first page sends the browser to the sign-in, which comes back to it.
    browser.goto(&h.bridge.url("/queue")).await;
    assert_eq!(browser.title().await, "Staff sign-in");
    assert!(browser.current_url().await.ends_with("/signin?next=%2Fqueue"), "{}", browser.current_url().await);
    shoot("1-sign-in").await;
    let token = browser.expect("input#token").await;
    browser.type_into(&token, STAFF_TOKEN).await;
    browser.click_and_load(&browser.expect("form[action='/signin'] button").await).await;
    assert!(browser.current_url().await.ends_with("/queue"), "{}", browser.current_url().await);
    assert!(browser.body_text().await.contains("Signed in with the staff token"));

    // The week's Problems, by the header's link.
    browser.click_and_load(&browser.expect("nav a[href='/problems']").await).await;
    assert_eq!(browser.title().await, "Problems answered to Relais");
    let rows = browser.find_all("tbody tr").await;
    assert_eq!(rows.len(), 1, "{}", browser.source().await);
    let row = browser.text(&rows[0]).await;
    assert!(row.contains("User Blocked") && row.contains("AcceptItem") && row.contains("RL-BR-1"), "{row}");
    assert!(!browser.source().await.contains(PATRON), "the page names no patron");
    shoot("2-problems").await;

    // The outbox: the parked receipt, re-driven with its button.
    browser.click_and_load(&browser.expect("nav a[href='/queue']").await).await;
    let page = browser.body_text().await;
    assert!(page.contains("RL-BR-2") && page.contains("parked"), "{page}");
    assert!(page.contains("CET") || page.contains("CEST"), "times are in the library's zone: {page}");
    shoot("3-outbox").await;
    let redrive = browser.expect("button[aria-label='Re-drive AcceptItem for RL-BR-2']").await;
    browser.click_and_load(&redrive).await;
    let said = browser.text(&browser.expect("[role=status]").await).await;
    assert!(said.contains("Re-driven") && said.contains("RL-BR-2"), "{said}");
    shoot("4-redriven").await;
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-BR-2"), 1, "the re-driven receipt reached Alma");
    let history = h.status_json("RL-BR-2").await["history"].clone();
    let redriven = history.as_array().unwrap().iter().find(|e| e["outcome"] == "redriven").expect("in the history");
    assert!(redriven["acted_by"].as_str().unwrap().starts_with("sha256:"), "{redriven}");

    // The search box: an item barcode leads to its request.
    let search = browser.expect("input#console-search").await;
    browser.type_into(&search, "ILL-BR-2").await;
    browser.click_and_load(&browser.expect("form[role=search] button").await).await;
    assert!(browser.current_url().await.ends_with("/requests/RL-BR-2"), "{}", browser.current_url().await);
    let page = browser.body_text().await;
    assert!(page.contains("Relais request RL-BR-2") && page.contains("delivered"), "{page}");
    shoot("5-request").await;

    // The reconciliation: staff delete the temporary item in Alma by hand; a run started from the report's
    // button finds the receipt Alma no longer shows, and the report lists it.
    assert_eq!(h.read_backs().await.retrying, 0);
    let deleted = h
        .http
        .post(format!("{}/delete-item", h.sim.admin_url()))
        .json(&serde_json::json!({"item_barcode": "ILL-BR-2"}))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    browser.click_and_load(&browser.expect("nav a[href='/reconcile']").await).await;
    assert_eq!(browser.title().await, "Reconciliation");
    browser.click_and_load(&browser.expect("form[action='/reconcile'] button").await).await;
    let said = browser.text(&browser.expect("[role=status]").await).await;
    assert!(said.contains("The reconciliation ran") && said.contains("drifts found"), "{said}");
    shoot("6-reconciled").await;
    browser.click_and_load(&browser.expect("nav a[href='/reconcile']").await).await;
    let rows = browser.find_all("tbody tr").await;
    let mut texts = Vec::new();
    for row in &rows {
        texts.push(browser.text(row).await);
    }
    assert!(texts.iter().any(|r| r.contains("RL-BR-2") && r.contains("borrowing_no_temporary_item")), "{texts:?}");
    assert!(browser.body_text().await.contains("CET") || browser.body_text().await.contains("CEST"));
    shoot("7-report").await;

    // Signing out ends the session: the console asks for a token again.
    browser.click_and_load(&browser.expect("form[action='/signout'] button").await).await;
    browser.goto(&h.bridge.url("/queue")).await;
    assert_eq!(browser.title().await, "Staff sign-in");
    shoot("8-signed-out").await;
    browser.close().await;
    println!("screenshots of the console: {}", shots.display());
}
