//! A real Prometheus server (Debian's `prometheus`, installed by `tests/run.sh`) on 127.0.0.1,
//! scraping the given targets as job `skserve` (every 500 ms unless told) and evaluating the
//! given rules every second. Its configuration and data live in a temporary directory removed
//! with it; it runs under `timeout`, so that it cannot outlive a test run that dies, and is
//! stopped by PID (killed if dropped).
//!
//! Prometheus 2.42 scrapes a target first 5 to 10 s after it starts: its discovery and scrape
//! managers hand targets on at 5-s ticks, and each target is scraped at an offset of its own
//! within the interval.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest a test's Prometheus may run.
const LIFETIME: Duration = Duration::from_secs(900);

pub struct Prometheus {
    child: tokio::process::Child,
    pub port: u16,
    dir: PathBuf,
    client: reqwest::Client,
}

/// A port free now, for a server that binds it itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Prometheus {
    /// Starts Prometheus on `port` and waits until it scrapes every target.
    pub async fn start(port: u16, targets: &[SocketAddr], rules: &str) -> Self {
        let prometheus = Self::launch(port, targets, rules, Duration::from_millis(500));
        let expected = targets.len() as f64;
        prometheus
            .wait_for("every target scraped", |p| async move {
                p.value("sum(up{job=\"skserve\"})").await == Some(expected)
            })
            .await;
        prometheus
    }

    /// Starts Prometheus on `port`, scraping every `scrape_interval`, without waiting for it.
    pub fn launch(
        port: u16,
        targets: &[SocketAddr],
        rules: &str,
        scrape_interval: Duration,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("skserve-prometheus-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rules.yaml"), rules).unwrap();
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: {}ms\n  evaluation_interval: 1s\nrule_files:\n  - rules.yaml\n\
             scrape_configs:\n  - job_name: skserve\n    static_configs:\n      - targets: [{}]\n",
            scrape_interval.as_millis(),
            targets.join(", ")
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let child = tokio::process::Command::new("timeout")
            .arg(LIFETIME.as_secs().to_string())
            .arg("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus runs (Debian package `prometheus`, installed by tests/run.sh)");
        Self {
            child,
            port,
            dir,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An instant query's vector: labels and value of each element (empty while unreachable).
    pub async fn query(&self, promql: &str) -> Vec<(Value, f64)> {
        self.query_with(&[("query", promql)]).await
    }

    /// The value of a query that yields one element, evaluated at `time` (Unix seconds).
    pub async fn value_at(&self, promql: &str, time: f64) -> Option<f64> {
        let time = format!("{time:.3}");
        match self
            .query_with(&[("query", promql), ("time", &time)])
            .await
            .as_slice()
        {
            [(_, value)] => Some(*value),
            _ => None,
        }
    }

    async fn query_with(&self, form: &[(&str, &str)]) -> Vec<(Value, f64)> {
        let answer = self
            .client
            .post(format!("{}/api/v1/query", self.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await;
        let Ok(answer) = answer else {
            return Vec::new();
        };
        let body: Value = answer.json().await.unwrap_or_default();
        body["data"]["result"]
            .as_array()
            .map(|result| {
                result
                    .iter()
                    .map(|e| {
                        let value = e["value"][1].as_str().unwrap().parse().unwrap();
                        (e["metric"].clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of a query that yields one element, if it does.
    pub async fn value(&self, promql: &str) -> Option<f64> {
        match self.query(promql).await.as_slice() {
            [(_, value)] => Some(*value),
            _ => None,
        }
    }

    /// Polls `check` every 200 ms, failing after a minute with Prometheus' log.
    pub async fn wait_for<'a, F: Future<Output = bool>>(
        &'a self,
        what: &str,
        check: impl Fn(&'a Self) -> F,
    ) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !check(self).await {
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default();
                panic!("timed out waiting for {what}; Prometheus' log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM by PID, then waits for it to exit.
    pub async fn stop(mut self) {
        let pid = self.child.id().expect("prometheus is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid}");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("prometheus stops on SIGTERM")
            .unwrap();
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
