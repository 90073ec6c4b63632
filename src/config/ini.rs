//! The supervisor dialect of INI: what Python's `RawConfigParser` (as supervisor 4.2.5
//! configures it: `inline_comment_prefixes=(';', '#')`, `strict=False`) accepts.
//!
//! - `[name]` headers; names are kept as written (case-sensitive, any Unicode); a repeated
//!   section, in the same file or a later one, merges into the first.
//! - `key = value` or `key: value` (the first `=` or `:` splits); keys are lowercased;
//!   a repeated key takes the last value.
//! - Full-line comments start with `;` or `#` (after optional indentation); an inline `;` or
//!   `#` starts a comment only at the start of the line or after whitespace, so
//!   `url=http://h/#x` and `a=b;c` keep their text.
//! - A line indented deeper than its key's line continues the value (joined with `\n`);
//!   blank lines inside a value are kept, trailing ones dropped.
//! - `[DEFAULT]` supplies keys to every section.
//! - Text before the first header, and lines without a delimiter, are parse errors, with
//!   Python's messages (`File contains no section headers.`, `Source contains parsing
//!   errors: 'file'` and a `[line  N]: 'text'` line each).
//! - Stricter than Python: a line that opens a section header without closing it
//!   (`[program:x`) is a parse error too; Python reads `[program:x` as the key `[program` of
//!   the section before and loses the section.
//! - Keys are found through an index per section: 50 000 keys in one section, or thousands
//!   of `[program:x]` sections, are read in linear time.
//!
//! Every value remembers the file it came from, so `%(here)s` can be each file's own
//! directory and errors can name the right file.
//!
//! Why not the `configparser` crate: its inline comments start at any `;` or `#`, even
//! inside a word (`command=/bin/echo a;b`, `serverurl=http://h/#x` would be cut), it accepts
//! key lines before any header and keys without a value, and it does not record which file a
//! section or key came from, which `%(here)s` for included files and error messages naming
//! the file both need. Matching Python's `RawConfigParser` line for line was simpler as a
//! small parser of our own (~200 lines) than as a layer over it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::values::py_repr;

/// One `key = value` with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Lowercased key.
    pub key: String,
    /// Value after comment removal, continuation lines joined with `\n`.
    pub value: String,
    /// The file that set this value (last assignment wins).
    pub file: PathBuf,
    /// Line of the key in that file (1-based).
    pub line: usize,
}

/// A section, with entries in first-seen key order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section {
    pub name: String,
    /// The file where the section first appeared.
    pub file: PathBuf,
    pub entries: Vec<Entry>,
    /// Key → index in `entries`.
    index: HashMap<String, usize>,
}

impl Section {
    fn new(name: &str, file: &Path) -> Self {
        Section {
            name: name.to_string(),
            file: file.to_path_buf(),
            ..Default::default()
        }
    }

    /// The entry of a key written in this section (not `[DEFAULT]`).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    /// Add or replace (a repeated key keeps its first place); returns the entry's index.
    fn set(&mut self, entry: Entry) -> usize {
        match self.index.get(&entry.key) {
            Some(&i) => {
                self.entries[i] = entry;
                i
            }
            None => {
                self.index.insert(entry.key.clone(), self.entries.len());
                self.entries.push(entry);
                self.entries.len() - 1
            }
        }
    }
}

/// A parse failure: the message, in one line.
#[derive(Clone, Debug, PartialEq)]
pub struct IniError {
    pub file: PathBuf,
    pub message: String,
}

/// Everything read so far (main file plus includes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// Sections in first-seen order, `[DEFAULT]` excluded.
    pub sections: Vec<Section>,
    /// `[DEFAULT]` keys.
    pub defaults: Section,
    /// Section name → index in `sections`: thousands of `[program:x]` sections are looked up
    /// once per key each, which a scan would make quadratic.
    index: HashMap<String, usize>,
}

const DEFAULT_SECTION: &str = "DEFAULT";

