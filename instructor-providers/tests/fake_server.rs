//! The fake provider (`testing` feature) spoken to with a real HTTP client.
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::time::{Duration, Instant};

use instructor_providers::testing::openai::{self, ChatCompletion};
use instructor_providers::testing::{FakeProvider, Reply};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every test runs under this bound: a broken fake fails the test instead of hanging it.
async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test took longer than 20 s")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .unwrap()
}

/// Reads the body one `chunk()` at a time, sleeping `pause` after each read so that
/// several chunks are sitting in the socket when the next read happens.
async fn reads(response: &mut reqwest::Response, pause: Duration) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        out.push(chunk.to_vec());
        tokio::time::sleep(pause).await;
    }
    out
}

/// The JSON payloads of an SSE body's `data:` lines, `[DONE]` excluded.
fn sse_payloads(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

#[tokio::test]
async fn scripted_json_reply_and_request_recording() {
    bounded(async {
        let server = FakeProvider::start().await;
        assert!(server.base_url().starts_with("http://127.0.0.1:"));
        assert!(server.base_url().ends_with("/v1"));
        server.push_for(
            openai::CHAT_COMPLETIONS_PATH,
            ChatCompletion::tool_call("extract", r#"{"name":"Ada","age":36}"#).reply(),
        );
        server.push_for(
            openai::CHAT_COMPLETIONS_PATH,
            ChatCompletion::content("second").reply(),
        );
        assert_eq!(server.remaining(), 2);

        let request_body = json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Ada is 36"}],
            "tools": [{"type": "function", "function": {"name": "extract"}}],
        });
        let url = format!("{}/chat/completions", server.base_url());
        let response = client()
            .post(&url)
            .bearer_auth("sk-test-123")
            .header("OpenAI-Organization", "org-1")
            .json(&request_body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["object"], "chat.completion");
        let call = &answer["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["name"], "extract");
        assert_eq!(call["function"]["arguments"], r#"{"name":"Ada","age":36}"#);
        assert_eq!(answer["usage"]["total_tokens"], 15);

        // FIFO: the second reply comes second.
        let second: Value = client()
            .post(&url)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(second["choices"][0]["message"]["content"], "second");
        assert_eq!(server.remaining(), 0);

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let first = &requests[0];
        assert_eq!(first.method(), "POST");
        assert_eq!(first.path(), "/v1/chat/completions");
        assert_eq!(first.query(), None);
        assert_eq!(first.header("authorization"), Some("Bearer sk-test-123"));
        assert_eq!(first.header("Authorization"), Some("Bearer sk-test-123"));
        assert_eq!(first.header("openai-organization"), Some("org-1"));
        assert_eq!(first.header("content-type"), Some("application/json"));
        assert!(
            first
                .headers()
                .any(|(name, value)| name == "authorization" && value == b"Bearer sk-test-123")
        );
        assert_eq!(first.json(), Some(&request_body));
        assert_eq!(first.body(), serde_json::to_vec(&request_body).unwrap());
        assert_eq!(server.requests_for(openai::CHAT_COMPLETIONS_PATH).len(), 2);
        assert_eq!(server.last_request().unwrap().json(), Some(&json!({})));
    })
    .await;
}

#[tokio::test]
async fn route_queues_come_before_the_global_queue() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::json(200, json!({"from": "global 1"})));
        server.push(Reply::json(200, json!({"from": "global 2"})));
        let gemini = "/v1beta/models/gemini-2.0-flash:generateContent";
        server.push_for(gemini, Reply::json(200, json!({"from": "gemini"})));

        let get = |url: String| async move {
            client()
                .post(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["from"]
                .clone()
        };
        assert_eq!(get(server.url("/v1/messages")).await, "global 1");
        // Query strings do not take part in matching; the colon path is matched as is.
        assert_eq!(
            get(server.url(&format!("{gemini}?key=abc"))).await,
            "gemini"
        );
        // The route's queue is empty now: the global queue answers.
        assert_eq!(get(server.url(gemini)).await, "global 2");

        let recorded = server.requests_for(gemini);
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[0].query(), Some("key=abc"));
    })
    .await;
}

