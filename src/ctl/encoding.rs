//! The stock client's `check_encoding`: before tail output it warns when Python would write
//! stdout in an encoding other than UTF-8. Python takes `PYTHONIOENCODING` if set, else the
//! `LC_CTYPE` locale's codeset, except that the C/POSIX locale (or a locale that does not
//! exist) is coerced to UTF-8 (PEP 538/540), as is any locale under `PYTHONUTF8=1`.

use super::controller::Controller;

/// The encoding Python's `sys.stdout` would have.
pub fn stdout_encoding() -> String {
    if let Ok(v) = std::env::var("PYTHONIOENCODING") {
        let enc = v.split(':').next().unwrap_or("");
        if !enc.is_empty() {
            return enc.to_string();
        }
    }
    if std::env::var("PYTHONUTF8").is_ok_and(|v| v == "1") {
        return "utf-8".into();
    }
    // SAFETY: setlocale/nl_langinfo with valid arguments; the returned strings are copied
    // at once. Only LC_CTYPE is set, as Python sets it.
    unsafe {
        let name = libc::setlocale(libc::LC_CTYPE, c"".as_ptr());
        if name.is_null() {
            return "utf-8".into();
        }
        let name = std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned();
        if name == "C" || name == "POSIX" {
            return "utf-8".into();
        }
        let codeset = libc::nl_langinfo(libc::CODESET);
        if codeset.is_null() {
            return "utf-8".into();
        }
        std::ffi::CStr::from_ptr(codeset)
            .to_string_lossy()
            .into_owned()
    }
}

/// Print the stock warning when stdout would not be UTF-8.
pub fn check(ctl: &mut Controller) {
    let enc = stdout_encoding();
    if !enc.to_lowercase().starts_with("utf") {
        ctl.output(&format!(
            "Warning: sys.stdout.encoding is set to {}, so Unicode output may fail. Check your \
             LANG and PYTHONIOENCODING environment settings.",
            enc
        ));
    }
}
