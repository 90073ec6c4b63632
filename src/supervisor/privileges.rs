//! Dropping the daemon's own privileges (`[supervisord] user=`), as the reference's
//! `set_uid_or_exit` / `drop_privileges`.

use std::ffi::CString;

use nix::unistd::{Gid, Uid, User, getuid, setgid, setgroups, setuid};

use crate::config::Config;

/// Become `[supervisord] user` if set. Returns the line to log once the main log is open;
/// errors are the reference's usage messages.
pub fn set_uid_or_exit(cfg: &Config) -> Result<Option<String>, String> {
    let Some(user) = &cfg.supervisord.user else {
        return Ok(None);
    };
    drop_privileges(user)?;
    Ok(Some(format!(
        "Set uid to user {} succeeded",
        user_uid(user).unwrap_or(0)
    )))
}

fn lookup(user: &str) -> Result<User, String> {
    match user.parse::<u32>() {
        Ok(uid) => match User::from_uid(Uid::from_raw(uid)) {
            Ok(Some(u)) => Ok(u),
            _ => Err(format!("Can't find uid {}", uid)),
        },
        Err(_) => match User::from_name(user) {
            Ok(Some(u)) => Ok(u),
            _ => Err(format!("Can't find username '{}'", user)),
        },
    }
}

fn user_uid(user: &str) -> Option<u32> {
    lookup(user).ok().map(|u| u.uid.as_raw())
}

/// Switch uid, gid and supplementary groups to `user` (a name or a uid).
pub fn drop_privileges(user: &str) -> Result<(), String> {
    let pw = lookup(user)?;
    if getuid() == pw.uid {
        return Ok(());
    }
    if !getuid().is_root() {
        return Err("Can't drop privilege as nonroot user".into());
    }
    let name = CString::new(pw.name.clone())
        .map_err(|_| "Could not set groups of effective user".to_string())?;
    let groups: Vec<Gid> =
        nix::unistd::getgrouplist(&name, pw.gid).unwrap_or_else(|_| vec![pw.gid]);
    setgroups(&groups).map_err(|_| "Could not set groups of effective user".to_string())?;
    setgid(pw.gid).map_err(|_| "Could not set group id of effective user".to_string())?;
    setuid(pw.uid).map_err(|_| "Could not set user id of effective user".to_string())?;
    Ok(())
}
