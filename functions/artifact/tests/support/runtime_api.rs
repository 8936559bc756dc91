//! A stand-in for the Lambda Runtime API on 127.0.0.1: hands the bootstrap the events it is given,
//! one per `GET /runtime/invocation/next`, and reports what the bootstrap does (each poll, each
//! response or error it posts). Shared by the artifact tests and the cold-start bench.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the bootstrap did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// It asked for its next invocation (it is ready), at this instant.
    Polled(Instant),
    /// It answered invocation `request_id` with this body.
    Response { request_id: String, body: String },
    /// It reported an invocation's error, or its own initialisation error.
    Error { path: String, body: String },
}

pub struct RuntimeApi {
    pub address: SocketAddr,
    seen: Receiver<Seen>,
}

impl RuntimeApi {
    /// Serves `events` (JSON bodies) in order; once they are handed out, a poll waits forever, as
    /// the real API does when no invocation comes.
    pub fn start(events: Vec<String>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the Runtime API stand-in");
        let address = listener.local_addr().expect("its address");
        let (report, seen) = channel();
        let events = Arc::new(Mutex::new(events.into_iter().enumerate()));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (report, events) = (report.clone(), events.clone());
                std::thread::spawn(move || serve(stream, &report, &events));
            }
        });
        RuntimeApi { address, seen }
    }

    /// The next thing the bootstrap did, if it did something within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Seen> {
        self.seen.recv_timeout(timeout).ok()
    }

    /// Starts `bootstrap` (under `runner`, e.g. qemu, when given) as the function `handler`,
    /// pointed at this stand-in, with the environment Lambda gives the stage's functions.
    pub fn launch(&self, runner: &[&str], bootstrap: &Path, handler: &str) -> Child {
        let mut command = match runner.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(bootstrap);
                command
            }
            None => Command::new(bootstrap),
        };
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address.to_string())
            .env("_HANDLER", handler)
            .env(
                "AWS_LAMBDA_FUNCTION_NAME",
                format!("marketgrid-test-{handler}"),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_SESSION_TOKEN", "test")
            .env("MGRID_STAGE", "test")
            .env("MGRID_TABLE_NAME", "test-table")
            .env(
                "MGRID_DLQ_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/test-dlq.fifo",
            )
            .env("MGRID_ARCHIVE_BUCKET", "test-archive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the bootstrap")
    }
}

type Events = Mutex<std::iter::Enumerate<std::vec::IntoIter<String>>>;

fn serve(stream: TcpStream, report: &Sender<Seen>, events: &Events) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the connection"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        if path.ends_with("/runtime/invocation/next") {
            let _ = report.send(Seen::Polled(Instant::now()));
            let Some((index, event)) = events.lock().expect("events").next() else {
                std::thread::sleep(Duration::from_secs(600));
                return;
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() + 30_000);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 lambda-runtime-aws-request-id: request-{index}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:marketgrid-test\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\r\n{event}",
                event.len()
            );
            if writer.write_all(answer.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let seen = match path.strip_suffix("/response") {
            Some(rest) => Seen::Response {
                request_id: rest.rsplit('/').next().unwrap_or("").to_owned(),
                body,
            },
            None => Seen::Error { path, body },
        };
        let _ = report.send(seen);
        if writer
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}")
            .is_err()
        {
            return;
        }
    }
}
