//! Configuration: finding, reading and validating `supervisord.conf` in supervisor 4.2.5's
//! dialect. `load` is the one entry point; it returns a typed [`Config`] or a [`ConfigError`]
//! that names the file, the section and the key.

pub mod model;

pub use model::*;

use std::fmt;
use std::path::{Path, PathBuf};

/// A rejected configuration: printed as one line, exit status 2, nothing started.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub section: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(s) = &self.section {
            write!(f, " in section [{}]", s)?;
        }
        if let Some(k) = &self.key {
            write!(f, " (key '{}')", k)?;
        }
        write!(f, " (file: {})", self.file.display())
    }
}

impl std::error::Error for ConfigError {}

/// Read, expand and validate the configuration at `path` (stub until the parser lands).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    Err(ConfigError {
        file: path.to_path_buf(),
        section: None,
        key: None,
        message: "config parser not implemented yet".into(),
    })
}
