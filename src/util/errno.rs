//! errno names as Python's `errno.errorcode` gives them (`ENOENT`), for the messages the
//! reference words with them.

use nix::errno::Errno;

/// `errno.errorcode.get(e, e)`: the symbolic name, or the number when Linux has none.
pub fn errorcode(e: i32) -> String {
    match name(e) {
        Some(n) => n.to_string(),
        None => {
            let long = format!("{:?}", Errno::from_raw(e));
            if long.starts_with('E') {
                long
            } else {
                e.to_string()
            }
        }
    }
}

/// [`errorcode`] of an `io::Error`'s errno, or its text when it has none.
pub fn io_errorcode(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => errorcode(code),
        None => e.to_string(),
    }
}

/// Symbolic name of an errno value (Linux), without allocating: usable after fork.
pub fn name(e: i32) -> Option<&'static str> {
    use libc::*;
    Some(match e {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        ENOEXEC => "ENOEXEC",
        EBADF => "EBADF",
        ECHILD => "ECHILD",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        ENOTBLK => "ENOTBLK",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        EXDEV => "EXDEV",
        ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        ENOTTY => "ENOTTY",
        ETXTBSY => "ETXTBSY",
        EFBIG => "EFBIG",
        ENOSPC => "ENOSPC",
        ESPIPE => "ESPIPE",
        EROFS => "EROFS",
        EMLINK => "EMLINK",
        EPIPE => "EPIPE",
        EDOM => "EDOM",
        ERANGE => "ERANGE",
        EDEADLK => "EDEADLK",
        ENAMETOOLONG => "ENAMETOOLONG",
        ENOLCK => "ENOLCK",
        ENOSYS => "ENOSYS",
        ENOTEMPTY => "ENOTEMPTY",
        ELOOP => "ELOOP",
        ENOSTR => "ENOSTR",
        ENODATA => "ENODATA",
        ETIME => "ETIME",
        ENOSR => "ENOSR",
        EREMOTE => "EREMOTE",
        ENOLINK => "ENOLINK",
        EPROTO => "EPROTO",
        EBADMSG => "EBADMSG",
        EOVERFLOW => "EOVERFLOW",
        EILSEQ => "EILSEQ",
        EUSERS => "EUSERS",
        ENOTSOCK => "ENOTSOCK",
        EDESTADDRREQ => "EDESTADDRREQ",
        EMSGSIZE => "EMSGSIZE",
        EPROTOTYPE => "EPROTOTYPE",
        ENOPROTOOPT => "ENOPROTOOPT",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ECONNABORTED => "ECONNABORTED",
        ECONNRESET => "ECONNRESET",
        ENOBUFS => "ENOBUFS",
        EISCONN => "EISCONN",
        ENOTCONN => "ENOTCONN",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH",
        EALREADY => "EALREADY",
        EINPROGRESS => "EINPROGRESS",
        ESTALE => "ESTALE",
        EDQUOT => "EDQUOT",
        ECANCELED => "ECANCELED",
        EOWNERDEAD => "EOWNERDEAD",
        ENOTRECOVERABLE => "ENOTRECOVERABLE",
        ENOMEDIUM => "ENOMEDIUM",
        EMEDIUMTYPE => "EMEDIUMTYPE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(name(libc::ENOENT), Some("ENOENT"));
        assert_eq!(errorcode(libc::EACCES), "EACCES");
        // beyond the alloc-free table, still named
        assert_eq!(errorcode(libc::ECHRNG), "ECHRNG");
        assert_eq!(errorcode(100_000), "100000");
        assert_eq!(
            io_errorcode(&std::io::Error::from_raw_os_error(libc::EISDIR)),
            "EISDIR"
        );
    }
}
