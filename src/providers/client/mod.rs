//! A stage's view of one provider's API, with the stage's provider token: its webhook endpoints
//! (Stripe `GET /v1/webhook_endpoints`, every page; PayPal `GET /v1/notifications/webhooks`)
//! and the one change mgrid makes to them, the URL (Stripe `POST /v1/webhook_endpoints/{id}`;
//! PayPal `PATCH /v1/notifications/webhooks/{id}` with a JSON patch). PayPal's calls take an
//! OAuth access token, asked for with the client id and secret (`POST /v1/oauth2/token`).
//!
//! A 429 is waited out (its `Retry-After`, else a doubling wait) and a 5xx or a lost connection
//! tried again, for two minutes at most; a refused token is a credentials failure naming the
//! command that sets one. No token, key or URL with a key reaches an error or a log line.
//!
//! `transport` sends and retries; `stripe` and `paypal` are each provider's paths and shapes;
//! `bounds` how far a listing goes.

mod bounds;
mod paypal;
mod stripe;
mod transport;

pub use bounds::{Cursors, EventsPage, MAX_EVENT_PAGES};

use mgrid_contract::{EpochMillis, Provider, Secret, StageName};

use crate::failure::Failure;
use crate::ports::ProviderEndpoint;
use transport::Transport;

/// One provider's API, with the stage's token for it.
pub struct ProviderClient {
    transport: Transport,
}

impl ProviderClient {
    /// `token`: a Stripe secret or restricted key; for PayPal `<client id>:<secret>`.
    pub fn new(
        provider: Provider,
        stage: StageName,
        base: String,
        token: Secret,
    ) -> Result<ProviderClient, Failure> {
        Ok(ProviderClient {
            transport: Transport::new(provider, stage, base, token)?,
        })
    }

    pub fn provider(&self) -> Provider {
        self.transport.provider
    }

    /// Every webhook endpoint the provider holds for the account.
    pub async fn endpoints(&self) -> Result<Vec<ProviderEndpoint>, Failure> {
        match self.provider() {
            Provider::Stripe => stripe::endpoints(&self.transport).await,
            Provider::Paypal => paypal::endpoints(&self.transport).await,
        }
    }

    /// Points endpoint `id` at `url`; the endpoint as the provider answered.
    pub async fn set_url(&self, id: &str, url: &Secret) -> Result<ProviderEndpoint, Failure> {
        match self.provider() {
            Provider::Stripe => stripe::set_url(&self.transport, id, url).await,
            Provider::Paypal => paypal::set_url(&self.transport, id, url).await,
        }
    }

    /// One page of the provider's events created in `[from, to]` (of the payment event types),
    /// newest first, and the cursor of the next page (None: the last).
    pub async fn events_page(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        cursor: Option<&str>,
    ) -> Result<EventsPage, Failure> {
        match self.provider() {
            Provider::Stripe => stripe::events_page(&self.transport, from, to, cursor).await,
            Provider::Paypal => paypal::events_page(&self.transport, from, to, cursor).await,
        }
    }

