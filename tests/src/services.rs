//! Private Postgres and Redis servers that fault tests start, stop and restart on
//! ports of their own — never the shared ones other tests use.
use std::{
    net::{TcpListener, TcpStream},
    os::unix::fs::MetadataExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, open: bool) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() != open {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "port {port} never became {}",
            if open { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Certificates the TLS tests make: a CA and a server certificate it signs for
/// `localhost` and `127.0.0.1` (so `127.0.0.2` is a wrong host name), as PEM files in
/// a folder.
pub struct TestCa {
    dir: PathBuf,
}

impl TestCa {
    /// A new CA and its server certificate.
    pub fn new() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType,
            ExtendedKeyUsagePurpose as Eku, IsCa, KeyPair, KeyUsagePurpose as Ku,
        };
        let dir =
            std::env::temp_dir().join(format!("tessera-ca-{}", tessera_core::ids::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "Tessera test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign, Ku::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut server =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        // ClientAuth too: cluster nodes present it to each other.
        server.extended_key_usages = vec![Eku::ServerAuth, Eku::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = server.signed_by(&key, &ca).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
        Self { dir }
    }

    /// The CA certificate's file.
    pub fn ca(&self) -> String {
        self.file("ca.pem")
    }

    /// A file of this folder.
    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// `redis-server` arguments serving TLS with the server certificate.
    fn redis_args(&self) -> Vec<String> {
        [
            "--tls-cert-file",
            &self.file("server.pem"),
            "--tls-key-file",
            &self.file("server.key"),
            "--tls-ca-cert-file",
            &self.ca(),
            "--tls-auth-clients",
            "no",
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `redis-server` of the test's own, keeping nothing on disk.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
    /// Its TLS arguments (it then has no plain port).
    tls: Vec<String>,
}

impl PrivateRedis {
    /// Starts one on a free port.
    pub fn start() -> Self {
        let mut r = Self {
            port: free_port(),
            child: None,
            tls: Vec::new(),
        };
        r.resume();
        r
    }

    /// Starts one that speaks TLS only, with `ca`'s server certificate.
    pub fn start_tls(ca: &TestCa) -> Self {
        let mut r = Self {
            port: free_port(),
            child: None,
            tls: ca.redis_args(),
        };
        r.resume();
        r
    }

    /// `redis://127.0.0.1:PORT`, or `rediss://localhost:PORT` when it speaks TLS.
    pub fn url(&self) -> String {
        if self.tls.is_empty() {
            format!("redis://127.0.0.1:{}", self.port)
        } else {
            format!("rediss://localhost:{}", self.port)
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (its contents are lost, as in a crash).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        wait_port(self.port, false);
    }

    /// Starts it again, empty, on the same port.
    pub fn resume(&mut self) {
        let port = self.port.to_string();
        let ports = if self.tls.is_empty() {
            vec!["--port".to_owned(), port]
        } else {
            ["--port", "0", "--tls-port", &port]
                .map(str::to_owned)
                .to_vec()
        };
        // With TLS, also on 127.0.0.2: a name its certificate does not carry.
        let also = if self.tls.is_empty() {
            None
        } else {
            Some("127.0.0.2")
        };
        let child = Command::new("redis-server")
            .args(&ports)
            .args(&self.tls)
            .args(["--bind", "127.0.0.1"])
            .args(also)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        wait_port(self.port, true);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A TCP proxy to a local port that can *freeze* the connections it carries: they
/// stay open but nothing passes any more (a peer gone without closing, a half-open
/// connection), while connections made afterwards pass as usual.
pub struct FreezingProxy {
    port: u16,
    epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FreezingProxy {
    /// Starts one in front of `127.0.0.1:target`.
    pub fn start(target: u16) -> Self {
        use std::sync::{Arc, atomic::AtomicU64};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let epoch = Arc::new(AtomicU64::new(0));
        let e = epoch.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let born = e.load(std::sync::atomic::Ordering::SeqCst);
                let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                Self::pipe(client, upstream, e.clone(), born);
                Self::pipe(u2, c2, e.clone(), born);
            }
        });
        Self { port, epoch }
    }

    /// Copies `from` to `to` until either closes; once frozen, drops what arrives.
    fn pipe(
        mut from: TcpStream,
        mut to: TcpStream,
        epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
        born: u64,
    ) {
        use std::io::{Read, Write};
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if epoch.load(std::sync::atomic::Ordering::SeqCst) != born {
                    continue;
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }

    /// `redis://127.0.0.1:PORT` through the proxy.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Freezes every connection open now.
    pub fn freeze(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A Redis Cluster of three masters (no replicas) of the test's own, on free ports,
/// keeping its node files in a temporary folder.
pub struct RedisCluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    dir: PathBuf,
    /// `redis-cli` arguments for TLS (empty: plain).
    cli_tls: Vec<String>,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes`, joins them with
    /// `redis-cli --cluster create` and waits until every node says the cluster is ok.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// [`RedisCluster::start`] speaking TLS only, between the nodes too.
    pub fn start_tls(ca: &TestCa) -> Self {
        Self::start_with(Some(ca))
    }

    fn start_with(ca: Option<&TestCa>) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tessera-cluster-{}",
            tessera_core::ids::random_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let cli_tls = match ca {
            Some(ca) => vec!["--tls".to_owned(), "--cacert".to_owned(), ca.ca()],
            None => Vec::new(),
        };
        let mut cluster = Self {
            ports: Vec::new(),
            children: Vec::new(),
            dir,
            cli_tls,
        };
        for _ in 0..3 {
            let (port, bus) = (free_port(), free_port());
            let ports = match ca {
                None => vec!["--port".to_owned(), port.to_string()],
                Some(ca) => {
                    let mut a = [
                        "--port",
                        "0",
                        "--tls-port",
                        &port.to_string(),
                        "--tls-cluster",
                        "yes",
                    ]
                    .map(str::to_owned)
                    .to_vec();
                    a.extend(ca.redis_args());
                    a
                }
            };
            let child = Command::new("redis-server")
                .args(&ports)
                .args(["--bind", "127.0.0.1"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    &bus.to_string(),
                ])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no"])
                .current_dir(&cluster.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server runs");
            cluster.children.push(child);
            cluster.ports.push(port);
            wait_port(port, true);
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        run(Command::new("redis-cli")
            .args(&cluster.cli_tls)
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"]));
        let start = Instant::now();
        for port in &cluster.ports {
            loop {
                let out = Command::new("redis-cli")
                    .args(&cluster.cli_tls)
                    .args(["-p", &port.to_string(), "cluster", "info"])
                    .output()
                    .unwrap();
                if String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "the cluster never became ok"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        cluster
    }

    /// `redis://127.0.0.1:PORT` of each master (`rediss://` with TLS).
    pub fn urls(&self) -> Vec<String> {
        let scheme = if self.cli_tls.is_empty() {
            "redis"
        } else {
            "rediss"
        };
        self.ports
            .iter()
            .map(|p| format!("{scheme}://127.0.0.1:{p}"))
            .collect()
    }

    /// How many keys each master holds.
    pub fn keys_per_node(&self) -> Vec<i64> {
        self.ports
            .iter()
            .map(|p| {
                let out = Command::new("redis-cli")
                    .args(&self.cli_tls)
                    .args(["-p", &p.to_string(), "dbsize"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            })
            .collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL cluster of the test's own in a temporary folder (run as the
/// `postgres` user when the tests run as root, since Postgres refuses root).
pub struct PrivatePostgres {
    port: u16,
    dir: PathBuf,
    /// Serves TLS only (`hostssl` rules), with the certificate in its data folder.
    tls: bool,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version with its binaries")
}

fn as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn pg_command(name: &str) -> Command {
    if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(name));
        c
    } else {
        Command::new(pg_bin(name))
    }
}

impl PrivatePostgres {
    /// Creates and starts one on a free port (superuser `root`, trust auth).
    pub fn start() -> Self {
        let dir =
            std::env::temp_dir().join(format!("tessera-pg-{}", tessera_core::ids::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        if as_root() {
            run(Command::new("chown").arg("postgres").arg(&dir));
        }
        run(pg_command("initdb").arg("-D").arg(dir.join("data")).args([
            "-A",
            "trust",
            "-U",
            "root",
            "--no-sync",
            "-E",
            "UTF8",
        ]));
        let mut pg = Self {
            port: free_port(),
            dir,
            tls: false,
        };
        pg.resume();
        pg
    }

    /// [`PrivatePostgres::start`] accepting TLS connections only, with `ca`'s server
    /// certificate; reach it at [`PrivatePostgres::tls_url`].
    pub fn start_tls(ca: &TestCa) -> Self {
        let mut pg = Self::start();
        pg.stop();
        let data = pg.dir.join("data");
        std::fs::copy(ca.file("server.pem"), data.join("server.crt")).unwrap();
        std::fs::copy(ca.file("server.key"), data.join("server.key")).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        )
        .unwrap();
        if as_root() {
            run(Command::new("chown")
                .args(["postgres", "server.crt", "server.key", "pg_hba.conf"])
                .current_dir(&data));
        }
        run(Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key")));
        pg.tls = true;
        pg.resume();
        pg
    }

    /// `postgres://root@localhost:PORT/postgres`, for a TLS-only instance (the
    /// settings add the CA file and `sslmode=verify-full`).
    pub fn tls_url(&self) -> String {
        format!("postgres://root@localhost:{}/postgres", self.port)
    }

    /// The `postgres` database's URL (no TLS, as the other tests).
    pub fn url(&self) -> String {
        format!(
            "postgres://root@127.0.0.1:{}/postgres?sslmode=disable&gssencmode=disable",
            self.port
        )
    }

    /// Stops it at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&mut self) {
        run(pg_command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]));
        wait_port(self.port, false);
    }

    /// Starts it again on the same port.
    pub fn resume(&mut self) {
        let tls = if self.tls { " -c ssl=on" } else { "" };
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off{tls}",
            self.port,
            self.dir.display()
        );
        run(pg_command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &opts, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "start"]));
        wait_port(self.port, true);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = pg_command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
