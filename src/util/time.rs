//! Local time through `localtime_r(3)` and the English month and weekday abbreviations that
//! Python's `time.strftime`/`time.ctime` print in the C locale.

/// `%b`: `Jan` .. `Dec`, indexed by `tm_mon`.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `%a`: `Sun` .. `Sat`, indexed by `tm_wday`.
pub const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The broken-down local time of `t` (seconds since the epoch); `None` when the C library
/// cannot represent it.
pub fn local_tm(t: i64) -> Option<libc::tm> {
    let t = t as libc::time_t;
    // SAFETY: localtime_r only writes into the zeroed struct we own.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        (!libc::localtime_r(&t, &mut tm).is_null()).then_some(tm)
    }
}

/// [`local_tm`], or an all-zero `tm` (January, day 0 of 1900) when there is none.
pub fn local_tm_or_zero(t: i64) -> libc::tm {
    // SAFETY: libc::tm is plain data; all zeroes is a valid value.
    local_tm(t).unwrap_or_else(|| unsafe { std::mem::zeroed() })
}

/// `%b` of a `tm_mon` (`Jan` when out of range).
pub fn month_abbr(tm_mon: i32) -> &'static str {
    MONTHS.get(tm_mon as usize).copied().unwrap_or("Jan")
}

/// `%a` of a `tm_wday` (`Sun` when out of range).
pub fn weekday_abbr(tm_wday: i32) -> &'static str {
    WEEKDAYS.get(tm_wday as usize).copied().unwrap_or("Sun")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fall_back_in_range() {
        assert_eq!(month_abbr(0), "Jan");
        assert_eq!(month_abbr(11), "Dec");
        assert_eq!(month_abbr(12), "Jan");
        assert_eq!(month_abbr(-1), "Jan");
        assert_eq!(weekday_abbr(6), "Sat");
        assert_eq!(weekday_abbr(7), "Sun");
    }

    #[test]
    fn local_tm_gives_a_plausible_date() {
        let tm = local_tm(86400 * 365).expect("1971 is representable");
        assert!((70..=71).contains(&tm.tm_year));
        assert!((0..12).contains(&tm.tm_mon));
    }
}