    /// Asks the provider to deliver event `id` again to endpoint `endpoint` (Stripe's event
    /// retry, as `stripe events resend` asks it; PayPal's resend).
    pub async fn resend(&self, id: &str, endpoint: &str) -> Result<(), Failure> {
        match self.provider() {
            Provider::Stripe => stripe::resend(&self.transport, id, endpoint).await,
            Provider::Paypal => paypal::resend(&self.transport, id, endpoint).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Method, Request, StatusCode};
    use mgrid_contract::form;

    use super::paypal::{paypal_resend, paypal_url_patch};
    use super::stripe::{StripeEndpoint, StripeEvent, stripe_url_form};
    use super::transport::{
        Answer, LONGEST_WAIT, REQUEST_TIMEOUT, doubling, provider_message, retry_after,
    };
    use super::*;
    use crate::failure::FailureKind;
    use crate::http::HttpClient;

    #[test]
    fn waits_double_and_stay_bounded() {
        assert_eq!(doubling(1), Duration::from_secs(1));
        assert_eq!(doubling(3), Duration::from_secs(4));
        assert_eq!(doubling(40), LONGEST_WAIT);
        let asked = Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            overlong: false,
            body: Vec::new(),
            retry_after: Some("7".into()),
        };
        assert_eq!(retry_after(&asked), Some(Duration::from_secs(7)));
        let huge = Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            overlong: false,
            body: Vec::new(),
            retry_after: Some("86400".into()),
        };
        assert_eq!(retry_after(&huge), Some(LONGEST_WAIT));
    }

    /// One of the providers' published OpenAPI documents, as kept under tests/providers/.
    fn document(provider: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/providers/{provider}-openapi.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Fails with every error when `instance` is not valid against `schema` (which may refer
    /// to the document's `#/components/schemas/…`).
    fn assert_valid(
        document: &serde_json::Value,
        schema: &serde_json::Value,
        instance: &serde_json::Value,
        what: &str,
    ) {
        let mut root = schema.clone();
        root["components"] = document["components"].clone();
        let validator = jsonschema::options().build(&root).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} is not as published: {errors:#?}\n{instance:#}"
        );
    }

    fn reference(name: &str) -> serde_json::Value {
        serde_json::json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// An answer of the stand-in, as sent: status, Retry-After, JSON body.
    async fn raw(
        http: &HttpClient,
        method: Method,
        url: &str,
        authorization: &str,
        body: Option<(&str, &str)>,
    ) -> (StatusCode, Option<String>, serde_json::Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", authorization);
        if let Some((kind, _)) = body {
            request = request.header("content-type", kind);
        }
        let bytes = body.map(|(_, b)| b.to_owned()).unwrap_or_default();
        let request = request.body(Full::new(Bytes::from(bytes))).unwrap();
        let response = http.request(request).await.unwrap();
        let status = response.status();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            retry,
            serde_json::from_slice(&bytes).unwrap_or_default(),
        )
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn the_models_read_the_published_fixture_and_the_requests_are_as_published() {
        let stripe = document("stripe");
        let fixture = &stripe["fixtures"]["webhook_endpoint"];
        let endpoint: StripeEndpoint = serde_json::from_value(fixture.clone())
            .expect("Stripe's own webhook_endpoint fixture reads into the model");
        assert_eq!(
            endpoint.endpoint().events,
            ["charge.failed", "charge.succeeded"]
        );
        assert_valid(
            &stripe,
            &reference("webhook_endpoint"),
            fixture,
            "the fixture",
        );
        let event = &stripe["fixtures"]["event"];
        let read: StripeEvent = serde_json::from_value(event.clone())
            .expect("Stripe's own event fixture reads into the model");
        let read = read.event();
        assert_eq!(
            (read.id.as_str(), read.event_type.as_str()),
            ("evt_1NnmXEGPxmnHQRkJO3bak93X", "plan.created")
        );
        assert_eq!(read.created, 1_234_567_890_000);
        assert_valid(&stripe, &reference("event"), event, "the event fixture");

        let url = "https://h.example/prod/webhook/stripe?key=mgk_stripe_a-b";
        let fields: serde_json::Map<String, serde_json::Value> = form::pairs(&stripe_url_form(url))
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        assert_eq!(fields["url"], url);
        let update = &stripe["paths"]["/v1/webhook_endpoints/{webhook_endpoint}"]["post"]["requestBody"]
            ["content"][FORM]["schema"];
        assert_valid(
            &stripe,
            update,
            &serde_json::Value::Object(fields),
            "the URL change",
        );

        let paypal = document("paypal");
        let patch = &paypal["paths"]["/v1/notifications/webhooks/{webhook_id}"]["patch"]["requestBody"]
            ["content"]["application/json"]["schema"];
        assert_valid(
            &paypal,
            patch,
            &paypal_url_patch("https://h.example/x?key=k"),
            "the PayPal patch",
        );
        assert_valid(
            &paypal,
            &reference("event_resend"),
            &paypal_resend(&["WH-1"]),
            "the PayPal resend",
        );

        // The payment events a stage must be subscribed to are Stripe event types.
        let known = &stripe["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]
            [FORM]["schema"]["properties"]["enabled_events"]["items"]["enum"];
        for event in Provider::Stripe.payment_event_types() {
            assert!(
                known.as_array().unwrap().iter().any(|k| k == event),
                "{event} is not a Stripe event type"
            );
        }
    }

    #[tokio::test]
    async fn the_stand_in_answers_as_published_and_the_client_reads_it_through_pages_and_429s() {
        use crate::providers::standin::{Credentials, StandIn};
        let stripe_doc = document("stripe");
        let paypal_doc = document("paypal");
        let stand_in = StandIn::open(None).unwrap();
        stand_in.credentials(|| Credentials {
            stripe: Secret::new("rk_test_standin1".into()),
            paypal: Secret::new("AClient:ESecret".into()),
        });
        for n in 0..120 {
            stand_in.register(
                Provider::Stripe,
                Secret::new(format!("https://h.example/s{n}/webhook/stripe?key=mgk_{n}")),
                vec!["payment_intent.succeeded".into()],
                None,
            );
        }
        let webhook = stand_in.register(
            Provider::Paypal,
            Secret::new("https://h.example/prod/webhook/paypal?key=mgk_p".into()),
            vec!["PAYMENT.CAPTURE.COMPLETED".into()],
            None,
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serving = tokio::spawn(stand_in.clone().serve(listener));
        let stage: StageName = "prod".parse().unwrap();
        let http = crate::http::client().unwrap();
        let key = "Bearer rk_test_standin1";
        let control = format!("Bearer {}", stand_in.control_token().expose());
        let endpoints_url = format!("{base}/stripe/v1/webhook_endpoints");

        // Stripe: a page, as published; a refused key; a change; a missing one; a 429.
        let list_schema = &stripe_doc["paths"]["/v1/webhook_endpoints"]["get"]["responses"]["200"]
            ["content"]["application/json"]["schema"];
        let (status, _, page) = raw(
            &http,
            Method::GET,
            &format!("{endpoints_url}?limit=100"),
            key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["data"].as_array().unwrap().len(), 100);
        assert_eq!(page["has_more"], true);
        assert_valid(&stripe_doc, list_schema, &page, "a page of endpoints");
        let (status, _, refused) = raw(
            &http,
            Method::GET,
            &endpoints_url,
            "Bearer rk_test_wrong",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_valid(&stripe_doc, &reference("error"), &refused, "Stripe's 401");
        let first = page["data"][0]["id"].as_str().unwrap().to_owned();
        let disable = Some((FORM, "disabled=true"));
        let (status, _, changed) = raw(
            &http,
            Method::POST,
            &format!("{endpoints_url}/{first}"),
            key,
            disable,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(changed["status"], "disabled");
        assert_valid(
            &stripe_doc,
            &reference("webhook_endpoint"),
            &changed,
            "a changed endpoint",
        );
        let (status, _, missing) = raw(
            &http,
            Method::POST,
            &format!("{endpoints_url}/we_nope"),
            key,
            disable,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_valid(&stripe_doc, &reference("error"), &missing, "Stripe's 404");
        let throttle = |requests: u32| {
            let body = format!(r#"{{"requests":{requests},"retryAfter":1}}"#);
            let http = http.clone();
            let url = format!("{base}/_standin/throttle");
            let control = control.clone();
            async move {
                raw(
                    &http,
                    Method::POST,
                    &url,
                    &control,
                    Some(("application/json", body.as_str())),
                )
                .await
            }
        };
        throttle(1).await;
        let (status, retry, throttled) = raw(&http, Method::GET, &endpoints_url, key, None).await;
        assert_eq!(
            (status, retry.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("1"))
        );
        assert_valid(&stripe_doc, &reference("error"), &throttled, "Stripe's 429");

        // Events, as Stripe lists them, and as the client reads them page by page.
        let event = |n: usize| {
            serde_json::json!({"body": format!(
                r#"{{"id":"evt_{n}","type":"payment_intent.succeeded","data":{{"object":{{"id":"pi_{n}","object":"payment_intent","amount_received":100,"currency":"eur"}}}}}}"#
            ), "delivered": n.is_multiple_of(2)})
        };
        let events: Vec<serde_json::Value> = (0..150).map(event).collect();
        let kept = serde_json::Value::Array(events).to_string();
        let keep_url = format!("{base}/_standin/stripe/events");
        raw(
            &http,
            Method::POST,
            &keep_url,
            &control,
            Some(("application/json", kept.as_str())),
        )
        .await;
        let events_schema = &stripe_doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        let events_url = format!("{base}/stripe/v1/events?limit=100");
        let (status, _, listed) = raw(&http, Method::GET, &events_url, key, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(&stripe_doc, events_schema, &listed, "a page of events");
        let reader = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_standin1".into()),
        )
        .unwrap();
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let page = reader
                .events_page(0, i64::MAX / 2, cursor.as_deref())
                .await
                .unwrap();
            seen.extend(
                page.events
                    .into_iter()
                    .map(|e| (e.id, e.pending_deliveries)),
            );
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), 150, "every page, each event once");
        assert_eq!(
            seen[0],
            ("evt_149".to_owned(), Some(1)),
            "newest first; an undelivered one pends"
        );

        // The client reads every page, through two 429s it waits out.
        throttle(2).await;
        let client = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_standin1".into()),
        )
        .unwrap();
        let started = Instant::now();
        let endpoints = client.endpoints().await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "the 429s were not waited out"
        );
        assert_eq!(endpoints.len(), 120);
        let ids: std::collections::BTreeSet<&str> =
            endpoints.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 120, "a page was read twice");
        // Two 503s: tried again.
        let fail = r#"{"requests":2,"status":503}"#;
        let throttle_url = format!("{base}/_standin/throttle");
        raw(
            &http,
            Method::POST,
            &throttle_url,
            &control,
            Some(("application/json", fail)),
        )
        .await;
        let (status, _, failing) = raw(&http, Method::GET, &endpoints_url, key, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_valid(&stripe_doc, &reference("error"), &failing, "Stripe's 503");
        assert_eq!(
            client.endpoints().await.unwrap().len(),
            120,
            "through a 503"
        );
        let new_url = Secret::new("https://h.example/s5/webhook/stripe?key=mgk_new".into());
        let moved = client.set_url(&endpoints[5].id, &new_url).await.unwrap();
        assert_eq!(moved.url, new_url);
        let wrong = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_wrong".into()),
        )
        .unwrap();
        let refused = wrong.endpoints().await.unwrap_err();
        assert_eq!(refused.kind, FailureKind::Credentials);
        assert!(!format!("{refused} {:?}", refused.next).contains("rk_test_wrong"));

        // PayPal: the OAuth token, the list, a refusal, a change.
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("AClient:ESecret");
        let (status, _, token) = raw(
            &http,
            Method::POST,
            &format!("{base}/paypal/v1/oauth2/token"),
            &format!("Basic {basic}"),
            Some((FORM, "grant_type=client_credentials")),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let webhooks_url = format!("{base}/paypal/v1/notifications/webhooks");
        let (status, _, list) = raw(&http, Method::GET, &webhooks_url, &bearer, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(
            &paypal_doc,
            &reference("WebhookList"),
            &list,
            "PayPal's webhook list",
        );
        let (status, _, refused) =
            raw(&http, Method::GET, &webhooks_url, "Bearer nope", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_valid(&paypal_doc, &reference("error"), &refused, "PayPal's 401");
        let client = ProviderClient::new(
            Provider::Paypal,
            stage.clone(),
            format!("{base}/paypal"),
            Secret::new("AClient:ESecret".into()),
        )
        .unwrap();
        let moved_url = Secret::new("https://h.example/prod/webhook/paypal?key=mgk_q".into());
        let moved = client.set_url(&webhook, &moved_url).await.unwrap();
        assert_eq!(moved.key().unwrap().expose(), "mgk_q");
        let (_, _, one) = raw(&http, Method::GET, &webhooks_url, &bearer, None).await;
        assert_valid(
            &paypal_doc,
            &reference("webhook"),
            &one["webhooks"][0],
            "a changed PayPal webhook",
        );
        let paypal_events: Vec<serde_json::Value> = (0..120)
            .map(|n| {
                serde_json::json!({"body": format!(
                    r#"{{"id":"WH-{n}","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{{"id":"CAP{n}","amount":{{"value":"1.00","currency_code":"EUR"}}}}}}"#
                ), "delivered": true})
            })
            .collect();
        let kept = serde_json::Value::Array(paypal_events).to_string();
        let keep_url = format!("{base}/_standin/paypal/events");
        raw(
            &http,
            Method::POST,
            &keep_url,
            &control,
            Some(("application/json", kept.as_str())),
        )
        .await;
        let list_url = format!("{base}/paypal/v1/notifications/webhooks-events?page_size=50");
        let (status, _, listed) = raw(&http, Method::GET, &list_url, &bearer, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(
            &paypal_doc,
            &reference("EventList"),
            &listed,
            "PayPal's event list",
        );
        let (mut seen, mut cursor) = (0, None);
        loop {
            let page = client
                .events_page(0, 4_102_444_800_000, cursor.as_deref())
                .await
                .unwrap();
            seen += page.events.len();
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, 120, "every page, following the next links");
        let wrong = ProviderClient::new(
            Provider::Paypal,
            stage,
            format!("{base}/paypal"),
            Secret::new("AClient:wrong".into()),
        )
        .unwrap();
        let refused = wrong.endpoints().await.unwrap_err();
        assert_eq!(refused.kind, FailureKind::Credentials);
        serving.abort();
    }

    #[test]
    fn a_providers_message_is_read_and_scrubbed() {
        let stripe = br#"{"error":{"message":"Invalid API Key provided: rk_test_****wxyz","type":"invalid_request_error"}}"#;
        let said = provider_message(stripe).unwrap();
        assert!(said.starts_with("Invalid API Key provided") && !said.contains("wxyz"));
        let paypal =
            br#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#;
        assert_eq!(
            provider_message(paypal).as_deref(),
            Some("Client Authentication failed")
        );
        assert_eq!(provider_message(b"<html>"), None);
    }

    /// A provider API that misbehaves: each request is answered by `answer(path)` with a body
    /// (None: an endless chunked body). Its base URL.
    async fn hostile(
        answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> (String, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = std::sync::Arc::new(answer);
        let serving = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    match answer(&path) {
                        Some(body) => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(body.as_bytes()).await;
                        }
                        None => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                            let _ = stream.write_all(head.as_bytes()).await;
                            let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
                            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                        }
                    }
                });
            }
        });
        (base, serving)
    }

    fn stripe_at(base: &str) -> ProviderClient {
        ProviderClient::new(
            Provider::Stripe,
            "prod".parse().unwrap(),
            format!("{base}/stripe"),
            Secret::new("rk_test_x".into()),
        )
        .unwrap()
    }

    fn stripe_endpoint(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"webhook_endpoint","url":"https://x.example/webhook/stripe?key=mgk_1","status":"enabled","enabled_events":["*"],"api_version":null}}"#
        )
    }

    #[tokio::test]
    async fn a_listing_that_never_ends_is_stopped_and_said() {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let asked = counter.clone();
        // has_more forever, a new endpoint a page.
        let (base, serving) = hostile(move |_| {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some(format!(
                r#"{{"object":"list","has_more":true,"data":[{}]}}"#,
                stripe_endpoint(&format!("we_{n}"))
            ))
        })
        .await;
        let endless = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(
            endless.what.contains("still going after 10 pages"),
            "{}",
            endless.what
        );
        assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 10);
        serving.abort();

        // The same page again and again.
        let (base, serving) = hostile(|_| {
            Some(format!(
                r#"{{"object":"list","has_more":true,"data":[{}]}}"#,
                stripe_endpoint("we_same")
            ))
        })
        .await;
        let repeated = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(repeated.what.contains("already sent"), "{}", repeated.what);
        serving.abort();

        // PayPal's next link to itself, as reconcile follows it.
        let (base, serving) = hostile(|path| {
            Some(format!(
                r#"{{"events":[],"links":[{{"href":"https://api-m.paypal.com{}","rel":"next"}}]}}"#,
                path.trim_start_matches("/paypal")
            ))
        })
        .await;
        let paypal = ProviderClient::new(
            Provider::Paypal,
            "prod".parse().unwrap(),
            format!("{base}/paypal"),
            Secret::new("AClient:ESecret".into()),
        )
        .unwrap();
        // The stand-in of an OAuth answer: any body with an access token.
        *paypal.transport.access.lock().await = Some(Secret::new("A21AAx".into()));
        let mut cursors = Cursors::new("events", MAX_EVENT_PAGES);
        let mut cursor: Option<String> = None;
        let stopped = loop {
            let page = paypal
                .events_page(0, 1000, cursor.as_deref())
                .await
                .unwrap();
            cursor = page.next;
            if let Err(error) = cursors.follow(Provider::Paypal, cursor.as_deref()) {
                break error;
            }
            assert!(cursor.is_some(), "the link was not followed");
        };
        assert!(stopped.what.contains("already sent"), "{}", stopped.what);
        serving.abort();
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_off_not_held_in_memory() {
        let (base, serving) = hostile(|_| None).await;
        let started = Instant::now();
        let cut = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(cut.what.contains("more than 16 MiB"), "{}", cut.what);
        assert!(
            started.elapsed() < REQUEST_TIMEOUT,
            "cut off at once, not tried again"
        );
        serving.abort();
    }

    #[tokio::test]
    async fn provider_text_that_would_drive_a_terminal_is_escaped_as_it_is_read() {
        let (base, serving) = hostile(|_| {
            Some(format!(
                r#"{{"object":"list","has_more":false,"data":[{}]}}"#,
                stripe_endpoint(r"we_\u001b]0;owned\u0007")
                    .replace(r#""status":"enabled""#, r#""status":"enabled\u001b[2J""#)
                    .replace("x.example", r"x.example\u001b[2J")
            ))
        })
        .await;
        let endpoints = stripe_at(&base).endpoints().await.unwrap();
        let endpoint = &endpoints[0];
        for shown in [&endpoint.id, &endpoint.status, &endpoint.shown_url()] {
            assert!(
                !shown.chars().any(mgrid_contract::untrusted::is_unsafe),
                "{shown:?}"
            );
        }
        assert_eq!(endpoint.id, r"we_\x1b]0;owned\x07");
        serving.abort();
    }
}
