//! The client for Alma's NCIP responder (`https://<institution host>/view/NCIPServlet`).

use super::transport::{Exchange, RetryPolicy, Transport};
use super::{AlmaError, AlmaNcip, CallContext, error::NCIP_HTTP};
use crate::ncip::{self, Message, ReadOptions};
use async_trait::async_trait;
use reqwest::{Method, Url};

/// Alma's NCIP responder at one URL: each message is posted as XML, and the answer parsed for the flows.
#[derive(Debug, Clone)]
pub struct HttpAlmaNcip {
    transport: Transport,
    url: Url,
    read_options: ReadOptions,
}

impl HttpAlmaNcip {
    /// `transport` should share the REST client's limiter: Alma counts both against one institution.
    pub fn new(transport: Transport, ncip_url: &str, read_options: ReadOptions) -> Result<Self, url::ParseError> {
        Ok(Self { transport, url: Url::parse(ncip_url)?, read_options })
    }
}

#[async_trait]
impl AlmaNcip for HttpAlmaNcip {
    async fn send(&self, body: Vec<u8>, ctx: &CallContext) -> Result<Message, AlmaError> {
        let exchange = Exchange {
            method: Method::POST,
            url: self.url.clone(),
            route: "/view/NCIPServlet",
            headers: vec![("Accept", "application/xml".into())],
            body: Some((body.into(), "application/xml; charset=utf-8")),
            // An NCIP message acts in Alma (creates items, loans): never repeat one whose fate is unknown.
            retry: RetryPolicy::OnlyIfNotProcessed,
        };
        let answer = self.transport.send(&exchange, ctx).await?;
        if !answer.status.is_success() {
            // A non-2xx from the responder means it did not process the message (its Problems come with 200).
            return Err(AlmaError::Api {
                status: answer.status.as_u16(),
                code: NCIP_HTTP.into(),
                message: format!("Alma's NCIP responder answered HTTP {}", answer.status.as_u16()),
                tracking_id: None,
            });
        }
        let message =
            ncip::read(&answer.body, &self.read_options).map_err(|e| AlmaError::Unreadable(format!("NCIP: {e}")))?;
        // Alma's DateDue as Alma wrote it, for an answer that passes Alma's due date on to Relais.
        ctx.note_alma_date_texts(ncip::service_date_texts(&answer.body, &["DateDue"], &self.read_options.time_zone));
        Ok(message)
    }

    fn endpoint(&self) -> Option<&str> {
        Some(self.url.as_str())
    }
}