/// Where the option being read lives, for continuation lines.
#[derive(Clone, Copy)]
enum Slot {
    Default(usize),
    Section(usize, usize),
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    /// The named section, if present.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// A key's entry in a section, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.lookup(section, key).map(|(e, _)| e)
    }

    /// `get`, and whether the entry is a `[DEFAULT]` one.
    pub fn lookup(&self, section: &str, key: &str) -> Option<(&Entry, bool)> {
        match self.section(section).and_then(|s| s.get(key)) {
            Some(e) => Some((e, false)),
            None => self.defaults.get(key).map(|e| (e, true)),
        }
    }

    /// Parse `text` (the contents of `file`) and merge it in; `shown` is the file's name as
    /// error messages give it (Python names the main file as it was given with `-c`).
    pub fn read_str(&mut self, text: &str, file: &Path, shown: &str) -> Result<(), IniError> {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut cursect: Option<Option<usize>> = None; // Some(None) = DEFAULT
        let mut slot: Option<Slot> = None;
        let mut values: Vec<(Slot, Vec<String>)> = Vec::new();
        let mut cur_values: Option<usize> = None; // index into `values` for the current option
        let mut indent_level = 0usize;
        let mut bad_lines: Vec<String> = Vec::new();

        for (idx, line) in text.split_inclusive('\n').enumerate() {
            let lineno = idx + 1;
            let comment_start = comment_start(line);
            let content = match comment_start {
                Some(i) => &line[..i],
                None => line,
            };
            let value = content.trim();
            if value.is_empty() {
                // a blank line (not a comment) belongs to the value being read
                if comment_start.is_none()
                    && cursect.is_some()
                    && slot.is_some()
                    && let Some(v) = cur_values
                {
                    values[v].1.push(String::new());
                }
                continue;
            }
            let cur_indent = line
                .char_indices()
                .find(|(_, c)| !c.is_whitespace())
                .map_or(0, |(i, _)| i);
            if cursect.is_some() && slot.is_some() && cur_indent > indent_level {
                if let Some(v) = cur_values {
                    values[v].1.push(value.to_string());
                }
                continue;
            }
            indent_level = cur_indent;
            if cursect.is_some() && value.starts_with('[') && section_header(value).is_none() {
                // an unterminated section header (stricter than Python, see the module doc)
                bad_lines.push(bad_line(lineno, line));
                slot = None;
                cur_values = None;
                continue;
            }
            if let Some(header) = section_header(value) {
                cursect = Some(self.open_section(header, file));
                slot = None;
                cur_values = None;
                continue;
            }
            let Some(sect) = cursect else {
                return Err(IniError {
                    file: file.to_path_buf(),
                    // Python configparser's MissingSectionHeaderError text, as the reference
                    // shows it.
                    message: format!(
                        "File contains no section headers.\nfile: {}, line: {}\n{}",
                        py_repr(shown),
                        lineno,
                        py_repr(line)
                    ),
                });
            };
            let Some(delim) = value.find(['=', ':']) else {
                bad_lines.push(bad_line(lineno, line));
                continue;
            };
            let key = value[..delim].trim_end().to_lowercase();
            let val = value[delim + 1..].trim().to_string();
            if key.is_empty() {
                bad_lines.push(bad_line(lineno, line));
            }
            let entry = Entry {
                key,
                value: String::new(),
                file: file.to_path_buf(),
                line: lineno,
            };
            let s = match sect {
                None => Slot::Default(self.defaults.set(entry)),
                Some(si) => Slot::Section(si, self.sections[si].set(entry)),
            };
            slot = Some(s);
            values.push((s, vec![val]));
            cur_values = Some(values.len() - 1);
        }

        self.store_values(values);
        if !bad_lines.is_empty() {
            return Err(IniError {
                file: file.to_path_buf(),
                // Python's ParsingError
                message: format!(
                    "Source contains parsing errors: {}{}",
                    py_repr(shown),
                    bad_lines.concat()
                ),
            });
        }
        Ok(())
    }
}

impl Document {
    /// `[header]`: the section to read into (`None` for `[DEFAULT]`), created when new.
    fn open_section(&mut self, header: &str, file: &Path) -> Option<usize> {
        if header == DEFAULT_SECTION {
            return None;
        }
        Some(match self.index.get(header) {
            Some(&i) => i,
            None => {
                self.sections.push(Section::new(header, file));
                self.index
                    .insert(header.to_string(), self.sections.len() - 1);
                self.sections.len() - 1
            }
        })
    }

    /// Join each option's lines into its value; a later assignment of the same key overwrites
    /// an earlier one.
    fn store_values(&mut self, values: Vec<(Slot, Vec<String>)>) {
        for (slot, parts) in values {
            let joined = parts.join("\n").trim_end().to_string();
            match slot {
                Slot::Default(i) => self.defaults.entries[i].value = joined,
                Slot::Section(s, i) => self.sections[s].entries[i].value = joined,
            }
        }
    }
}

/// One line of Python's ParsingError: `\n\t[line  2]: 'junk\n'`.
fn bad_line(lineno: usize, line: &str) -> String {
    format!("\n\t[line {:2}]: {}", lineno, py_repr(line))
}

/// Python's `\[(?P<header>.+)\]` matched at the start: up to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    if end == 0 { None } else { Some(&rest[..end]) }
}

