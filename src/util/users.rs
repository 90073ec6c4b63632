//! Users and groups for `user=`, `chown=`, `socket_owner=`, the daemon's own `user=` and `~`
//! expansion, read from `/etc/passwd` and `/etc/group` the way musl's libc reads them: one
//! entry a line, `:`-separated fields, the first match wins, a line that does not parse is
//! skipped. No NSS: a static binary resolves users in any image (`scratch`, distroless,
//! Alpine) without glibc's `libnss_*` modules.
//!
//! A dynamically linked build falls back to the C library (NSS: LDAP, NIS, sssd ...) for a
//! name or id the files do not have, and adds NSS's supplementary groups; a static build
//! (`target_feature = "crt-static"`, glibc's or musl's) knows the files only.
//!
//! [`Files`] takes its two paths, so the parsers are tested on temporary files.

use std::path::Path;

/// A line of `/etc/passwd`, the fields we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// A line of `/etc/group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The two account files.
#[derive(Clone, Copy, Debug)]
pub struct Files<'a> {
    pub passwd: &'a Path,
    pub group: &'a Path,
}

/// `/etc/passwd` and `/etc/group`.
fn system() -> Files<'static> {
    Files {
        passwd: Path::new("/etc/passwd"),
        group: Path::new("/etc/group"),
    }
}

/// Each line of a file, as its `:`-separated fields; nothing when it cannot be read.
fn records(path: &Path) -> Vec<Vec<String>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// A decimal id as musl's `atou` takes it: digits only, and no wrap past `u32`.
fn id(field: &str) -> Option<u32> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

fn parse_user(f: &[String]) -> Option<User> {
    // name:password:uid:gid:gecos:home:shell
    if f.len() < 7 || f[0].is_empty() {
        return None;
    }
    Some(User {
        name: f[0].clone(),
        uid: id(&f[2])?,
        gid: id(&f[3])?,
        home: f[5].clone(),
    })
}