#[tokio::test]
async fn sse_chunks_arrive_as_separate_reads_at_the_chosen_boundaries() {
    bounded(async {
        let server = FakeProvider::start().await;
        // Exact chunks, one of them invalid UTF-8 and one ending inside "é" (0xC3 0xA9).
        let chunks: Vec<Vec<u8>> = vec![
            b"data: {\"a\":".to_vec(),
            b"1}\n\ndata: \xff\xfe\n\n".to_vec(),
            b"data: \"caf\xc3".to_vec(),
            b"\xa9\"\n\n".to_vec(),
            b"data: [DONE]\n\n".to_vec(),
        ];
        server.push(Reply::sse(chunks.clone()));

        let mut response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(response.headers().get("content-length").is_none());
        // The client sleeps after every read, so all chunks are in its socket before it is
        // done; the reads still follow the server's chunk boundaries.
        let got = reads(&mut response, Duration::from_millis(30)).await;
        assert_eq!(got, chunks);

        // Re-cut at byte offsets.
        let body = "data: {\"x\":1}\n\ndata: [DONE]\n\n";
        server.push(Reply::sse([body]).cut_at(&[17, 3, 3]));
        let mut response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        let got = reads(&mut response, Duration::from_millis(20)).await;
        let body = body.as_bytes();
        assert_eq!(
            got,
            vec![
                body[..3].to_vec(),
                body[3..17].to_vec(),
                body[17..].to_vec()
            ]
        );

        // A Content-Length reply written in pieces is still one whole body.
        let value = json!({"split": "in the middle of a key"});
        server.push(Reply::json(200, value.clone()).cut_at(&[1, 5, 20]));
        let response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        let length = value.to_string().len().to_string();
        assert_eq!(response.headers()["content-length"], length.as_str());
        assert_eq!(response.json::<Value>().await.unwrap(), value);
    })
    .await;
}

#[tokio::test]
async fn chunks_are_flushed_one_by_one_with_the_delay_between() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(
            Reply::sse(["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"])
                .delay_between(Duration::from_millis(200)),
        );
        let client = client();
        let start = Instant::now();
        let mut response = client
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        let mut arrivals = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            arrivals.push((chunk.to_vec(), start.elapsed()));
        }
        assert_eq!(arrivals.len(), 3);
        assert_eq!(arrivals[0].0, b"data: 1\n\n");
        // Each chunk after the first comes about 200 ms after the one before. The bounds
        // leave room for a loaded machine: the two pauses are sequential on the server, so
        // the last chunk cannot arrive before 400 ms; each gap has 100 ms of slack.
        assert!(arrivals[2].1 >= Duration::from_millis(390), "{arrivals:?}");
        assert!(
            arrivals[1].1 - arrivals[0].1 >= Duration::from_millis(100),
            "{arrivals:?}"
        );
        assert!(
            arrivals[2].1 - arrivals[1].1 >= Duration::from_millis(100),
            "{arrivals:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn openai_stream_helpers_round_trip() {
    bounded(async {
        let server = FakeProvider::start().await;
        let fragments = [r#"{"na"#, r#"me":"A"#, r#"da","tags":["#, r#""x"]}"#];
        server.push_for(
            openai::CHAT_COMPLETIONS_PATH,
            ChatCompletion::tool_call_fragments("extract", fragments)
                .and_tool_call("second", "{}")
                .usage(20, 8)
                .sse_reply(),
        );
        server.push_for(
            openai::CHAT_COMPLETIONS_PATH,
            ChatCompletion::content_fragments(["Hel", "lo"])
                .finish_reason("length")
                .no_usage()
                .sse_reply(),
        );

        let url = format!("{}/chat/completions", server.base_url());
        let body = client()
            .post(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.ends_with("data: [DONE]\n\n"));
        let payloads = sse_payloads(&body);
        let mut arguments = [String::new(), String::new()];
        let mut names = Vec::new();
        for payload in &payloads {
            assert_eq!(payload["object"], "chat.completion.chunk");
            for call in payload["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let index = call["index"].as_u64().unwrap() as usize;
                if let Some(name) = call["function"]["name"].as_str() {
                    names.push(name.to_owned());
                    assert_eq!(call["id"], format!("call_fake_{index}"));
                }
                arguments[index] += call["function"]["arguments"].as_str().unwrap();
            }
        }
        assert_eq!(names, ["extract", "second"]);
        assert_eq!(arguments[0], fragments.concat());
        assert_eq!(arguments[1], "{}");
        let finish = &payloads[payloads.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
        let usage = payloads.last().unwrap();
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["total_tokens"], 28);

        let body = client()
            .post(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let payloads = sse_payloads(&body);
        assert_eq!(payloads[0]["choices"][0]["delta"]["role"], "assistant");
        let text: String = payloads
            .iter()
            .filter_map(|p| p["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "Hello");
        let last = payloads.last().unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], "length");
        assert!(payloads.iter().all(|p| p.get("usage").is_none()));
    })
    .await;
}

#[tokio::test]
async fn status_and_retry_after_headers() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(
            Reply::status(429)
                .header("retry-after", "1")
                .header("x-ratelimit-remaining-requests", "0")
                .json_body(openai::error_body(
                    "Rate limit reached",
                    "requests",
                    Some("rate_limit_exceeded"),
                )),
        );
        server.push(Reply::status(503));

        let response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(response.headers()["x-ratelimit-remaining-requests"], "0");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");

        let response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["content-length"], "0");
        assert!(response.bytes().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn delay_before_headers_lets_the_client_timeout_fire() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::json(200, json!({"late": true})).delay(Duration::from_secs(5)));
        server.push(Reply::json(200, json!({"late": false})).delay(Duration::from_millis(100)));

        let start = Instant::now();
        let err = client_with_timeout(Duration::from_millis(300))
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(3));

        // A short delay is just slow.
        let start = Instant::now();
        let body: Value = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["late"], false);
        assert!(start.elapsed() >= Duration::from_millis(90));
    })
    .await;
}

