//! A throwaway PostgreSQL cluster of the test's own (initdb on a free port), so a test can
//! stop, freeze and restart the server without touching anyone else's databases.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// The newest installed PostgreSQL's binaries (Debian layout), or `PG_BIN_DIR`.
fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (or set PG_BIN_DIR)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let newest = versions.last().expect("a PostgreSQL version directory");
    PathBuf::from(format!("/usr/lib/postgresql/{newest}/bin"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .unwrap()
        .port()
}

impl PrivatePostgres {
    /// initdb + start; as root the server runs as the `postgres` user (it refuses root).
    pub fn start() -> Self {
        let as_postgres = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self").expect("/proc/self"),
        ) == 0;
        let dir =
            std::env::temp_dir().join(format!("flightdeck-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let pg = Self {
            dir,
            bin: bin_dir(),
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            pg.run(
                "chown",
                &["-R", "postgres:postgres", pg.dir.to_str().unwrap()],
                false,
            );
        }
        let data = pg.data();
        pg.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_server();
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> std::process::Output {
        let mut command = if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn pg(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let program = self.bin.join(tool);
        self.run(program.to_str().unwrap(), args, self.as_postgres)
    }

    /// fsync is off (an OS crash is not simulated), but commits stay synchronous: a server
    /// crash must not lose a commit the worker was told about.
    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// The connection string of database `postgres` on this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast mode: connections are closed, nothing is lost).
    pub fn stop(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    pub fn restart(&self) {
        self.start_server();
    }

    /// Crash-like restart: `pg_ctl restart -m immediate` (recovery replays the WAL).
    pub fn restart_immediate(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        self.start_server();
    }

    fn server_pids(&self) -> Vec<i32> {
        let pid_file = Path::new(&self.data()).join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).expect("postmaster.pid");
        let postmaster: i32 = text.lines().next().unwrap().trim().parse().unwrap();
        let children = Command::new("pgrep")
            .args(["-P", &postmaster.to_string()])
            .output()
            .expect("pgrep");
        std::iter::once(postmaster)
            .chain(
                String::from_utf8_lossy(&children.stdout)
                    .lines()
                    .filter_map(|l| l.trim().parse().ok()),
            )
            .collect()
    }

    fn signal_all(&self, signal: nix::sys::signal::Signal) {
        for pid in self.server_pids() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
        }
    }

    /// Freezes the server and every backend (SIGSTOP): connections hang instead of failing.
    pub fn freeze(&self) {
        self.signal_all(nix::sys::signal::Signal::SIGSTOP);
    }

    pub fn thaw(&self) {
        self.signal_all(nix::sys::signal::Signal::SIGCONT);
    }

    /// Rows in `flight_events`, on a fresh connection.
    pub async fn count_events(&self) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("connect to the private cluster");
        tokio::spawn(connection);
        client
            .query_one("SELECT count(*) FROM flight_events", &[])
            .await
            .expect("count")
            .get(0)
    }

    /// Events among `ids` that are stored.
    pub async fn count_of(&self, ids: &[uuid::Uuid]) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("connect to the private cluster");
        tokio::spawn(connection);
        client
            .query_one(
                "SELECT count(*) FROM flight_events WHERE event_id = ANY($1)",
                &[&ids],
            )
            .await
            .expect("count")
            .get(0)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.thaw();
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program.to_str().unwrap()]);
            c
        } else {
            Command::new(&program)
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
        std::thread::sleep(Duration::from_millis(100));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
