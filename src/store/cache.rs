//! Reads that every chat answer repeats (the deadlines, the counts, the first page of
//! the inventory) kept between writes: each is tagged with the change generation it was
//! read at (see `changes`) and served only while the generation is the same. What an
//! answer computes from the time (countdowns, "passed N days ago") is computed from these
//! on each request, so a calendar day or a deadline passing needs no invalidation.
//!
//! The generation moves with every transaction committed through `Store::commit` and
//! every write another process makes; the tables read here are only written in such
//! transactions.

use super::changes::Changes;
use super::connections::{ConnectionPage, ConnectionQuery, Progress};
use super::StoreError;
use crate::domain::Deadline;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How many cached reads were served from the cache, and how many went to the database.
#[derive(Debug, Default)]
pub struct CacheReads {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CacheReads {
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn count<T>(&self, found: Option<T>) -> Option<T> {
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }
}

/// Values of one kind kept at most this many at once (listing pages: filters × owners ×
/// pages people look at). A value read at a newer generation drops the older ones; past
/// this many, new values are not kept.
const MAX_KEPT: usize = 256;

/// Values of one kind, by key, each with the generation it was read at.
#[derive(Debug)]
pub(super) struct Kept<K, T>(Mutex<HashMap<K, (u64, T)>>);

impl<K: Hash + Eq + Clone, T: Clone> Kept<K, T> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn get(&self, generation: u64, key: &K) -> Option<T> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(key)
            .filter(|(at, _)| *at == generation)
            .map(|(_, value)| value.clone())
    }

    /// Kept unless a newer read is already there (a slow reader must not replace it).
    fn put(&self, generation: u64, key: &K, value: &T) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.values().any(|(at, _)| *at > generation) {
            return;
        }
        kept.retain(|_, (at, _)| *at == generation);
        if kept.len() < MAX_KEPT {
            kept.insert(key.clone(), (generation, value.clone()));
        }
    }
}

#[derive(Debug)]
pub(super) struct ReadCache {
    changes: Changes,
    pub(super) deadlines: Kept<(), Vec<Deadline>>,
    pub(super) progress: Kept<(), Progress>,
    pub(super) pages: Kept<ConnectionQuery, ConnectionPage>,
    reads: Arc<CacheReads>,
}

impl ReadCache {
    pub(super) fn new(changes: Changes) -> Self {
        Self {
            changes,
            deadlines: Kept::new(),
            progress: Kept::new(),
            pages: Kept::new(),
            reads: Arc::default(),
        }
    }

    pub(super) fn reads(&self) -> Arc<CacheReads> {
        Arc::clone(&self.reads)
    }

    /// A write of ours was committed.
    pub(super) fn changed(&self) {
        self.changes.changed();
    }

    /// The value kept for `key` if nothing was written since it was read; otherwise
    /// `read`'s, kept for the next time.
    pub(super) async fn through<K, T>(
        &self,
        kept: &Kept<K, T>,
        key: &K,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError>
    where
        K: Hash + Eq + Clone,
        T: Clone,
    {
        // Taken before the read: a write during it makes what it returns old at once.
        let generation = self.changes.generation();
        if let Some(generation) = generation {
            if let Some(value) = self.reads.count(kept.get(generation, key)) {
                return Ok(value);
            }
        }
        let value = read.await?;
        if let Some(generation) = generation {
            kept.put(generation, key, &value);
        }
        Ok(value)
    }
}
