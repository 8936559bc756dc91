//! A TCP proxy in front of the emulator that records what passes through it, so a test can count
//! the requests mgrid really sent (by their `Action=` in the Query-protocol body) and the bytes
//! each way, without trusting mgrid's own counters.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct CountingProxy {
    pub endpoint: String,
    sent: Arc<Mutex<Vec<u8>>>,
    received: Arc<AtomicU64>,
}

impl CountingProxy {
    /// Listens on a free local port and forwards every connection to `upstream` (host:port).
    pub fn start(upstream: &str) -> CountingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new(AtomicU64::new(0));
        let (sent_log, received_count) = (sent.clone(), received.clone());
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
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer) {
                        if n == 0 || server_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                    let _ = server_write.shutdown(Shutdown::Write);
                });
                let count = received_count.clone();
                let (mut server_read, mut client_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = server_read.read(&mut buffer) {
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
        }
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
    }
}
