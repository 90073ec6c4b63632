//! `[include] files=`: the files it names, globbed and read into the same document.

use super::*;

impl Loader<'_> {
    pub(super) fn read_includes(&mut self) -> Result<(), ConfigError> {
        if !self.doc.has_section("include") {
            return Ok(());
        }
        let Some(text) = self.raw_text("include", "files") else {
            return Err(self.err(
                "include",
                Some("files"),
                ".ini file has [include] section, but no files setting".into(),
            ));
        };
        let mut extra = Expansions::new();
        extra.insert(
            "host_node_name".into(),
            Value::Str(self.ctx.host_node_name.clone()),
        );
        let files = self.expand(&text, &extra, "include.files", "include", "files")?;
        let base = here_of(&self.main_file);
        for pattern in files.split_whitespace() {
            let pattern = if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("{}/{}", base.trim_end_matches('/'), pattern)
            };
            let mut found = glob_sorted(&pattern);
            if found.is_empty() {
                self.warnings
                    .push(format!("No file matches via include \"{}\"", pattern));
                continue;
            }
            found.sort();
            for file in found {
                self.included.push(PathBuf::from(&file));
                let path = PathBuf::from(&file);
                let text = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "not valid UTF-8".to_string()))
                    .map_err(|e| {
                        self.err(
                            "include",
                            Some("files"),
                            format!("could not read included file {}: {}", file, e),
                        )
                    })?;
                self.doc
                    .read_str(&text, &path, &file)
                    .map_err(|e| ConfigError::new(&e.file, None, None, e.message))?;
                if self.raw("include", "files").is_some_and(|e| e.file == path) {
                    self.warnings.push(format!(
                        "Included file \"{}\" has an [include] section; includes do not nest, \
                         so it is ignored",
                        file
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Python's `glob.glob`: hidden files only match a pattern that starts them with `.`;
/// a pattern glob cannot parse is taken literally.
fn glob_sorted(pattern: &str) -> Vec<String> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    match glob::glob_with(pattern, opts) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        Err(_) => {
            if Path::new(pattern).exists() {
                vec![pattern.to_string()]
            } else {
                Vec::new()
            }
        }
    }
}
