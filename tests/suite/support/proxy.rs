#![allow(dead_code)]

//! A TCP proxy in front of the emulator that records what passes through it, so a test can count
//! the requests mgrid really sent (by their `Action=` in the Query-protocol body, or by their
//! request lines) and the bytes each way, without trusting mgrid's own counters. It can hold every
//! request for a fixed delay (a region away), and keeps the most requests that were in flight
//! at once.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct CountingProxy {
    pub endpoint: String,
    sent: Arc<Mutex<Vec<u8>>>,
    received: Arc<AtomicU64>,
    traffic: Arc<Traffic>,
}

/// Requests as they pass: started, answered, and the most in flight at once.
#[derive(Default)]
struct Traffic {
    requests: AtomicU64,
    answers: AtomicU64,
    /// `requests` at the last reset: what `traffic` counts from.
    counted_from: AtomicU64,
    most_in_flight: AtomicU64,
    upstream: Mutex<Upstream>,
    /// By action: requests answered and the time from passing each on to its answer.
    by_action: Mutex<std::collections::BTreeMap<String, (u64, std::time::Duration)>>,
}

/// The action a request names: its `X-Amz-Target` operation (JSON protocols: SQS, DynamoDB,
/// SSM…), its `Action=` (Query protocol), or its method and path.
fn action(chunk: &[u8]) -> String {
    let text = String::from_utf8_lossy(chunk);
    let header = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target").then(|| {
            value
                .trim()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    });
    let query = || {
        let at = text.find("Action=")? + "Action=".len();
        Some(text[at..].split('&').next()?.to_owned())
    };
    header.or_else(query).unwrap_or_else(|| {
        let line = text.lines().next().unwrap_or_default();
        line.split(['?', ' ']).take(2).collect::<Vec<_>>().join(" ")
    })
}

/// The emulator's side: requests passed on and not yet answered, since when at least one has
/// been, and the time with at least one at the emulator so far (its busy time).
#[derive(Default)]
struct Upstream {
    outstanding: u64,
    since: Option<std::time::Instant>,
    busy: std::time::Duration,
}

impl Upstream {
    fn passed_on(&mut self) {
        if self.outstanding == 0 {
            self.since = Some(std::time::Instant::now());
        }
        self.outstanding += 1;
    }

    fn answered(&mut self) {
        self.outstanding = self.outstanding.saturating_sub(1);
        if self.outstanding == 0
            && let Some(since) = self.since.take()
        {
            self.busy += since.elapsed();
        }
    }
}

impl Traffic {
    fn request(&self) {
        let started = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let in_flight = started.saturating_sub(self.answers.load(Ordering::SeqCst));
        self.most_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    }
}

/// Whether a chunk from a client starts a request (its request line).
fn starts_request(chunk: &[u8]) -> bool {
    [&b"POST "[..], b"GET ", b"PUT ", b"DELETE ", b"HEAD "]
        .iter()
        .any(|method| chunk.starts_with(method))
}

impl CountingProxy {
    /// Listens on a free local port and forwards every connection to `upstream` (host:port).
    pub fn start(upstream: &str) -> CountingProxy {
        CountingProxy::with_delay(upstream, std::time::Duration::ZERO)
    }

    /// The same, holding every request for `delay` before passing it on.
    pub fn with_delay(upstream: &str, delay: std::time::Duration) -> CountingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new(AtomicU64::new(0));
        let traffic = Arc::new(Traffic::default());
        let (sent_log, received_count, counts) = (sent.clone(), received.clone(), traffic.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (client_read, server_write) = (client.try_clone(), server.try_clone());
                let (Ok(mut client_read), Ok(mut server_write)) = (client_read, server_write)
                else {
                    continue;
                };
                let log = sent_log.clone();
                let requests = counts.clone();
                // The request this connection passed on and awaits the answer of (HTTP/1.1:
                // one at a time), and when.
                let pending = Arc::new(Mutex::new(None::<(String, std::time::Instant)>));
                let awaited = pending.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer) {
                        if n > 0 && starts_request(&buffer[..n]) {
                            requests.request();
                            if !delay.is_zero() {
                                std::thread::sleep(delay);
                            }
                            requests.upstream.lock().unwrap().passed_on();
                            *pending.lock().unwrap() =
                                Some((action(&buffer[..n]), std::time::Instant::now()));
                        }
                        if n == 0 || server_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                    let _ = server_write.shutdown(Shutdown::Write);
                });
                let count = received_count.clone();
                let answers = counts.clone();
                let (mut server_read, mut client_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = server_read.read(&mut buffer) {
                        if n > 0 && buffer[..n].starts_with(b"HTTP/") {
                            answers.answers.fetch_add(1, Ordering::SeqCst);
                            answers.upstream.lock().unwrap().answered();
                            if let Some((action, since)) = awaited.lock().unwrap().take() {
                                let mut by_action = answers.by_action.lock().unwrap();
                                let entry = by_action.entry(action).or_default();
                                entry.0 += 1;
                                entry.1 += since.elapsed();
                            }
                        }
                        if n == 0 || client_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                        count.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = client_write.shutdown(Shutdown::Write);
                });
            }
        });
        CountingProxy {
            endpoint,
            sent,
            received,
            traffic,
        }
    }

    /// Requests that passed so far (by their request lines), and the most in flight at once.
    pub fn traffic(&self) -> (u64, u64) {
        (
            self.traffic.requests.load(Ordering::SeqCst)
                - self.traffic.counted_from.load(Ordering::SeqCst),
            self.traffic.most_in_flight.load(Ordering::SeqCst),
        )
    }

    /// How long the emulator had at least one request of this proxy's in hand so far (from
    /// passing a request on, after any delay, to the first bytes of its answer).
    pub fn emulator_busy(&self) -> std::time::Duration {
        self.traffic.upstream.lock().unwrap().busy
    }

    /// Requests answered so far by action, each with the emulator's total time on them (from
    /// passing it on to the first bytes of its answer; a long poll counts its wait).
    pub fn by_action(&self) -> Vec<(String, u64, std::time::Duration)> {
        let by_action = self.traffic.by_action.lock().unwrap();
        by_action
            .iter()
            .map(|(action, (count, time))| (action.clone(), *count, *time))
            .collect()
    }

    /// How many requests so far carried `Action=<action>` (Query protocol: CloudWatch, SNS…).
    pub fn requests(&self, action: &str) -> usize {
        let needle = format!("Action={action}&");
        let sent = self.sent.lock().unwrap();
        sent.windows(needle.len())
            .filter(|w| *w == needle.as_bytes())
            .count()
    }

    /// Bytes sent to the emulator and received from it so far, headers included.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.sent.lock().unwrap().len() as u64,
            self.received.load(Ordering::Relaxed),
        )
    }

    /// Forgets what passed so far.
    pub fn reset(&self) {
        self.sent.lock().unwrap().clear();
        self.received.store(0, Ordering::Relaxed);
        // Counted from here; in flight still by every request against every answer.
        let requests = self.traffic.requests.load(Ordering::SeqCst);
        self.traffic.counted_from.store(requests, Ordering::SeqCst);
        self.traffic.most_in_flight.store(0, Ordering::SeqCst);
        self.traffic.upstream.lock().unwrap().busy = std::time::Duration::ZERO;
        self.traffic.by_action.lock().unwrap().clear();
    }
}
