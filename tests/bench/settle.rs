//! `cargo bench --bench settle`: what finding and healing the payments left unsettled after the
//! ledger costs as the ledger grows. The local stage's ledger is given N items
//! (MGRID_BENCH_ITEMS, default 100000), 1% of them unsettled (no archive object, no vendor told),
//! written straight into it: the pipeline is not what is measured. Then, under /usr/bin/time:
//! `mgrid reconcile --stage local --since 1d` (the lookup through the sparse unsettled index) and
//! `mgrid reconcile --stage local --since 1d --heal` (each archive object written, each
//! notification handed to the running `mgrid dev`'s notify pipe and its receipt read back).
//! Prints per N: the lookup's time and the items it read per unsettled payment (1.0: it reads
//! what is unsettled, not the ledger), the heal's rate in payments a second, and each run's peak
//! memory (max RSS).
//!
//! DynamoDB's read capacity for the same lookup is computed by its documented rule (a Query
//! consumes 0.5 RCU per 4 KB of the items it reads, eventually consistent, rounded up per
//! request; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
//! from the size of the index's projection of each unsettled item (mgrid_contract's item_size):
//! the emulator does not account capacity as DynamoDB does, so its figure is not printed.

#[path = "../suite/support/local.rs"]
mod local;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use local::{Dev, stripe_payment};
use mgrid_contract::ledger::{Attribute, item_size, ledger_item};
use mgrid_contract::settlement::{INDEX_PROJECTION, UNSETTLED, UNSETTLED_SHARDS, sha256_hex};
use mgrid_contract::{Provider, TransactionRecord, WebhookEnvelope};

fn sizes() -> Vec<usize> {
    std::env::var("MGRID_BENCH_ITEMS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// Runs mgrid under /usr/bin/time: its JSON report, seconds taken, and peak RSS in MB.
fn timed(
    binary: &PathBuf,
    data_dir: &std::path::Path,
    args: &[&str],
) -> (serde_json::Value, f64, f64) {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(binary)
        .args(args)
        .args(["--stage", "local", "--output", "json", "--data-dir"])
        .arg(data_dir)
        .env_remove("MGRID_STAGE")
        .output()
        .expect("run mgrid");
    let took = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak_kb: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("/usr/bin/time's max RSS in:\n{stderr}"));
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stderr}"));
    (report, took, peak_kb / 1024.0)
}

fn main() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_mgrid"));
    println!(
        "items     unsettled   lookup     read/unsettled   RCU (DynamoDB rule): lookup, per unsettled, a scan instead   heal          peak RSS lookup / heal"
    );
    for items in sizes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let dev = Dev::start_with(&binary, &dir.path().join("local"), None, &["--quiet"]);
        let ledger = dev.database();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64;
        let mut unsettled = 0usize;
        let mut projected_bytes = 0usize;
        let mut ledger_bytes = 0usize;
        for batch in (0..items).collect::<Vec<_>>().chunks(5000) {
            ledger.execute_batch("BEGIN").expect("begin");
            for &n in batch {
                let id = format!("s{n}");
                let (_, body, _) = stripe_payment(&id);
                let received_at = now - 3_600_000 + (n as i64 % 3_000_000);
                let envelope = WebhookEnvelope {
                    provider: Provider::Stripe,
                    event_id: format!("evt_{id}"),
                    event_type: "payment_intent.succeeded".into(),
                    received_at,
                    request_id: None,
                    signature_headers: Default::default(),
                    body,
                };
                let record = TransactionRecord::from_envelope(&envelope).expect("a payment");
                let mut item = ledger_item(&record, &envelope);
                let open = n % 100 == 0;
                ledger_bytes += item_size(&item);
                let bucket = if open {
                    unsettled += 1;
                    let projected: mgrid_contract::ledger::Item = item
                        .iter()
                        .filter(|(name, _)| {
                            INDEX_PROJECTION.contains(&name.as_str())
                                || [UNSETTLED, "transactionId"].contains(&name.as_str())
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    projected_bytes += item_size(&projected);
                    match item.get(UNSETTLED) {
                        Some(Attribute::S(bucket)) => Some(bucket.clone()),
                        _ => None,
                    }
                } else {
                    // Settled: both receipts, out of the index.
                    item.remove(UNSETTLED);
                    for (name, value) in [
                        ("archivedAt", Attribute::N(received_at.to_string())),
                        ("notifiedAt", Attribute::N(received_at.to_string())),
                        ("archiveSha256", Attribute::S(sha256_hex(id.as_bytes()))),
                    ] {
                        item.insert(name.into(), value);
                    }
                    None
                };
                ledger
                    .execute(
                        "INSERT INTO ledger (transaction_id, item, recorded_at, unsettled) VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![
                            record.transaction_id,
                            serde_json::to_string(&item).expect("JSON"),
                            received_at,
                            bucket
                        ],
                    )
                    .expect("a ledger row");
            }
            ledger.execute_batch("COMMIT").expect("commit");
        }

        let (report, lookup, lookup_mb) =
            timed(&binary, &dev.data_dir, &["reconcile", "--since", "1d"]);
        let read = report["journey"]["unsettled"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(read, unsettled, "the lookup finds every unsettled payment");
        let (healed, heal, heal_mb) = timed(
            &binary,
            &dev.data_dir,
            &["reconcile", "--since", "1d", "--heal", "--wait", "5m"],
        );
        let settled = healed["journey"]["unsettled"].as_array().map_or(0, |all| {
            all.iter()
                .filter(|p| {
                    p["healed"].as_array().is_some_and(|legs| {
                        legs.len() == 2 && legs.iter().all(|l| l["outcome"] == "settled")
                    })
                })
                .count()
        });
        assert_eq!(settled, unsettled, "the heal settles every one");
        // DynamoDB: one Query per bucket (an hour in four shards, a day of them), each at least
        // 0.5 RCU, plus 0.5 RCU per 4 KB of the unsettled items' projection.
        let buckets = 25 * UNSETTLED_SHARDS as usize;
        let rcu = buckets as f64 * 0.5 + (projected_bytes as f64 / 4096.0).ceil() * 0.5;
        let scan = (ledger_bytes as f64 / 4096.0).ceil() * 0.5;
        println!(
            "{items:>7}   {unsettled:>9}   {:>6.2} s   {:>14.1}   {:>7.1} RCU, {:.3}, {:>9.1} RCU                 {:>6.0}/s     {:.1} MB / {:.1} MB",
            lookup,
            read as f64 / unsettled.max(1) as f64,
            rcu,
            rcu / unsettled.max(1) as f64,
            scan,
            unsettled as f64 / heal,
            lookup_mb,
            heal_mb,
        );
    }
}