/// Byte offset where a comment starts, following `RawConfigParser._read`: full-line `;`/`#`;
/// inline ones at index 0 or after whitespace, scanning occurrences round by round.
fn comment_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with(';') || trimmed.starts_with('#') {
        return Some(0);
    }
    let mut next_from: Vec<(char, usize)> = vec![(';', 0), ('#', 0)];
    while !next_from.is_empty() {
        let mut best: Option<usize> = None;
        let mut following = Vec::new();
        for (prefix, from) in next_from {
            let Some(rel) = line.get(from..).and_then(|s| s.find(prefix)) else {
                continue;
            };
            let index = from + rel;
            following.push((prefix, index + 1));
            let after_space = index == 0
                || line[..index]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_whitespace);
            if after_space {
                best = Some(best.map_or(index, |b: usize| b.min(index)));
            }
        }
        if best.is_some() {
            return best;
        }
        next_from = following;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        let mut d = Document::new();
        d.read_str(text, Path::new("t.conf"), "t.conf").unwrap();
        d
    }

    fn val<'a>(d: &'a Document, s: &str, k: &str) -> &'a str {
        &d.get(s, k).unwrap().value
    }

    #[test]
    fn comments() {
        let d = doc(
            "; top\n# also\n[a]\nx=1 ; note\ny=a;b\nz=http://h/#frag\nw=v\t# tab\n  ; indented comment\nq = v #1 ;2\n",
        );
        assert_eq!(val(&d, "a", "x"), "1");
        assert_eq!(val(&d, "a", "y"), "a;b");
        assert_eq!(val(&d, "a", "z"), "http://h/#frag");
        assert_eq!(val(&d, "a", "w"), "v");
        assert_eq!(val(&d, "a", "q"), "v");
        // Python's round-by-round scan: the first `;` is inside a word, the first `#` follows
        // a space, so the comment starts at the `#` even though a later `;` also qualifies
        assert_eq!(comment_start("v=1;2;3 ;c #d"), Some(11));
    }

    #[test]
    fn continuation_and_blank_lines() {
        let d = doc("[a]\nenv=A=1,\n  B=2\n\n  C=3\n\nnext=x\n");
        assert_eq!(val(&d, "a", "env"), "A=1,\nB=2\n\nC=3");
        assert_eq!(val(&d, "a", "next"), "x");
    }

    #[test]
    fn keys_sections_and_duplicates() {
        let d = doc("[Prog:é]\nCommand = one\ncommand: two\n[other]\nk=1\n[Prog:é]\nextra=3\n");
        assert_eq!(d.sections.len(), 2);
        assert_eq!(d.sections[0].name, "Prog:é");
        assert_eq!(val(&d, "Prog:é", "command"), "two");
        assert_eq!(val(&d, "Prog:é", "extra"), "3");
        assert_eq!(d.sections[0].entries.len(), 2);
        let d = doc("[a]\nk=a:b=c\n[b ] ]\n");
        assert_eq!(val(&d, "a", "k"), "a:b=c");
        assert!(d.has_section("b ] "));
    }

    #[test]
    fn defaults_apply_everywhere() {
        let d = doc("[DEFAULT]\nautostart=false\n[a]\n");
        assert_eq!(val(&d, "a", "autostart"), "false");
        assert!(!d.has_section("DEFAULT"));
    }

    #[test]
    fn errors() {
        let mut d = Document::new();
        let e = d
            .read_str("x=1\n[a]\n", Path::new("t.conf"), "t.conf")
            .unwrap_err();
        assert_eq!(
            e.message,
            "File contains no section headers.\nfile: 't.conf', line: 1\n'x=1\\n'"
        );
        let e = d
            .read_str("[a]\njunk\nok=1\n=v\n", Path::new("/d/t.conf"), "/d/t.conf")
            .unwrap_err();
        assert_eq!(
            e.message,
            "Source contains parsing errors: '/d/t.conf'\n\t[line  2]: 'junk\\n'\n\t[line  4]: '=v\\n'"
        );
        // an unterminated header is an error naming its line (Python would take the key
        // `[program` into section a); before any section, Python's missing-header error
        let e = d
            .read_str(
                "[a]\nk=1\n[program:x\ncommand=/bin/true\n",
                Path::new("t.conf"),
                "t.conf",
            )
            .unwrap_err();
        assert_eq!(
            e.message,
            "Source contains parsing errors: 't.conf'\n\t[line  3]: '[program:x\\n'"
        );
        let e = d
            .read_str("[a\n", Path::new("t.conf"), "t.conf")
            .unwrap_err();
        assert!(e.message.starts_with("File contains no section headers."));
    }

    #[test]
    fn merging_files_records_origin() {
        let mut d = Document::new();
        d.read_str("[a]\nx=1\n", Path::new("one.conf"), "one.conf")
            .unwrap();
        d.read_str("[a]\ny=2\n[b]\n", Path::new("two.conf"), "two.conf")
            .unwrap();
        assert_eq!(d.section("a").unwrap().file, PathBuf::from("one.conf"));
        assert_eq!(d.get("a", "y").unwrap().file, PathBuf::from("two.conf"));
        assert_eq!(d.section("b").unwrap().file, PathBuf::from("two.conf"));
    }
}
