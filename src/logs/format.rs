//! Optional log formats beyond the reference: JSON lines for our own log
//! (`[supervisord] logformat=json`), and, per program, how child output is written to its log
//! targets (`logformat=raw|prefixed|timestamped|json`), which is what a container relays when
//! the target is `/dev/stdout`. The defaults keep the reference's bytes.

use std::time::SystemTime;

use crate::config::{LogLevel, MainLogFormat, OutputFormat};

/// `s` as a JSON string literal (invalid UTF-8 was already replaced by the caller).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One line of our own log in `format` (the reference's line for `Reference`).
pub fn main_line(format: MainLogFormat, level: LogLevel, message: &str, now: SystemTime) -> String {
    match format {
        MainLogFormat::Reference => super::mainlog::format_line(level, message, now),
        MainLogFormat::Json => format!(
            "{{\"time\":{},\"level\":{},\"message\":{}}}\n",
            json_string(&super::mainlog::asctime(now)),
            json_string(super::mainlog::level_name(level)),
            json_string(message)
        ),
    }
}

/// Child output in lines: complete lines are formatted, a partial last line waits for the rest
/// (or for [`LineFormatter::flush`] when the child's pipe closes).
#[derive(Debug)]
pub struct LineFormatter {
    format: OutputFormat,
    program: String,
    stream: &'static str,
    partial: Vec<u8>,
}

impl LineFormatter {
    pub fn new(format: OutputFormat, program: &str, stream: &'static str) -> LineFormatter {
        LineFormatter {
            format,
            program: program.to_string(),
            stream,
            partial: Vec::new(),
        }
    }

    pub fn is_raw(&self) -> bool {
        self.format == OutputFormat::Raw
    }

    fn line(&self, line: &[u8], out: &mut Vec<u8>) {
        let text = String::from_utf8_lossy(line);
        match self.format {
            OutputFormat::Raw => out.extend_from_slice(line),
            OutputFormat::Prefixed => {
                out.extend_from_slice(format!("[{}] {}", self.program, text).as_bytes())
            }
            OutputFormat::Timestamped => out.extend_from_slice(
                format!(
                    "{} [{}] {}",
                    super::mainlog::asctime(SystemTime::now()),
                    self.program,
                    text
                )
                .as_bytes(),
            ),
            OutputFormat::Json => out.extend_from_slice(
                format!(
                    "{{\"time\":{},\"program\":{},\"stream\":\"{}\",\"line\":{}}}",
                    json_string(&super::mainlog::asctime(SystemTime::now())),
                    json_string(&self.program),
                    self.stream,
                    json_string(&text)
                )
                .as_bytes(),
            ),
        }
        out.push(b'\n');
    }

    /// Format the complete lines of `data` (plus what was held back before).
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        self.partial.extend_from_slice(data);
        let mut start = 0;
        let buf = std::mem::take(&mut self.partial);
        while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
            self.line(&buf[start..start + i], &mut out);
            start += i + 1;
        }
        self.partial = buf[start..].to_vec();
        out
    }

    /// The pipe closed: a last line without its newline is written too.
    pub fn flush(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.partial);
        let mut out = Vec::new();
        if !rest.is_empty() {
            self.line(&rest, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_lines_wait_for_their_newline() {
        let mut f = LineFormatter::new(OutputFormat::Prefixed, "web", "stdout");
        assert_eq!(f.feed(b"hel"), b"");
        assert_eq!(f.feed(b"lo\nwor"), b"[web] hello\n");
        assert_eq!(f.flush(), b"[web] wor\n");
        assert_eq!(f.flush(), b"");
    }

    #[test]
    fn json_lines_escape() {
        let mut f = LineFormatter::new(OutputFormat::Json, "w\"x", "stderr");
        let out = String::from_utf8(f.feed(b"a\tb \x01 \xff\n")).unwrap();
        assert!(out.starts_with("{\"time\":\""), "{}", out);
        assert!(out.ends_with(",\"program\":\"w\\\"x\",\"stream\":\"stderr\",\"line\":\"a\\tb \\u0001 \u{fffd}\"}\n"), "{}", out);
        let m = main_line(
            MainLogFormat::Json,
            LogLevel::Warn,
            "x \"y\"",
            SystemTime::now(),
        );
        assert!(
            m.ends_with(",\"level\":\"WARN\",\"message\":\"x \\\"y\\\"\"}\n"),
            "{}",
            m
        );
    }

    #[test]
    fn timestamped_has_the_reference_time_format() {
        let mut f = LineFormatter::new(OutputFormat::Timestamped, "web", "stdout");
        let out = String::from_utf8(f.feed(b"hi\n")).unwrap();
        let (time, rest) = out.split_at(23);
        assert_eq!(rest, " [web] hi\n");
        assert_eq!(&time[4..5], "-");
        assert_eq!(&time[19..20], ",");
    }
}
