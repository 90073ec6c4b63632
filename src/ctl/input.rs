//! Standard input as Python's `input()` reads it: in the shell on a terminal through a line
//! editor (rustyline, with the history the shell keeps), otherwise the prompt written to
//! stdout and a line read from fd 0. The shell's commands, the `y/N` confirmations, the
//! credentials asked after a 401 and `fg`'s input all read through here, so lines typed
//! ahead (a pipe of commands) are consumed in order by whoever asks next.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};

use rustyline::error::ReadlineError;

use super::interrupt::{self, Interrupted};

/// The shell's line editor, with its completer.
pub type Editor =
    rustyline::Editor<super::complete::Completion, rustyline::history::DefaultHistory>;

/// Standard input and, on a terminal, its line editor.
pub struct Input {
    buf: Vec<u8>,
    eof: bool,
    pub editor: Option<Editor>,
}

impl Default for Input {
    fn default() -> Self {
        Self::new()
    }
}

impl Input {
    pub fn new() -> Input {
        Input {
            buf: Vec::new(),
            eof: false,
            editor: None,
        }
    }

    pub fn fd(&self) -> RawFd {
        std::io::stdin().as_raw_fd()
    }

    /// Python's `input(prompt)`: `Ok(None)` at end of input (`EOFError`).
    pub fn raw_input(&mut self, prompt: &str) -> Result<Option<String>, Interrupted> {
        if let Some(ed) = self.editor.as_mut() {
            return match ed.readline(prompt) {
                Ok(line) => {
                    if !line.is_empty() {
                        let _ = ed.add_history_entry(line.as_str());
                    }
                    Ok(Some(line))
                }
                Err(ReadlineError::Interrupted) => Err(Interrupted),
                Err(_) => Ok(None),
            };
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        drop(out);
        self.read_line()
    }

    /// A complete line already read, without its newline.
    pub fn take_line(&mut self) -> Option<String> {
        let i = self.buf.iter().position(|&c| c == b'\n')?;
        let line: Vec<u8> = self.buf.drain(..=i).collect();
        Some(String::from_utf8_lossy(&line[..i]).into_owned())
    }

    /// At end of input: the last, unterminated line if there is one.
    pub fn take_rest(&mut self) -> Option<String> {
        if !self.eof || self.buf.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.buf);
        Some(String::from_utf8_lossy(&rest).into_owned())
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// Read what fd 0 has now (it is readable); false at end of input.
    pub fn read_more(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 4096];
        loop {
            // SAFETY: reading into a local buffer from fd 0.
            let n = unsafe { libc::read(0, chunk.as_mut_ptr().cast(), chunk.len()) };
            if n > 0 {
                self.buf.extend_from_slice(&chunk[..n as usize]);
                return true;
            }
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                if interrupt::pending() {
                    return true; // the caller's next wait reports it
                }
                continue;
            }
            self.eof = true;
            return false;
        }
    }

    /// One line from fd 0 (`sys.stdin.readline()`), waiting for it.
    pub fn read_line(&mut self) -> Result<Option<String>, Interrupted> {
        loop {
            if let Some(line) = self.take_line() {
                return Ok(Some(line));
            }
            if self.eof {
                return Ok(self.take_rest());
            }
            interrupt::wait_one(&std::io::stdin())?;
            if interrupt::pending() {
                return Err(Interrupted);
            }
            self.read_more();
        }
    }
}