#[tokio::test]
async fn stall_never_answers() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::stall());
        server.push(Reply::json(200, json!({"after": "stall"})));
        let err = client_with_timeout(Duration::from_millis(300))
            .post(server.url("/v1/chat/completions"))
            .json(&json!({"stalled": true}))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        // The stalled request was recorded, and the server goes on serving.
        assert_eq!(server.requests()[0].json(), Some(&json!({"stalled": true})));
        let body: Value = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["after"], "stall");
    })
    .await;
}

#[tokio::test]
async fn mid_stream_disconnect_is_a_body_error() {
    bounded(async {
        let server = FakeProvider::start().await;
        let events = ChatCompletion::content_fragments(["a", "b", "c"]).to_sse_events();
        let n = events.len();
        server.push(Reply::sse(events.clone()).disconnect_after(2));
        server.push(Reply::sse(events.clone()).disconnect_after(0));
        server.push(Reply::sse(events.clone()).disconnect_after(n));

        let mut response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut got = Vec::new();
        let err = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => got.push(chunk.to_vec()),
                Ok(None) => panic!("the body ended cleanly after {got:?}"),
                Err(err) => break err,
            }
        };
        assert!(err.is_body() || err.is_decode(), "{err:?}");
        assert_eq!(
            got,
            vec![events[0].as_bytes().to_vec(), events[1].as_bytes().to_vec()]
        );

        // Headers only, then the drop.
        let response = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.bytes().await.is_err());

        // Everything, then the drop: no terminating chunk.
        let err = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap_err();
        assert!(err.is_body() || err.is_decode(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn empty_queue_answers_500_with_an_error_body() {
    bounded(async {
        let server = FakeProvider::start().await;
        let response = client()
            .post(format!("{}/chat/completions", server.base_url()))
            .json(&json!({"model": "m"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("no scripted reply"), "{message}");
        assert!(message.contains("POST /v1/chat/completions"), "{message}");
        assert_eq!(body["error"]["code"], "no_scripted_reply");
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn ten_megabyte_bodies_both_ways() {
    bounded(async {
        let server = FakeProvider::start().await;
        let big: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        server.push(
            Reply::status(200)
                .header("content-type", "application/octet-stream")
                .body(big.clone()),
        );
        let response = client()
            .post(server.url("/upload"))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-length"],
            big.len().to_string().as_str()
        );
        let got = response.bytes().await.unwrap();
        assert!(got.as_ref() == big.as_slice());
        let request = server.last_request().unwrap();
        assert_eq!(request.body().len(), big.len());
        assert!(request.body() == big.as_slice());
        assert!(request.json().is_none());

        // A 10 MB JSON request is parsed too.
        server.push(Reply::status(204));
        let text = "x".repeat(10 * 1024 * 1024);
        client()
            .post(server.url("/v1/chat/completions"))
            .json(&json!({"content": text}))
            .send()
            .await
            .unwrap();
        let request = server.last_request().unwrap();
        assert_eq!(
            request.json().unwrap()["content"].as_str().unwrap().len(),
            text.len()
        );
    })
    .await;
}

#[tokio::test]
async fn malformed_requests_get_400() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::json(200, json!({"kept": true})));

        // Not HTTP at all.
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(b"\x00\xffGARBAGE \x01\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );

        // A broken chunked body: the body cannot be read, the answer is a 400.
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(
                b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\
                  transfer-encoding: chunked\r\n\r\nZZ\r\nnot hex\r\n",
            )
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );

        // Headers that are not headers.
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );

        // A body declared JSON that is not.
        let response = client()
            .post(server.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body("{\"model\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_json");

        // None consumed the scripted reply; the broken-JSON request was recorded.
        assert_eq!(server.remaining(), 1);
        assert_eq!(server.requests().len(), 1);
        assert_eq!(server.requests()[0].body(), b"{\"model\": ");
        let body: Value = client()
            .post(server.url("/v1/chat/completions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["kept"], true);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_server_closes_the_port_and_its_connections() {
    bounded(async {
        let server = FakeProvider::start().await;
        let addr = server.addr();
        server.push(Reply::stall());
        let url = server.url("/v1/chat/completions");
        let pending = tokio::spawn(async move { client().post(url).send().await });
        // Wait until the stalled request has arrived.
        while server.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(server);

        // The stalled client sees its connection drop instead of waiting forever.
        let result = pending.await.unwrap();
        assert!(result.is_err(), "{result:?}");

        // And the port no longer accepts connections.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::net::TcpStream::connect(addr).await {
                Err(_) => break,
                Ok(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Ok(_) => panic!("{addr} still accepts connections after the drop"),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_requests_each_get_a_reply() {
    bounded(async {
        let server = FakeProvider::start().await;
        for i in 0..8 {
            server.push(Reply::json(200, json!({"n": i})).delay(Duration::from_millis(20)));
        }
        let client = client();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let request = client.post(server.url("/v1/chat/completions")).send();
            tasks.push(tokio::spawn(async move {
                request.await.unwrap().json::<Value>().await.unwrap()["n"]
                    .as_u64()
                    .unwrap()
            }));
        }
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<u64>>());
        assert_eq!(server.requests().len(), 8);
    })
    .await;
}

#[test]
fn the_public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<FakeProvider>();
    send_sync::<Reply>();
    send_sync::<instructor_providers::testing::RecordedRequest>();
    send_sync::<ChatCompletion>();
}

#[tokio::test]
async fn debug_output_stays_short_and_ndjson_is_not_judged() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::status(200));
        server.push_for("/v1/batch?ignored=1", Reply::status(202));
        // NDJSON is not JSON, but it is not declared as `application/json` either.
        let response = client()
            .post(server.url("/v1/batch"))
            .header("content-type", "application/x-ndjson")
            .body("{\"a\":1}\n{\"a\":2}\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        client()
            .post(server.url("/v1/big"))
            .body(vec![b'x'; 100_000])
            .send()
            .await
            .unwrap();
        let debug = format!("{:?}", server.last_request().unwrap());
        assert!(debug.len() < 2_000, "{debug}");
        assert!(debug.contains("100000 bytes in all"), "{debug}");
        assert_eq!(server.requests_for("/v1/batch?x=2").len(), 1);
        let debug = format!("{server:?}");
        assert!(debug.contains("requests: 2"), "{debug}");
    })
    .await;
}

#[tokio::test]
async fn raw_replies_go_out_byte_for_byte_and_the_request_is_recorded() {
    bounded(async {
        let server = FakeProvider::start().await;
        // Not HTTP a builder would allow: a lying length, a bare LF, a header with no value.
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 999\nx-odd:\r\n\r\n{\xff".to_vec();
        server.push(Reply::raw(raw.clone()));
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(
                b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}",
            )
            .await
            .unwrap();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, raw);
        assert_eq!(server.requests()[0].body(), b"{}");
    })
    .await;
}

#[tokio::test]
async fn redirect_replies_carry_their_location() {
    bounded(async {
        let server = FakeProvider::start().await;
        server.push(Reply::redirect(307, "http://127.0.0.1:9/elsewhere"));
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client.post(server.url("/v1/x")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 307);
        assert_eq!(
            response.headers()["location"],
            "http://127.0.0.1:9/elsewhere"
        );
    })
    .await;
}
