//! After the ledger: the two legs a payment still travels (its webhook archived, its vendor
//! notified) and the receipt each leaves on the ledger item, so that a command can say per
//! payment which legs are done, and redo the others from the item.
//!
//! The processor writes every new item with [`UNSETTLED`], the key of a sparse index
//! ([`UNSETTLED_INDEX`]): only items that carry the attribute are in it. Each leg, once its work
//! is done, writes its receipt on the item; the leg that finds both receipts there removes the
//! attribute, and the item leaves the index. So "what is unsettled" is a query of the index,
//! costing in proportion to what is unsettled, never a scan of the ledger. A leg that fails
//! notes why on the item, for the report that lists it.
//!
//! The index's partition key is the hour the webhook was received in, in [`UNSETTLED_SHARDS`]
//! shards by transaction id: a window is read hour by hour, and an hour's writes spread over
//! partitions (at 10,000 webhooks a minute an hour's index writes would reach a third of one
//! partition's 1,000 writes a second unsharded; four shards keep a Black Friday spike at four
//! times the design load inside the limit).

use sha2::{Digest, Sha256};

use crate::EpochMillis;
use crate::archive::ArchiveHour;
use crate::clock::UtcDateTime;
use crate::ledger::{Attribute, Item};

/// The ledger attribute of an item whose legs are not all done: its index bucket.
pub const UNSETTLED: &str = "unsettled";

/// When the processor wrote the item (epoch ms): the moment its legs could start, later than its
/// receipt by however long the webhook waited in the queue.
pub const RECORDED_AT: &str = "recordedAt";

/// The sparse index of unsettled items (partition key [`UNSETTLED`], sort key the transaction id).
pub const UNSETTLED_INDEX: &str = "Unsettled";

/// How many partitions an hour of unsettled items spreads over.
pub const UNSETTLED_SHARDS: u32 = 4;

/// The item attributes the index projects besides its keys: enough to report an unsettled
/// payment (who, how much, which legs are done and why not) without reading the item.
pub const INDEX_PROJECTION: [&str; 13] = [
    "provider",
    "eventId",
    "eventType",
    "vendorId",
    "amount",
    "currency",
    "receivedAt",
    "recordedAt",
    "archivedAt",
    "notifiedAt",
    "archiveFailure",
    "notifyFailure",
    "status",
];

/// Who wrote a receipt when it was the deployed leg.
pub const BY_PIPELINE: &str = "pipeline";

/// Who wrote a receipt when an operator's heal redid the leg.
pub const BY_HEAL: &str = "mgrid reconcile --heal";

/// The message attribute (SNS) or header (a local notify URL) that marks a notification sent
/// again by a heal, so that a vendor can tell it from the first delivery.
pub const REDELIVERY_ATTRIBUTE: &str = "mgrid-redelivery";

/// A leg of the journey after the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leg {
    /// The raw webhook written to the archive (what replay restores from).
    Archive,
    /// The vendor told (what ships the order).
    Notify,
}

impl Leg {
    pub const ALL: [Leg; 2] = [Leg::Archive, Leg::Notify];

    pub fn as_str(self) -> &'static str {
        match self {
            Leg::Archive => "archive",
            Leg::Notify => "notify",
        }
    }

    /// The receipt's time attribute: present once the leg is done.
    pub fn done_attribute(self) -> &'static str {
        match self {
            Leg::Archive => "archivedAt",
            Leg::Notify => "notifiedAt",
        }
    }

    /// The attribute that holds why the leg last failed.
    pub fn failure_attribute(self) -> &'static str {
        match self {
            Leg::Archive => "archiveFailure",
            Leg::Notify => "notifyFailure",
        }
    }

    /// The other leg.
    pub fn other(self) -> Leg {
        match self {
            Leg::Archive => Leg::Notify,
            Leg::Notify => Leg::Archive,
        }
    }
}

impl std::fmt::Display for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a leg writes on the ledger item when its work is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Archived at `key`; `sha256` is the hex digest of the object's bytes.
    Archived {
        key: String,
        sha256: String,
        at: EpochMillis,
        by: String,
    },
    /// Published to the vendor topic (or POSTed to the local notify URL) as `message_id`.
    Notified {
        message_id: String,
        at: EpochMillis,
        by: String,
    },
}

