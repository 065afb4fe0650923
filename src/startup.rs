//! The composition root: [`Application::build`] turns validated settings into a running
//! service. It opens each model's store and makes the first load (with its profile), builds
//! the registry, the metrics, the access checks, the SLO engine, model health and the fleet
//! view, binds the listeners (port 0 works, [`Application::port`],
//! [`Application::admin_addr`] and [`Application::grpc_addr`] tell which), and
//! [`Application::run_until`] serves REST, the admin routes with `--admin-listen` and gRPC with
//! `--grpc-listen` until a shutdown future completes, with the refresh loops, the SLO sampler,
//! model health's ticker and the first fetch of the token issuer's keys alongside, then drains
//! requests in flight on every listener for at most the grace period.
//!
//! This is the one module that knows every other; nothing imports it but the commands and the
//! tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::AccessControl;
use crate::config::ServeSettings;
use crate::grpc::GrpcService;
use crate::health::Health;
use crate::health::fleet::FleetDrift;
use crate::http::{admin_router, count_routes_from_zero, router};
use crate::inference::{Both, Observer, Unobserved};
use crate::metrics::{AUTH_FAILURE_REASONS, LATENCY_BUCKETS, Metrics};
use crate::registry::{ModelLoadError, RefreshPolicy, Refresher, Registry, load_at_start};
use crate::server::{self, ConnectionPolicy, Protocol};
use crate::service::{App, AppState, Limits};
use crate::slo::fleet::{FleetView, HttpPrometheus};
use crate::slo::{Clock, MonotonicClock, SloEngine};
use crate::store::{ProfileAt, Store};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Model(#[from] ModelLoadError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A service with its models loaded and its listener bound, ready to run.
pub struct Application {
    listener: TcpListener,
    /// `--grpc-listen`'s, when given.
    grpc_listener: Option<TcpListener>,
    /// `--admin-listen`: the operators' routes without a token.
    admin_listener: Option<TcpListener>,
    state: AppState,
    shutdown_grace: Duration,
    connections: ConnectionPolicy,
    /// The tasks keeping models current; stopped when the server stops or this is dropped.
    refreshers: AbortOnDrop,
}

impl Application {
    /// Loads every model (retrying as `--require-model-at-start` says), binds the listener
    /// (`--listen` with port 0 picks a free port) and starts a refresh task per file or object.
    pub async fn build(settings: &ServeSettings) -> Result<Self, StartError> {
        Self::build_loaded(settings, None).await
    }

    /// [`Application::build`], with `observer` seeing every prediction (besides model health,
    /// which `--health on` installs).
    pub async fn build_observed(
        settings: &ServeSettings,
        observer: Arc<dyn Observer>,
    ) -> Result<Self, StartError> {
        Self::build_loaded(settings, Some(observer)).await
    }

    async fn build_loaded(
        settings: &ServeSettings,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Self, StartError> {
        let sources = std::iter::once((settings.model_name.clone(), settings.model.clone()))
            .chain(settings.extra_models.iter().cloned());
        let mut models = Vec::new();
        let mut stores = Vec::new();
        for (name, source) in sources {
            let emulator = settings.storage_emulator_host.clone();
            let store = Store::open(&source, emulator.as_deref())
                .await
                .map_err(ModelLoadError::from)?;
            // The profile is read with the model, beside it or where --profile names it.
            let store = ProfileAt::new(store, settings.health.profile_of(&name), emulator);
            let (model, token) = load_at_start(
                &name,
                &store,
                settings.require_model_at_start,
                settings.load_limits,
            )
            .await?;
            models.push(model);
            stores.push((name, store, token));
        }
        let mut app = Self::build_with(settings, Registry::new(models), observer).await?;
        let policy = RefreshPolicy {
            interval: settings.refresh_interval,
            allow_shape_change: settings.allow_shape_change,
            limits: settings.load_limits,
        };
        for (name, store, token) in stores {
            if matches!(store.inner(), Store::Embedded) {
                continue;
            }
            let state = &app.state;
            state.metrics.start_refreshes_at_zero(&name);
            let refresher = Refresher::new(
                &name,
                store,
                token,
                state.registry.clone(),
                state.metrics.clone(),
                policy,
            );
            app.refreshers.0.push(tokio::spawn(refresher.run()));
        }
        Ok(app)
    }

    /// Builds the service for an already-loaded registry and binds its listener; model
    /// health (with `--health on`) and `observer` see every prediction.
    pub async fn build_with(
        settings: &ServeSettings,
        registry: Registry,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Self, StartError> {
        let bind = |addr| server::bind(addr).map_err(|source| StartError::Bind { addr, source });
        let listener = bind(settings.listen)?;
        let grpc_listener = settings.grpc_listen.map(bind).transpose()?;
        let admin_listener = settings.admin_listen.map(bind).transpose()?;
        let metrics = Metrics::new();
        for name in registry.names() {
            if let Some(model) = registry.get(name) {
                crate::registry::record_served(&metrics, &model.load(), None);
            }
        }
        let access = AccessControl::new(&settings.auth, metrics.auth_failures.clone());
        // The refusals the checks can make: by address with --allow-cidr, the others with tokens.
        let possible: Vec<&str> = AUTH_FAILURE_REASONS
            .into_iter()
            .filter(|&reason| match reason {
                "client_address" => !settings.auth.allow_cidr.is_empty(),
                _ => settings.auth.tokens.is_some(),
            })
            .collect();
        metrics.start_auth_failures_at_zero(&possible);
        let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
        let slo = Arc::new(SloEngine::new(
            settings.slos.clone(),
            LATENCY_BUCKETS,
            clock.clone(),
        ));
        let registry = Arc::new(registry);
        let health = settings.health.enabled.then(|| {
            let health = Health::new(
                registry.clone(),
                metrics.health.clone(),
                slo.clone(),
                clock,
                settings.health.reference_rows,
            );
            let health = match &settings.fleet {
                Some(fleet) => health.with_fleet(FleetDrift::new(
                    Arc::new(HttpPrometheus::for_url(&fleet.url, fleet.query_timeout)),
                    &settings.slos.prometheus_selector,
                    fleet.refresh_interval,
                    fleet.query_timeout,
                )),
                None => health,
            };
            Arc::new(health)
        });
        let observer: Arc<dyn Observer> = match (&health, observer) {
            (Some(health), Some(other)) => Arc::new(Both(health.clone(), other)),
            (Some(health), None) => health.clone(),
            (None, Some(other)) => other,
            (None, None) => Arc::new(Unobserved),
        };
        let limits = Limits {
            max_batch_rows: settings.max_batch_rows,
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
            max_concurrency: settings.max_concurrency,
            max_queue_wait: settings.max_queue_wait,
        };
        let mut app = App::new(
            registry,
            metrics,
            Arc::new(access),
            slo,
            limits,
            settings.gcp_project.clone(),
        )
        .with_observer(observer);
        if let Some(health) = health {
            app = app.with_health(health);
        }
        if let Some(fleet) = &settings.fleet {
            let source = HttpPrometheus::for_url(&fleet.url, fleet.query_timeout);
            let view = FleetView::new(settings.slos.clone(), Arc::new(source), fleet.clone());
            app = app.with_fleet(Arc::new(view));
        }
        if let Some(wait) = settings.first_scrape_wait {
            app = app.with_first_scrape_wait(wait);
        }
        let state = AppState(Arc::new(app));
        count_routes_from_zero(&state);
        Ok(Self {
            listener,
            grpc_listener,
            admin_listener,
            state,
            shutdown_grace: settings.shutdown_grace,
            connections: ConnectionPolicy {
                protocol: Protocol::Http1,
                max_connections: settings.max_connections,
                max_refusals: settings.max_refusals,
                header_read_timeout: settings.header_read_timeout,
            },
            refreshers: AbortOnDrop(Vec::new()),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Where gRPC is served, with `--grpc-listen`.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// Where `--admin-listen` serves, once bound.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, marks itself not ready and
    /// lets in-flight requests finish for at most the grace period.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (drain_started, drain) = tokio::sync::oneshot::channel::<()>();
        // One shutdown for every listener.
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let state = self.state.clone();
        let signal = tokio::spawn(async move {
            shutdown.await;
            state.begin_draining();
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            let _ = stop.send(true);
            let _ = drain_started.send(());
        });
        let stopped = move || {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.wait_for(|&stop| stop).await;
            }
        };
        let rest = server::serve(
            self.listener,
            router(self.state.clone()),
            self.connections,
            stopped(),
        );
        let grpc = self.grpc_listener.map(|listener| {
            let policy = ConnectionPolicy {
                protocol: Protocol::Http2,
                ..self.connections
            };
            server::serve(
                listener,
                GrpcService::new(self.state.clone()),
                policy,
                stopped(),
            )
        });
        let admin = serve_admin(
            self.admin_listener,
            self.state.clone(),
            self.connections,
            stopped(),
        );
        let served = async move {
            let grpc = async move {
                match grpc {
                    Some(grpc) => grpc.await,
                    None => Ok(()),
                }
            };
            let (rest, grpc, admin) = tokio::join!(rest, grpc, admin);
            rest.and(grpc).and(admin)
        };
        let grace = self.shutdown_grace;
        let _stop_refreshers = self.refreshers;
        let access = self.state.access.clone();
        let mut background = vec![
            signal,
            tokio::spawn(crate::slo::memory::sample_periodically(
                self.state.slo.clone(),
            )),
            tokio::spawn(async move { access.fetch_keys_at_start().await }),
        ];
        if let Some(health) = self.state.health.clone() {
            background.push(tokio::spawn(crate::health::run(health)));
        }
        let _stop_background = AbortOnDrop(background);
        let deadline = async move {
            match drain.await {
                Ok(()) => tokio::time::sleep(grace).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = served => {
                served?;
                tracing::info!("all requests finished; stopped");
                Ok(())
            }
            () = deadline => {
                tracing::warn!(
                    grace_seconds = grace.as_secs_f64(),
                    "requests still in flight after the shutdown grace period; stopping anyway"
                );
                Ok(())
            }
        }
    }
}

/// The admin listener, if any, until `stopped` turns true (or its sender is gone), then drained
/// like the serving one.
async fn serve_admin(
    listener: Option<TcpListener>,
    state: AppState,
    connections: ConnectionPolicy,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some(listener) = listener else {
        return Ok(());
    };
    tracing::info!(
        "serving /metrics, /slo, /slo.json and the probes without a token on http://{} \
         (--admin-listen)",
        listener.local_addr()?
    );
    server::serve(listener, admin_router(state), connections, stop).await
}

/// Background tasks, aborted when dropped: when the server stops, however `run_until` ends.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// A future that completes on SIGTERM (Cloud Run, Kubernetes) or Ctrl-C. The handlers are
/// installed when this is called, not when the future is first polled, so that a signal sent
/// right after the server says it is listening is not lost. Call it inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let (Ok(mut terminate), Ok(mut interrupt)) = (terminate, interrupt) else {
                tracing::warn!("cannot install signal handlers; stop the server with SIGKILL");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = terminate.recv() => tracing::info!("received SIGTERM"),
                _ = interrupt.recv() => tracing::info!("received Ctrl-C"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("received Ctrl-C");
        } else {
            std::future::pending::<()>().await;
        }
    }
}
