//! Reads that every chat answer repeats (the deadlines, the counts, the first page of
//! the inventory) kept between writes: each is tagged with the change generation it was
//! read at (see `changes`) and served only while the generation is the same. What an
//! answer computes from the time (countdowns, "passed N days ago") is computed from these
//! on each request, so a calendar day or a deadline passing needs no invalidation.

use super::changes::Changes;
use super::connections::{ConnectionPage, ConnectionQuery, Progress};
use crate::domain::Deadline;
use std::collections::HashMap;
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

/// Listing pages kept at once (filters × owners × pages people look at). A page read at
/// a newer generation drops the older ones; past this many, new pages are not kept.
const MAX_PAGES: usize = 256;

#[derive(Debug)]
pub(super) struct ReadCache {
    changes: Changes,
    deadlines: Slot<Vec<Deadline>>,
    progress: Slot<Progress>,
    pages: Mutex<HashMap<ConnectionQuery, (u64, ConnectionPage)>>,
    reads: Arc<CacheReads>,
}

#[derive(Debug)]
struct Slot<T>(Mutex<Option<(u64, T)>>);

impl<T: Clone> Slot<T> {
    fn get(&self, generation: u64) -> Option<T> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|(at, _)| *at == generation)
            .map(|(_, value)| value.clone())
    }

    /// Kept unless a newer read is already there (a slow reader must not replace it).
    fn put(&self, generation: u64, value: &T) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_none_or(|(at, _)| *at <= generation) {
            *slot = Some((generation, value.clone()));
        }
    }
}

impl ReadCache {
    pub(super) fn new(changes: Changes) -> Self {
        Self {
            changes,
            deadlines: Slot(Mutex::new(None)),
            progress: Slot(Mutex::new(None)),
            pages: Mutex::new(HashMap::new()),
            reads: Arc::default(),
        }
    }

    pub(super) fn reads(&self) -> Arc<CacheReads> {
        Arc::clone(&self.reads)
    }

    /// The generation to read at, when caching is possible.
    pub(super) fn generation(&self) -> Option<u64> {
        self.changes.generation()
    }

    /// A write of ours was committed.
    pub(super) fn changed(&self) {
        self.changes.changed();
    }

    pub(super) fn deadlines(&self, generation: u64) -> Option<Vec<Deadline>> {
        self.reads.count(self.deadlines.get(generation))
    }

    pub(super) fn keep_deadlines(&self, generation: u64, deadlines: &Vec<Deadline>) {
        self.deadlines.put(generation, deadlines);
    }

    pub(super) fn progress(&self, generation: u64) -> Option<Progress> {
        self.reads.count(self.progress.get(generation))
    }

    pub(super) fn keep_progress(&self, generation: u64, progress: &Progress) {
        self.progress.put(generation, progress);
    }

    pub(super) fn page(&self, generation: u64, query: &ConnectionQuery) -> Option<ConnectionPage> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let found = pages
            .get(query)
            .filter(|(at, _)| *at == generation)
            .map(|(_, page)| page.clone());
        self.reads.count(found)
    }

    pub(super) fn keep_page(
        &self,
        generation: u64,
        query: &ConnectionQuery,
        page: &ConnectionPage,
    ) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.values().any(|(at, _)| *at > generation) {
            return;
        }
        pages.retain(|_, (at, _)| *at == generation);
        if pages.len() < MAX_PAGES {
            pages.insert(query.clone(), (generation, page.clone()));
        }
    }
}
