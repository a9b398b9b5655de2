//! The staff console in a real browser: headless Chromium driven through chromedriver
//! ([`support::webdriver`]).

use crate::support::webdriver::Driver;

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
    let shot = crate::support::webdriver::screenshot_dir("webdriver").join("smoke.png");
    browser.screenshot(&shot).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 100);
    browser.close().await;
}
