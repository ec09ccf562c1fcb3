//! What every request shares: the store, the root key, the registry, caches, settings.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rampart_crypto::RootKey;
use rampart_service::{Entropy, OsEntropy, RateLimits};
use rampart_sigv4::SigningKeyCache;
use rampart_store::Store;

use crate::Registry;
use crate::authn::CredentialCache;
use crate::authz::Authorizer;
use crate::failure_throttle::FailureThrottle;
use crate::usage::UsageThrottle;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The region Rampart serves (requests may sign for any region; this one is the default
    /// for events that have none).
    pub region: String,
    /// Whether `POST /_rampart/reset` is served (loopback callers only).
    pub enable_reset: bool,
}

/// The store's write generation: bumped after every committed write, read by every cache
/// derived from stored state (credentials, compiled policies). An entry tagged with an older
/// generation is stale and re-read, so a change is seen by the very next request.
#[derive(Default)]
pub(crate) struct Generation(AtomicU64);

impl Generation {
    /// The generation now. A cache reads it *before* reading the store: a write landing in
    /// between leaves the new entry marked stale rather than a stale entry marked fresh.
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Marks every cached entry stale.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Shared by every request.
pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root_key: Arc<RootKey>,
    pub(crate) registry: Registry,
    pub(crate) signing_keys: SigningKeyCache,
    pub(crate) generation: Arc<Generation>,
    /// Bumped only by writes that change organization guardrails (see
    /// [`rampart_service::Service::changes_guardrails`]), so the guardrails cached per account
    /// survive the writes of every other service.
    pub(crate) guardrail_generation: Arc<Generation>,
    /// The shared store's [`Store::state_version`] when this node last looked.
    seen_store_version: AtomicU64,
    pub(crate) credentials: CredentialCache,
    pub(crate) authorizer: Authorizer,
    pub(crate) usage: UsageThrottle,
    /// Which failed unauthenticated calls get an event (the rest are counted).
    pub(crate) unauthenticated_failures: FailureThrottle,
    pub(crate) entropy: Arc<dyn Entropy>,
    /// The services' request-rate quotas (KMS's), emptied by a reset.
    pub(crate) rate_limits: RateLimits,
    pub(crate) config: ServerConfig,
    pub(crate) started: Instant,
}

/// How many derived signing keys to keep: one per (key, day, region, service) in use.
const SIGNING_KEY_CACHE_SIZE: usize = 4096;

impl AppState {
    /// State for a server over `store`, whose secrets are sealed under `root_key`.
    pub fn new(
        store: Arc<dyn Store>,
        root_key: Arc<RootKey>,
        registry: Registry,
        config: ServerConfig,
    ) -> Self {
        let generation = Arc::new(Generation::default());
        let guardrail_generation = Arc::new(Generation::default());
        Self {
            store,
            root_key,
            registry,
            signing_keys: SigningKeyCache::new(SIGNING_KEY_CACHE_SIZE),
            credentials: CredentialCache::new(Arc::clone(&generation)),
            authorizer: Authorizer::new(Arc::clone(&generation), Arc::clone(&guardrail_generation)),
            generation,
            guardrail_generation,
            seen_store_version: AtomicU64::new(u64::MAX),
            usage: UsageThrottle::default(),
            unauthenticated_failures: FailureThrottle::default(),
            entropy: Arc::new(OsEntropy),
            rate_limits: RateLimits::new(),
            config,
            started: Instant::now(),
        }
    }

    /// Called after every committed write, before its answer leaves: every cache derived
    /// from stored state (credentials, compiled policies, guardrails) is stale from now on.
    pub(crate) fn state_changed(&self) {
        self.generation.bump();
        self.guardrail_generation.bump();
    }

    /// Drops every cache of stored state when the store says another process changed it
    /// since this node last looked ([`Store::state_version`]; a store only this process
    /// writes answers without a query and nothing happens). Called at the start of every
    /// request and scheduler round, so a change committed on any node before then is seen.
    /// When the version cannot be read the caches are dropped too: then the request reads
    /// the store itself and gets its answer, or its error.
    pub(crate) fn catch_up_with_store(&self) {
        match self.store.state_version() {
            Ok(None) => {}
            Ok(Some(version)) => {
                if version != self.seen_store_version.load(Ordering::Acquire) {
                    // Stale first, then noted as seen: a concurrent request that finds the
                    // version already noted finds the caches already stale.
                    self.state_changed();
                    self.seen_store_version.store(version, Ordering::Release);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the store's version could not be read; caches dropped");
                self.state_changed();
            }
        }
    }

    /// Called after a service's committed write, before its answer leaves: as
    /// [`Self::state_changed`], except that guardrails stay cached unless `guardrails` says
    /// the write changed them.
    pub(crate) fn service_state_changed(&self, guardrails: bool) {
        self.generation.bump();
        if guardrails {
            self.guardrail_generation.bump();
        }
    }

    /// A server on a fresh store in `dir`, with every service, in us-east-1.
    #[cfg(test)]
    #[allow(clippy::unwrap_used, reason = "tests")]
    pub(crate) fn for_tests(dir: &tempfile::TempDir) -> Arc<Self> {
        Self::for_tests_with(dir, &rampart_store::SqliteOptions::small())
    }

    /// [`for_tests`](Self::for_tests) with the store opened with `options`.
    #[cfg(test)]
    #[allow(clippy::unwrap_used, reason = "tests")]
    pub(crate) fn for_tests_with(
        dir: &tempfile::TempDir,
        options: &rampart_store::SqliteOptions,
    ) -> Arc<Self> {
        let store =
            rampart_store::SqliteStore::open_with_options(&dir.path().join("rampart.db"), options)
                .unwrap();
        Arc::new(Self::new(
            Arc::new(store),
            Arc::new(rampart_crypto::RootKey::generate()),
            crate::Registry::with_all_services(),
            ServerConfig {
                region: "us-east-1".into(),
                enable_reset: false,
            },
        ))
    }
}
