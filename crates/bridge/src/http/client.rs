//! Who is calling, as far as the network says: the address budgets for anonymous callers are kept by (the
//! OpenURL parking budget), so that one client cannot use up what the others share.

use std::net::IpAddr;

/// The address a request came from: the socket peer on the local server (which puts it in the request's
/// extensions as it accepts the connection), API Gateway's `requestContext.http.sourceIp` on AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The client's address from a request's extensions, if the server that took the request knew it.
    pub fn of(extensions: &http::Extensions) -> Option<ClientAddress> {
        if let Some(peer) = extensions.get::<ClientAddress>() {
            return Some(*peer);
        }
        match extensions.get::<lambda_http::request::RequestContext>() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
                context.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()).map(ClientAddress)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt as _;

    #[test]
    fn on_aws_the_address_is_api_gateways_source_ip_and_locally_the_peer() {
        // API Gateway's HTTP API event (payload 2.0), as a patron's link arrives on AWS.
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/openurl", "rawQueryString": "title=A",
            "headers": {}, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "000000000000", "apiId": "bridge", "domainName": "bridge.example",
                "domainPrefix": "bridge", "requestId": "r", "routeKey": "$default", "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/openurl", "protocol": "HTTP/1.1",
                         "sourceIp": "198.51.100.7", "userAgent": "browser"}
            }
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("event");
        assert!(request.request_context_ref().is_some());
        assert_eq!(ClientAddress::of(request.extensions()), Some(ClientAddress("198.51.100.7".parse().unwrap())));

        let mut local = http::Extensions::new();
        assert_eq!(ClientAddress::of(&local), None);
        local.insert(ClientAddress("127.0.0.2".parse().unwrap()));
        assert_eq!(ClientAddress::of(&local), Some(ClientAddress("127.0.0.2".parse().unwrap())));
    }
}