impl Receipt {
    pub fn leg(&self) -> Leg {
        match self {
            Receipt::Archived { .. } => Leg::Archive,
            Receipt::Notified { .. } => Leg::Notify,
        }
    }

    /// The attributes the receipt sets on the item (and the failure it clears).
    pub fn attributes(&self) -> Item {
        let mut item = Item::new();
        let mut s = |name: &str, value: &str| {
            item.insert(name.to_owned(), Attribute::S(value.to_owned()));
        };
        match self {
            Receipt::Archived {
                key,
                sha256,
                at: _,
                by,
            } => {
                s("archiveKey", key);
                s("archiveSha256", sha256);
                s("archivedBy", by);
            }
            Receipt::Notified { message_id, by, .. } => {
                s("notifyMessageId", message_id);
                s("notifiedBy", by);
            }
        }
        let at = match self {
            Receipt::Archived { at, .. } | Receipt::Notified { at, .. } => *at,
        };
        item.insert(
            self.leg().done_attribute().to_owned(),
            Attribute::N(at.to_string()),
        );
        item
    }
}

/// The index bucket of an item received at `received_at`: `2026-12-07T11#2`.
pub fn unsettled_bucket(transaction_id: &str, received_at: EpochMillis) -> String {
    let shard = shard_of(transaction_id);
    bucket(ArchiveHour::containing(received_at), shard)
}

fn bucket(hour: ArchiveHour, shard: u32) -> String {
    let t = UtcDateTime::from_epoch_millis(hour.start);
    format!(
        "{:04}-{:02}-{:02}T{:02}#{shard}",
        t.year, t.month, t.day, t.hour
    )
}

/// A stable shard: FNV-1a of the transaction id.
fn shard_of(transaction_id: &str) -> u32 {
    let hash = transaction_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % u64::from(UNSETTLED_SHARDS)) as u32
}

/// Every index bucket of a window, oldest hour first.
pub fn buckets_between(from: EpochMillis, to: EpochMillis) -> Vec<String> {
    crate::archive::hours_between(from, to)
        .into_iter()
        .flat_map(|hour| (0..UNSETTLED_SHARDS).map(move |shard| bucket(hour, shard)))
        .collect()
}

/// The hex SHA-256 of an archived object, as its receipt records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Where an item stands after the ledger, read from its receipts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Legs {
    /// The item was written with receipts in mind (in the index, or with a receipt). Items an
    /// older processor wrote carry neither, and nothing is known of their legs.
    pub tracked: bool,
    pub archived_at: Option<EpochMillis>,
    pub archive_key: Option<String>,
    pub archive_sha256: Option<String>,
    pub archived_by: Option<String>,
    pub notified_at: Option<EpochMillis>,
    pub notify_message_id: Option<String>,
    pub notified_by: Option<String>,
    pub archive_failure: Option<String>,
    pub notify_failure: Option<String>,
}

impl Legs {
    pub fn of(item: &Item) -> Legs {
        let text = |name: &str| match item.get(name) {
            Some(Attribute::S(value)) => Some(value.clone()),
            _ => None,
        };
        let number = |name: &str| match item.get(name) {
            Some(Attribute::N(value)) => value.parse().ok(),
            _ => None,
        };
        let archived_at = number("archivedAt");
        let notified_at = number("notifiedAt");
        Legs {
            tracked: item.contains_key(UNSETTLED) || archived_at.is_some() || notified_at.is_some(),
            archived_at,
            archive_key: text("archiveKey"),
            archive_sha256: text("archiveSha256"),
            archived_by: text("archivedBy"),
            notified_at,
            notify_message_id: text("notifyMessageId"),
            notified_by: text("notifiedBy"),
            archive_failure: text("archiveFailure"),
            notify_failure: text("notifyFailure"),
        }
    }

    pub fn done(&self, leg: Leg) -> bool {
        match leg {
            Leg::Archive => self.archived_at.is_some(),
            Leg::Notify => self.notified_at.is_some(),
        }
    }

