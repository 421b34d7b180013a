//! The embedded mode's data folder: owner-only, holding the SQLite file, the master
//! key made on first use, and the lock that keeps a second `serve` out.
use std::path::{Path, PathBuf};

use super::{ConfigError, Settings, env_name};
use tessera_core::master_key::MasterKey;

impl Settings {
    /// The data folder, as configured.
    pub(super) fn data_path(&self) -> PathBuf {
        PathBuf::from(self.data_dir.trim())
    }

    /// The embedded mode's master key file.
    pub fn master_key_file(&self) -> PathBuf {
        self.data_path().join("master.key")
    }

    /// The master key text from its file, and the file's name (for errors).
    pub(super) fn read_master_key_file(&self) -> Result<(String, String), ConfigError> {
        let file = self.master_key_file();
        let text = std::fs::read_to_string(&file).map_err(|e| {
            ConfigError(format!(
                "keys.master_key is not set and {} cannot be read ({}): start \
                 `tessera serve` once to create it, or set {}",
                file.display(),
                e.kind(),
                env_name("keys.master_key")
            ))
        })?;
        Ok((text, file.display().to_string()))
    }

    /// Embedded, takes the data folder's lock for as long as the returned file lives:
    /// a second `serve` on the same folder would keep a revocation list of its own, so
    /// it is refused. `None` in shared mode.
    pub fn lock_data_dir(&self) -> Result<Option<std::fs::File>, ConfigError> {
        if !self.is_embedded() {
            return Ok(None);
        }
        let path = self.data_path().join("serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| unusable(format_args!("cannot open {} ({e})", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(ConfigError(format!(
                "data_dir {} is in use by another `tessera serve`: the embedded mode runs \
                 one node (for several, set database.url and redis.url)",
                self.data_path().display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(ConfigError(format!(
                "data_dir: cannot lock {} ({e})",
                path.display()
            ))),
        }
    }

    /// Prepares the embedded mode's data folder (owner-only) and, on first use, its
    /// master key (owner-only file); returns whether a key was created. Does nothing
    /// when a database URL or a master key is configured.
    pub fn prepare_data_dir(&self) -> Result<bool, ConfigError> {
        if !self.is_embedded() {
            return Ok(false);
        }
        let dir = self.data_path();
        let fail = |what: &str, e: std::io::Error| {
            unusable(format_args!("cannot {what} {} ({e})", dir.display()))
        };
        private_dir(&dir).map_err(|e| fail("create", e))?;
        let file = self.master_key_file();
        if self.keys.master_key.is_some() || file.exists() {
            return Ok(false);
        }
        write_private(&file, MasterKey::generate_base64().as_bytes())
            .map_err(|e| fail("write the master key into", e))?;
        Ok(true)
    }
}

/// The data folder cannot be used, and why.
fn unusable(why: std::fmt::Arguments<'_>) -> ConfigError {
    ConfigError(format!("data_dir: {why} ({})", env_name("data_dir")))
}

/// Creates `dir` (and its parents) readable by its owner only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Writes a new file readable by its owner only; never overwrites.
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(file)?;
    f.write_all(bytes)?;
    f.sync_all()
}
