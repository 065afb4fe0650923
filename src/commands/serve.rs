//! `skserve serve`: settings from the command line, logging, a multi-thread runtime with one
//! worker per CPU, then the service (`crate::startup`) until SIGTERM or Ctrl-C.

use crate::cli::ServeArgs;
use crate::config::ServeSettings;
use crate::startup::{Application, StartError, shutdown_signal};

use super::CommandError;

pub fn serve(args: ServeArgs) -> Result<(), CommandError> {
    let settings = ServeSettings::from_args(args, |name| std::env::var(name).ok())
        .map_err(|e| CommandError::Other(e.to_string()))?;
    crate::telemetry::init(settings.log_format, &settings.log_filter)
        .map_err(CommandError::Other)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.workers)
        .enable_all()
        .build()
        .map_err(|e| CommandError::Other(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let app = Application::build(&settings).await.map_err(|e| match e {
            StartError::Model(crate::registry::ModelLoadError::Model { message, .. }) => {
                CommandError::Model(message)
            }
            other => CommandError::Other(other.to_string()),
        })?;
        let shutdown = shutdown_signal();
        let state = app.state().clone();
        let model = state.registry.default_model().load();
        let grpc = app
            .grpc_addr()
            .map_or_else(String::new, |addr| format!(" and gRPC on {addr} (h2c)"));
        tracing::info!(
            model = model.name(),
            version = model.version(),
            estimator = model.model().chain(),
            n_features = model.model().n_features(),
            named_features = model.features().is_some() || model.model().input().named,
            "listening on http://{}{grpc}",
            app.local_addr()
        );
        drop(model);
        app.run_until(shutdown)
            .await
            .map_err(|e| CommandError::Other(format!("the server failed: {e}")))
    })
}