    /// Why the leg last failed, where its worker said.
    pub fn failure(&self, leg: Leg) -> Option<&str> {
        match leg {
            Leg::Archive => self.archive_failure.as_deref(),
            Leg::Notify => self.notify_failure.as_deref(),
        }
    }

    /// The legs not done, for a tracked item.
    pub fn pending(&self) -> Vec<Leg> {
        if !self.tracked {
            return Vec::new();
        }
        Leg::ALL
            .into_iter()
            .filter(|leg| !self.done(*leg))
            .collect()
    }

    pub fn settled(&self) -> bool {
        self.tracked && self.pending().is_empty()
    }
}

/// Applies a receipt to an item the way the store does: the receipt's attributes set, the leg's
/// failure cleared, and the item out of the index once both legs are done. Returns whether it
/// left the index. (The local stage applies it in one transaction; DynamoDB in one update plus,
/// for the leg that finishes last, a conditional removal.)
pub fn apply_receipt(item: &mut Item, receipt: &Receipt) -> bool {
    item.extend(receipt.attributes());
    item.remove(receipt.leg().failure_attribute());
    let other_done = item.contains_key(receipt.leg().other().done_attribute());
    other_done && item.remove(UNSETTLED).is_some()
}

/// Notes on the item why a leg failed (kept until the leg is done).
pub fn apply_failure(item: &mut Item, leg: Leg, why: &str) {
    item.insert(
        leg.failure_attribute().to_owned(),
        Attribute::S(why.to_owned()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_the_hour_and_a_stable_shard() {
        let at = 1_796_000_000_000; // 2026-11-30T…
        let bucket = unsettled_bucket("stripe:evt_1", at);
        assert_eq!(bucket, unsettled_bucket("stripe:evt_1", at + 1));
        assert!(bucket.starts_with("2026-"), "{bucket}");
        let (_, shard) = bucket.split_once('#').unwrap();
        assert!(shard.parse::<u32>().unwrap() < UNSETTLED_SHARDS);
        let window = buckets_between(at - 3_600_000, at);
        assert_eq!(window.len(), 2 * UNSETTLED_SHARDS as usize);
        assert!(window.contains(&bucket));
        // Ids spread over every shard.
        let shards: std::collections::BTreeSet<u32> = (0..100)
            .map(|n| shard_of(&format!("stripe:evt_{n}")))
            .collect();
        assert_eq!(shards.len(), UNSETTLED_SHARDS as usize);
    }

    #[test]
    fn an_item_leaves_the_index_with_its_second_receipt_whichever_comes_first() {
        for first in Leg::ALL {
            let mut item = Item::new();
            item.insert(UNSETTLED.into(), Attribute::S("2026-12-07T11#0".into()));
            apply_failure(&mut item, first, "S3 said no");
            assert_eq!(Legs::of(&item).pending(), Leg::ALL.to_vec());
            assert_eq!(Legs::of(&item).failure(first), Some("S3 said no"));
            let receipt = |leg: Leg| match leg {
                Leg::Archive => Receipt::Archived {
                    key: "webhooks/k".into(),
                    sha256: sha256_hex(b"x"),
                    at: 5,
                    by: BY_PIPELINE.into(),
                },
                Leg::Notify => Receipt::Notified {
                    message_id: "m-1".into(),
                    at: 6,
                    by: BY_HEAL.into(),
                },
            };
            assert!(!apply_receipt(&mut item, &receipt(first)));
            let legs = Legs::of(&item);
            assert_eq!(legs.pending(), vec![first.other()]);
            assert_eq!(legs.failure(first), None, "a receipt clears the failure");
            assert!(apply_receipt(&mut item, &receipt(first.other())));
            let legs = Legs::of(&item);
            assert!(legs.settled());
            assert_eq!(legs.archive_key.as_deref(), Some("webhooks/k"));
            assert_eq!(legs.notified_by.as_deref(), Some(BY_HEAL));
        }
    }

    #[test]
    fn an_item_without_receipts_or_bucket_is_untracked() {
        let legs = Legs::of(&Item::new());
        assert!(!legs.tracked);
        assert!(legs.pending().is_empty());
        assert!(!legs.settled());
    }

    #[test]
    fn the_digest_is_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