fn parse_group(f: &[String]) -> Option<Group> {
    // name:password:gid:member,member
    if f.len() < 4 || f[0].is_empty() {
        return None;
    }
    Some(Group {
        name: f[0].clone(),
        gid: id(&f[2])?,
        members: f[3]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

impl Files<'_> {
    fn users(&self) -> impl Iterator<Item = User> {
        records(self.passwd)
            .into_iter()
            .filter_map(|f| parse_user(&f))
    }

    fn groups(&self) -> impl Iterator<Item = Group> {
        records(self.group)
            .into_iter()
            .filter_map(|f| parse_group(&f))
    }

    pub fn user_by_name(&self, name: &str) -> Option<User> {
        self.users().find(|u| u.name == name)
    }

    pub fn user_by_uid(&self, uid: u32) -> Option<User> {
        self.users().find(|u| u.uid == uid)
    }

    pub fn group_by_name(&self, name: &str) -> Option<Group> {
        self.groups().find(|g| g.name == name)
    }

    pub fn group_by_gid(&self, gid: u32) -> Option<Group> {
        self.groups().find(|g| g.gid == gid)
    }

    /// `gid`, then every group that lists `user` as a member, each once (`getgrouplist`).
    pub fn group_list(&self, user: &str, gid: u32) -> Vec<u32> {
        let mut out = vec![gid];
        for g in self.groups() {
            if g.members.iter().any(|m| m == user) && !out.contains(&g.gid) {
                out.push(g.gid);
            }
        }
        out
    }
}

/// A user by name: the files, then (dynamic builds) NSS.
pub fn user_by_name(name: &str) -> Option<User> {
    system()
        .user_by_name(name)
        .or_else(|| nss::user_by_name(name))
}

/// A user by uid: the files, then (dynamic builds) NSS.
pub fn user_by_uid(uid: u32) -> Option<User> {
    system().user_by_uid(uid).or_else(|| nss::user_by_uid(uid))
}

/// A group's gid by name: the files, then (dynamic builds) NSS.
pub fn group_by_name(name: &str) -> Option<u32> {
    system()
        .group_by_name(name)
        .map(|g| g.gid)
        .or_else(|| nss::group_by_name(name))
}

/// Whether a gid names a group: the files, then (dynamic builds) NSS.
pub fn group_exists(gid: u32) -> bool {
    system().group_by_gid(gid).is_some() || nss::group_exists(gid)
}

/// `gid` and `user`'s supplementary groups (the files', then NSS's on dynamic builds).
pub fn group_list(user: &str, gid: u32) -> Vec<u32> {
    let mut out = system().group_list(user, gid);
    for g in nss::group_list(user, gid) {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// The C library's look-ups (NSS), for dynamically linked builds only.
#[cfg(not(target_feature = "crt-static"))]
mod nss {
    use nix::unistd::{Gid, Group, Uid, User};

    fn user(u: User) -> super::User {
        super::User {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir.to_string_lossy().into_owned(),
        }
    }

    pub fn user_by_name(name: &str) -> Option<super::User> {
        User::from_name(name).ok().flatten().map(user)
    }

    pub fn user_by_uid(uid: u32) -> Option<super::User> {
        User::from_uid(Uid::from_raw(uid)).ok().flatten().map(user)
    }

    pub fn group_by_name(name: &str) -> Option<u32> {
        Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    }

    pub fn group_exists(gid: u32) -> bool {
        matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_)))
    }

    pub fn group_list(user: &str, gid: u32) -> Vec<u32> {
        let Ok(name) = std::ffi::CString::new(user) else {
            return Vec::new();
        };
        nix::unistd::getgrouplist(&name, Gid::from_raw(gid))
            .map(|gs| gs.into_iter().map(Gid::as_raw).collect())
            .unwrap_or_default()
    }
}

/// A static build has no NSS: the files are all there is.
#[cfg(target_feature = "crt-static")]
mod nss {
    pub fn user_by_name(_: &str) -> Option<super::User> {
        None
    }
    pub fn user_by_uid(_: u32) -> Option<super::User> {
        None
    }
    pub fn group_by_name(_: &str) -> Option<u32> {
        None
    }
    pub fn group_exists(_: u32) -> bool {
        false
    }
    pub fn group_list(_: &str, _: u32) -> Vec<u32> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(passwd: &str, group: &str) -> (tempfile_dir::Dir, [std::path::PathBuf; 2]) {
        let d = tempfile_dir::Dir::new();
        let p = d.path.join("passwd");
        let g = d.path.join("group");
        std::fs::write(&p, passwd).unwrap();
        std::fs::write(&g, group).unwrap();
        (d, [p, g])
    }

    /// A temporary directory removed on drop (the crate has no tempfile dependency).
    mod tempfile_dir {
        pub struct Dir {
            pub path: std::path::PathBuf,
        }
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path =
                    std::env::temp_dir().join(format!("users-test-{}-{}", std::process::id(), n));
                std::fs::create_dir_all(&path).unwrap();
                Dir { path }
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        # a comment is no entry\n\
        broken:x:12\n\
        baduid:x:1x:5:::/bin/sh\n\
        :x:7:7::/nowhere:/bin/sh\n\
        worker:x:1001:1002:A Worker,,,:/var/lib/worker:/bin/sh\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        worker:x:2001:2002::/second:/bin/sh\n\
        huge:x:4294967296:1::/h:/bin/sh\n";
    const GROUP: &str = "root:x:0:\n\
        staff:x:50:worker,other\n\
        worker:x:1002:\n\
        garbage line\n\
        nogroup:x:65534:\n\
        docker:*:999:other,worker\n\
        again:x:1002:worker\n";

    #[test]
    fn users_by_name_and_uid() {
        let (_d, [p, g]) = files(PASSWD, GROUP);
        let f = Files {
            passwd: &p,
            group: &g,
        };
        let w = f.user_by_name("worker").unwrap();
        assert_eq!(
            w,
            User {
                name: "worker".into(),
                uid: 1001,
                gid: 1002,
                home: "/var/lib/worker".into()
            }
        );
        // The first entry wins, by name and by uid.
        assert_eq!(f.user_by_uid(1001).unwrap().home, "/var/lib/worker");
        assert_eq!(f.user_by_uid(2001).unwrap().name, "worker");
        assert_eq!(f.user_by_uid(65534).unwrap().name, "nobody");
        assert_eq!(f.user_by_uid(0).unwrap().home, "/root");
        // Lines that do not parse are skipped, not errors.
        for name in [
            "broken",
            "baduid",
            "",
            "huge",
            "# a comment is no entry",
            "nope",
        ] {
            assert_eq!(f.user_by_name(name), None, "{:?}", name);
        }
        assert_eq!(f.user_by_uid(12), None);
        assert_eq!(f.user_by_uid(7), None);
    }

    #[test]
    fn groups_and_group_lists() {
        let (_d, [p, g]) = files(PASSWD, GROUP);
        let f = Files {
            passwd: &p,
            group: &g,
        };
        assert_eq!(f.group_by_name("staff").unwrap().gid, 50);
        assert_eq!(
            f.group_by_name("docker").unwrap().members,
            vec!["other".to_string(), "worker".to_string()]
        );
        assert_eq!(f.group_by_gid(65534).unwrap().name, "nogroup");
        assert_eq!(f.group_by_gid(1002).unwrap().name, "worker");
        assert_eq!(f.group_by_name("garbage line"), None);
        assert_eq!(f.group_by_gid(4), None);
        // The primary group first, then each group naming the user once.
        assert_eq!(f.group_list("worker", 1002), vec![1002, 50, 999]);
        assert_eq!(f.group_list("nobody", 65534), vec![65534]);
        assert_eq!(f.group_list("oth", 7), vec![7]);
    }

    #[test]
    fn missing_or_odd_files() {
        let f = Files {
            passwd: Path::new("/nonexistent/passwd"),
            group: Path::new("/nonexistent/group"),
        };
        assert_eq!(f.user_by_name("root"), None);
        assert_eq!(f.group_list("root", 0), vec![0]);
        let (_d, [p, g]) = files("a:b\u{e9}:1:2::/h:/s\r\nz:x:3:4:::", "g:x:5:a,,b\n");
        let f = Files {
            passwd: &p,
            group: &g,
        };
        // CRLF ends a line; an empty home is allowed.
        assert_eq!(f.user_by_uid(1).unwrap().home, "/h");
        assert_eq!(f.user_by_name("z").unwrap().home, "");
        assert_eq!(f.group_by_gid(5).unwrap().members, vec!["a", "b"]);
    }
}
