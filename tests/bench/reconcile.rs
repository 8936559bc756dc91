//! `cargo bench --bench reconcile`: what `mgrid reconcile` costs as the providers' lists grow.
//! `mgrid dev` (release build) runs the provider stand-in; it is given N Stripe events
//! (MGRID_BENCH_EVENTS, default "10000,100000"), of which 1% never reached the stage and 99% are
//! in the local ledger (written straight into it: the pipeline is not what is measured). Then
//! `mgrid reconcile --provider stripe` runs under /usr/bin/time. Prints per N: events listed a
//! second, the peak memory of the reconcile process (max RSS), the missing count and money it
//! found. The stand-in (one process, serving 100-event pages from memory) is timed alone too: a
//! raw listing of every page, printed beside, since it bounds the rate.

#[path = "../suite/support/local.rs"]
mod local;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use local::{Dev, get_with_token, post_for, stripe_payment};

fn sizes() -> Vec<usize> {
    std::env::var("MGRID_BENCH_EVENTS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

fn main() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_mgrid"));
    println!("events   listed/s   peak RSS   missing   missing money   stand-in alone");
    for events in sizes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let dev = Dev::start(&binary, &dir.path().join("local"), None);
        let stand_in = std::fs::read_to_string(dev.data_dir.join("provider-api"))
            .expect("the stand-in's URL")
            .trim()
            .to_owned();
        let ledger = dev.database();
        let mut lost = 0;
        for batch in (0..events).collect::<Vec<_>>().chunks(2000) {
            let mut bodies = Vec::new();
            ledger.execute_batch("BEGIN").expect("begin");
            for &n in batch {
                let id = format!("b{n}");
                let (_, body, _) = stripe_payment(&id);
                if n % 100 == 0 {
                    lost += 1;
                } else {
                    ledger
                        .execute(
                            "INSERT INTO ledger (transaction_id, item, recorded_at) VALUES (?1, '{}', 0)",
                            [format!("stripe:evt_{id}")],
                        )
                        .expect("a ledger row");
                }
                bodies.push(serde_json::json!({"body": body, "delivered": n % 100 != 0}));
            }
            ledger.execute_batch("COMMIT").expect("commit");
            let (status, _) = post_for(
                &format!("{stand_in}/_standin/stripe/events"),
                &[dev.standin_control()],
                &serde_json::Value::Array(bodies).to_string(),
            )
            .expect("the stand-in answers");
            assert_eq!(status, 200);
        }
        let token = dev
            .secret("/marketgrid/local/provider-tokens/stripe")
            .expose()
            .to_owned();
        // The stand-in alone: every page, as the client asks for them.
        let started = Instant::now();
        let mut after: Option<String> = None;
        let mut listed = 0;
        loop {
            let mut path = "/stripe/v1/events?limit=100".to_owned();
            if let Some(id) = &after {
                path.push_str(&format!("&starting_after={id}"));
            }
            let (_, page) = get_with_token(&format!("{stand_in}{path}"), &token);
            let data = page["data"].as_array().expect("a page").clone();
            listed += data.len();
            after = data
                .last()
                .and_then(|e| e["id"].as_str())
                .map(str::to_owned);
            if page["has_more"] != true {
                break;
            }
        }
        assert_eq!(listed, events);
        let alone = listed as f64 / started.elapsed().as_secs_f64();

        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(&binary)
            .args([
                "reconcile",
                "--stage",
                "local",
                "--provider",
                "stripe",
                "--output",
                "json",
            ])
            .arg("--data-dir")
            .arg(&dev.data_dir)
            .env_remove("MGRID_STAGE")
            .output()
            .expect("run mgrid reconcile");
        let took = started.elapsed().as_secs_f64();
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("a JSON report");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let peak_kb: f64 = stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("/usr/bin/time's max RSS");
        let stripe = &report["providers"][0];
        assert_eq!(stripe["listed"], events as u64, "{stderr}");
        assert_eq!(stripe["missing"].as_array().map(Vec::len), Some(lost));
        let money = &stripe["missingAmounts"][0];
        println!(
            "{events:>6}   {:>8.0}   {:>6.1} MB   {:>7}   {:>9.2} {}   {:>8.0} events/s",
            events as f64 / took,
            peak_kb / 1024.0,
            lost,
            money["minorUnits"].as_f64().unwrap_or_default() / 100.0,
            money["currency"].as_str().unwrap_or(""),
            alone,
        );
    }
}
