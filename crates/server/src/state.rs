//! What every request shares: the store, the root key, the registry, caches, settings.

use std::sync::Arc;
use std::time::Instant;

use rampart_crypto::RootKey;
use rampart_service::{Entropy, OsEntropy};
use rampart_sigv4::SigningKeyCache;
use rampart_store::Store;

use crate::Registry;
use crate::authz::Authorizer;
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

/// Shared by every request.
pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root_key: Arc<RootKey>,
    pub(crate) registry: Registry,
    pub(crate) signing_keys: SigningKeyCache,
    pub(crate) authorizer: Authorizer,
    pub(crate) usage: UsageThrottle,
    pub(crate) entropy: Arc<dyn Entropy>,
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
        Self {
            store,
            root_key,
            registry,
            signing_keys: SigningKeyCache::new(SIGNING_KEY_CACHE_SIZE),
            authorizer: Authorizer::default(),
            usage: UsageThrottle::default(),
            entropy: Arc::new(OsEntropy),
            config,
            started: Instant::now(),
        }
    }
}
