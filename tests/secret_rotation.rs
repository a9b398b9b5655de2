//! A secret rotated in SSM reaches a running Lambda function without a deploy: the function reads its
//! parameters again every `SECRETS_REFRESH_SECONDS`, and answers with the new value from then on. Against
//! moto's SSM (the server `./scripts/test` starts), through the function's own router.

use axum::body::Body;
use bridge::Function;
use bridge::config::Env;
use bridge::lambda::refresh::Refreshing;
use std::time::Duration;
use tower::ServiceExt;

async fn moto() -> aws_config::SdkConfig {
    let endpoint = std::env::var("BRIDGE_TEST_DYNAMODB_ENDPOINT")
        .expect("BRIDGE_TEST_DYNAMODB_ENDPOINT is set by ./scripts/test (it starts moto_server)");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("moto keeps the parameter");
}

/// Whether the status function takes `token` (it then looks the request up; a wrong token is refused first).
async fn accepts(function: &Refreshing, token: &str) -> bool {
    let request =
        http::Request::get("/queue").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let status = function.router().await.oneshot(request).await.unwrap().status();
    status != 401
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_token_rotated_in_ssm_is_used_after_the_refresh_interval_without_a_deploy() {
    let aws = moto().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let parameter = format!("/bridge-test-{:016x}/status-token", rand::random::<u64>());
    let (old, new) = ("the-old-status-token-0123456789", "the-new-status-token-0123456789");
    put(&ssm, &parameter, old).await;
    let env = Env::from_pairs([
        ("STATUS_TOKEN_PARAMETER", parameter.as_str()),
        ("DYNAMODB_TABLE", "bridge-secret-rotation-test"),
        ("SECRETS_REFRESH_SECONDS", "1"),
    ]);
    let function = Refreshing::start(Function::RequestStatus, env, aws).await.expect("the function starts");
    assert!(accepts(&function, old).await && !accepts(&function, new).await);

    put(&ssm, &parameter, new).await;
    // Within the interval the function keeps what it read: one SSM call per interval, not per request.
    assert!(accepts(&function, old).await, "read again only once the interval has passed");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(accepts(&function, new).await, "the rotated token is taken");
    assert!(!accepts(&function, old).await, "and the old one no longer");
}
