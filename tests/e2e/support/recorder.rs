//! A recording proxy in front of the simulator's NCIP responder: what Alma receives from the bridge, byte for
//! byte, so a test can compare it with what Relais sent. It passes every answer back unchanged.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use std::sync::{Arc, Mutex};

pub struct NcipRecorder {
    /// The URL to give the bridge as `ALMA_NCIP_URL`.
    pub url: String,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl NcipRecorder {
    /// Listens on a loopback port and forwards each POST to `target` (the simulator's NCIP URL).
    pub async fn start(target: String) -> NcipRecorder {
        let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let client = reqwest::Client::new();
        let seen = Arc::clone(&bodies);
        let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let (seen, client, target) = (Arc::clone(&seen), client.clone(), target.clone());
            async move {
                seen.lock().unwrap().push(body.to_vec());
                let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
                let answer = client
                    .post(&target)
                    .header(header::CONTENT_TYPE, content_type)
                    .body(body)
                    .send()
                    .await
                    .expect("the simulator answers the recorder");
                let status = StatusCode::from_u16(answer.status().as_u16()).expect("a status");
                (status, [(header::CONTENT_TYPE, "application/xml")], answer.bytes().await.expect("a body"))
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}/view/NCIPServlet", listener.local_addr().expect("bound"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the recorder serves") });
        NcipRecorder { url, bodies }
    }

    /// Every body Alma received, in order, as text.
    pub fn received(&self) -> Vec<String> {
        self.bodies.lock().unwrap().iter().map(|b| String::from_utf8(b.clone()).expect("UTF-8 to Alma")).collect()
    }
}
