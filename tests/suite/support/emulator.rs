//! The pinned external tools (.ci/setup installs them) and an AWS emulator (moto server) started
//! on 127.0.0.1 for the duration of one test. Included by the tests of several crates.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root: the nearest directory above this crate holding `.ci/setup`.
pub fn repo_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join(".ci/setup").is_file() {
        assert!(
            dir.pop(),
            "no .ci/setup above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

/// A pinned tool from the virtualenvs `.ci/setup` creates (or from MGRID_TOOLS_PATH, a
/// colon-separated list of directories, for machines that install them elsewhere).
pub fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var("MGRID_TOOLS_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(repo_root().join(".ci/.venv/bin"));
    dirs.push(repo_root().join(".ci/.venv-checkov/bin"));
    dirs.iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: run `.ci/setup` once (it installs the pinned linters and \
                 the AWS emulator into .ci/), or point MGRID_TOOLS_PATH at a directory holding {name}"
            )
        })
}

/// A moto server of our own, on a free port, killed when the test ends.
pub struct Emulator {
    /// None for a view of another emulator (through a proxy): it owns nothing.
    child: Option<Child>,
    pub endpoint: String,
    log: PathBuf,
}

/// The account-wide API Gateway CloudWatch role an operator sets once per account and region
/// (README, "Before the first deploy in an account").
pub const API_GATEWAY_LOGGING_ROLE: &str =
    "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs";

impl Emulator {
    /// An emulator whose account is ready for a stage, as README's one-time steps leave an
    /// account: API Gateway has its CloudWatch role.
    pub fn start() -> Emulator {
        let emulator = Emulator::start_unprepared();
        emulator.set_api_gateway_logging_role();
        emulator
    }

    /// An emulator whose account is as AWS creates one: no API Gateway CloudWatch role.
    pub fn start_unprepared() -> Emulator {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("mgrid-moto-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create the emulator log");
        // moto_server, with the Lambda alias and version resources moto's CloudFormation skips
        // (tests/engines/moto_server.py says what it adds, and why).
        let child = Command::new(tool("python"))
            .arg(repo_root().join("tests/engines/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start moto_server");
        let emulator = Emulator {
            child: Some(child),
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        emulator.wait_until_ready(port);
        emulator
    }

    /// API Gateway's UpdateAccount, as `aws apigateway update-account` sends it.
    fn set_api_gateway_logging_role(&self) {
        let body = format!(
            r#"{{"patchOperations":[{{"op":"replace","path":"/cloudwatchRoleArn","value":"{API_GATEWAY_LOGGING_ROLE}"}}]}}"#
        );
        let port = self
            .endpoint
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the emulator");
        write!(
            stream,
            "PATCH /account HTTP/1.1\r\nHost: apigateway.us-east-1.amazonaws.com\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send UpdateAccount");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read UpdateAccount's answer");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "the emulator refused UpdateAccount: {response}"
        );
    }

    fn wait_until_ready(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http_get(port, "/moto-api/").is_some_and(|status| status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "moto_server did not answer on port {port} within 30 s; its log: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SDK configuration for the emulator: fixed test credentials, us-east-1; an attempt the
    /// emulator never answers fails within a minute (and the test with it) instead of hanging.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(mgrid_pipeline::aws::https_client())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "emulator",
            ))
            .load()
            .await
    }
}

impl Emulator {
    /// The same emulator, reached at `endpoint` (a proxy in front of it).
    pub fn viewed_at(&self, endpoint: &str) -> Emulator {
        Emulator {
            child: None,
            endpoint: endpoint.to_owned(),
            log: self.log.clone(),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

/// The status code of a GET on 127.0.0.1, or None when nothing answers.
fn http_get(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}
