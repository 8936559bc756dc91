//! Small time-bounded caches: key rings for at most 60 s (a rotation or revocation takes
//! effect within a minute), PayPal certificates for an hour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mgrid_contract::{EpochMillis, KeyRing};

use crate::ports::{Certificates, Clock, KeyStore, PortError};

pub const KEY_RING_TTL_MS: EpochMillis = 60_000;
pub const CERTIFICATE_TTL_MS: EpochMillis = 3_600_000;

struct Entry<T> {
    fetched_at: EpochMillis,
    value: T,
}

/// A map of values fetched at most once per TTL. Errors are never cached.
struct TtlMap<T> {
    ttl: EpochMillis,
    entries: Mutex<HashMap<String, Entry<T>>>,
}

impl<T: Clone> TtlMap<T> {
    fn new(ttl: EpochMillis) -> Self {
        TtlMap {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, key: &str, now: EpochMillis) -> Option<T> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(key)
            .filter(|entry| {
                now.saturating_sub(entry.fetched_at) < self.ttl && entry.fetched_at <= now
            })
            .map(|entry| entry.value.clone())
    }

    fn store(&self, key: &str, value: T, now: EpochMillis) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(
            key.to_owned(),
            Entry {
                fetched_at: now,
                value,
            },
        );
    }
}

/// Key rings by SSM name, fetched at most once a minute each.
pub struct RingCache<K> {
    store: K,
    rings: TtlMap<Option<Arc<KeyRing>>>,
}

impl<K: KeyStore> RingCache<K> {
    pub fn new(store: K) -> Self {
        RingCache {
            store,
            rings: TtlMap::new(KEY_RING_TTL_MS),
        }
    }

    pub async fn ring(
        &self,
        name: &str,
        clock: &dyn Clock,
    ) -> Result<Option<Arc<KeyRing>>, PortError> {
        let now = clock.now();
        if let Some(ring) = self.rings.fresh(name, now) {
            return Ok(ring);
        }
        let ring = self.store.ring(name).await?.map(Arc::new);
        self.rings.store(name, ring.clone(), now);
        Ok(ring)
    }
}

/// PayPal certificates by URL, fetched at most once an hour each.
pub struct CertificateCache<C> {
    source: C,
    certificates: TtlMap<Arc<String>>,
}

impl<C: Certificates> CertificateCache<C> {
    pub fn new(source: C) -> Self {
        CertificateCache {
            source,
            certificates: TtlMap::new(CERTIFICATE_TTL_MS),
        }
    }

    pub async fn certificate(
        &self,
        url: &str,
        clock: &dyn Clock,
    ) -> Result<Arc<String>, PortError> {
        let now = clock.now();
        if let Some(pem) = self.certificates.fresh(url, now) {
            return Ok(pem);
        }
        let pem = Arc::new(self.source.fetch(url).await?);
        self.certificates.store(url, pem.clone(), now);
        Ok(pem)
    }
}
