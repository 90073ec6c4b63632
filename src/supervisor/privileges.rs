//! Dropping the daemon's own privileges (`[supervisord] user=`), as the reference's
//! `set_uid_or_exit` / `drop_privileges`.

use nix::unistd::{Gid, Uid, getuid, setgid, setgroups, setuid};

use crate::config::Config;
use crate::util::users::{self, User};

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
        Ok(uid) => users::user_by_uid(uid).ok_or_else(|| format!("Can't find uid {}", uid)),
        Err(_) => {
            users::user_by_name(user).ok_or_else(|| format!("Can't find username '{}'", user))
        }
    }
}

fn user_uid(user: &str) -> Option<u32> {
    lookup(user).ok().map(|u| u.uid)
}

/// Switch uid, gid and supplementary groups to `user` (a name or a uid).
pub fn drop_privileges(user: &str) -> Result<(), String> {
    let pw = lookup(user)?;
    let uid = Uid::from_raw(pw.uid);
    let gid = Gid::from_raw(pw.gid);
    if getuid() == uid {
        return Ok(());
    }
    if !getuid().is_root() {
        return Err("Can't drop privilege as nonroot user".into());
    }
    let groups: Vec<Gid> = users::group_list(&pw.name, pw.gid)
        .into_iter()
        .map(Gid::from_raw)
        .collect();
    setgroups(&groups).map_err(|_| "Could not set groups of effective user".to_string())?;
    setgid(gid).map_err(|_| "Could not set group id of effective user".to_string())?;
    setuid(uid).map_err(|_| "Could not set user id of effective user".to_string())?;
    Ok(())
}
