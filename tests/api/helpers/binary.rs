//! The binary harness: the built `skserve` started as a process, for what only a process shows
//! (signals, exit status, resident memory, its log).

use std::ops::Deref;

use super::TestApp;

/// The built binary running `skserve serve` on a free loopback port. Its log (stderr) is read
/// all along, so the pipe never fills, and kept for assertions; with `TEST_LOG` set it is also
/// echoed. Killed if dropped while running.
pub struct ServerProcess {
    child: tokio::process::Child,
    /// Its client; the process derefs to it (`server.port`, `server.url(…)`, `server.infer(…)`).
    app: TestApp,
    /// A client of its `--admin-listen` address, when it was given one.
    pub admin: Option<TestApp>,
    log: tokio::task::JoinHandle<Vec<String>>,
}

impl Deref for ServerProcess {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Starts `skserve serve --listen 127.0.0.1:0 --log-format json ARGS` with `env` added, and
/// waits for its "listening on" line (and, with `--admin-listen`, for the admin address's).
pub async fn spawn_binary(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
    spawn(
        tokio::process::Command::new(env!("CARGO_BIN_EXE_skserve")),
        args,
        env,
    )
    .await
}

/// [`spawn_binary`] in an address space of `bytes` (`prlimit --as`, which runs skserve as
/// the same process): an allocation without bound fails there, not on the machine.
pub async fn spawn_binary_within(bytes: u64, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
    let mut command = tokio::process::Command::new("prlimit");
    command
        .arg(format!("--as={bytes}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_skserve"));
    spawn(command, args, env).await
}

async fn spawn(
    mut command: tokio::process::Command,
    args: &[&str],
    env: &[(&str, &str)],
) -> ServerProcess {
    use tokio::io::AsyncBufReadExt;
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PORT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the skserve binary starts");
    let echo = std::env::var_os("TEST_LOG").is_some();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let wants_admin = args.contains(&"--admin-listen");
    let (mut port, mut grpc_port, mut admin) = (None, None, None);
    while port.is_none() || (wants_admin && admin.is_none()) {
        let Some(line) = lines.next_line().await.unwrap() else {
            panic!("skserve exited before listening:\n{}", seen.join("\n"));
        };
        if echo {
            eprintln!("{line}");
        }
        let port_after = |prefix: &str| {
            line.split(prefix).nth(1).map(|rest| {
                let digits = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap();
                digits.parse::<u16>().unwrap()
            })
        };
        port = port.or(port_after("listening on http://127.0.0.1:"));
        grpc_port = grpc_port.or(port_after("gRPC on 127.0.0.1:"));
        admin = admin.or(port_after("without a token on http://127.0.0.1:"));
        seen.push(line);
    }
    let log = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if echo {
                eprintln!("{line}");
            }
            seen.push(line);
        }
        seen
    });
    ServerProcess {
        child,
        app: TestApp {
            grpc_port,
            ..TestApp::at(port.unwrap())
        },
        admin: admin.map(TestApp::at),
        log,
    }
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("skserve is still running")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The peak resident memory of the process so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib * 1024
    }

    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (at most a minute) for the process to exit; returns its status and whole log.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait())
            .await
            .expect("skserve did not exit")
            .unwrap();
        (status, self.log.await.unwrap().join("\n"))
    }
}
