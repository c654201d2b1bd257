//! Reading one cell as a boolean, a number or a date, the way DESIGN.md defines it.
//! Every function takes the cell already trimmed; `None` means "cannot be read as that".

use jiff::civil::Date;

/// `true/false`, `yes/no`, `y/n`, `1/0`, `x`/empty, in any case; and yes and no (true and
/// false) as European exports write them (`Ja`, `WAHR`, `oui`, `sí`, `não`, `nej`...): an
/// opt-out column of `Ja` must disqualify. No word means yes in one of them and no in another.
pub fn parse_bool(cell: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["true", "yes", "y", "1", "x"];
    const FALSE: [&str; 4] = ["false", "no", "n", "0"];
    if cell.is_empty() {
        return Some(false);
    }
    if cell.len() <= 5 {
        if TRUE.iter().any(|t| cell.eq_ignore_ascii_case(t)) {
            return Some(true);
        }
        if FALSE.iter().any(|f| cell.eq_ignore_ascii_case(f)) {
            return Some(false);
        }
    }
    other_languages(cell)
}

/// Yes and no, true and false, in German, French, Spanish, Italian, Portuguese, Dutch,
/// Swedish, Danish, Norwegian, Finnish and Polish (the English ones are `parse_bool`'s).
#[cold]
fn other_languages(cell: &str) -> Option<bool> {
    const TRUE: [&str; 18] = [
        "ja",
        "wahr",
        "oui",
        "vrai",
        "sí",
        "si",
        "verdadero",
        "sì",
        "vero",
        "sim",
        "verdadeiro",
        "waar",
        "sant",
        "sandt",
        "kyllä",
        "tosi",
        "tak",
        "prawda",
    ];
    const FALSE: [&str; 17] = [
        "nein", "falsch", "non", "faux", "falso", "não", "nao", "nee", "onwaar", "nej", "nei",
        "usant", "falskt", "ei", "epätosi", "nie", "fałsz",
    ];
    if cell.len() > 12 {
        return None;
    }
    let lower = cell.to_lowercase();
    if TRUE.contains(&lower.as_str()) {
        Some(true)
    } else if FALSE.contains(&lower.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// A number written with a decimal comma (`12,50`, `3.400`, `1.250,00 €`): the two marks
/// swap roles, then it is read as `parse_number_point` reads (`12,500` is 12.5).
pub fn parse_number_comma(cell: &str) -> Option<f64> {
    if !cell.contains([',', '.']) {
        return parse_number(cell);
    }
    let swapped: String = cell
        .chars()
        .map(|c| match c {
            ',' => '.',
            '.' => ',',
            c => c,
        })
        .collect();
    parse_number_point(&swapped)
}

/// A number written with a decimal point (`1.500` is 1.5, `1,500` is 1500): as
/// `parse_number` reads, but a dot followed by three digits, which `parse_number` refuses
/// (a thousands group, or a decimal?), is a decimal one: read with a zero after them.
pub fn parse_number_point(cell: &str) -> Option<f64> {
    if !cell.contains(',')
        && let Some(dot) = cell.find('.')
    {
        let digits = (cell[dot + 1..].bytes())
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 3 {
            let mut text = cell.to_string();
            text.insert(dot + 1 + digits, '0');
            return parse_number(&text);
        }
    }
    parse_number(cell)
}

/// A number as CRM exports write them: `1200`, `-3`, `1200.5`, `1,200`, `1,200.50`,
/// `1.200,50` and `1.200.000` (the last separator is the decimal one when both appear), with
/// an optional currency sign (`$`, `€`, `£`, `¥`) before or after (a minus before or after a
/// leading one: `-$5`, `$-5`). Ambiguous forms are
/// unreadable rather than guessed: `1,5` (a decimal comma?), `1.200` (1.2, or 1200 written
/// the German way?); so is anything else (`N/A`, `12 employees`, `1e3`).
pub fn parse_number(cell: &str) -> Option<f64> {
    // Most cells are a few plain digits.
    let b = cell.as_bytes();
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64);
    }
    // The sign may come before the currency sign (`-$5`) or after it (`$-5`), once.
    let (sign, rest) = split_sign(cell);
    if sign.is_some() && rest.starts_with(char::is_whitespace) {
        // `- 5`: a dash and a number, not a negative number.
        return None;
    }
    let s = strip_currency(rest);
    let (negative, body) = match sign {
        Some(negative) => (negative, s),
        None => {
            let (sign, body) = split_sign(s);
            (sign == Some(true), body)
        }
    };
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let last_comma = body.rfind(',');
    let last_dot = body.rfind('.');
    let dots = body.matches('.').count();
    let plain: String = match (last_comma, last_dot) {
        // `1.200.000`: dots group thousands.
        (None, Some(_)) if dots > 1 => {
            grouped(body, '.', body.len()).then(|| body.replace('.', ""))?
        }
        // `1.200`: three digits after one dot reads as a thousands group too; refuse to guess.
        (None, Some(d))
            if body.len() - d - 1 == 3
                && grouped(body, '.', body.len())
                && !body.starts_with('0') =>
        {
            return None;
        }
        (None, _) => body.to_string(),
        // `1,200` or `1,200.50`: commas group thousands.
        (Some(_), None) => grouped(body, ',', body.len()).then(|| body.replace(',', ""))?,
        (Some(c), Some(d)) if d > c => grouped(body, ',', d).then(|| body.replace(',', ""))?,
        // `1.200,50`: dots group thousands, the comma is the decimal separator.
        (Some(c), Some(_)) => {
            if !grouped(body, '.', c) || body[c + 1..].contains(',') {
                return None;
            }
            body.replace('.', "").replace(',', ".")
        }
    };
    // At most one decimal point, with digits on at least one side of it.
    if plain.matches('.').count() > 1 || plain == "." {
        return None;
    }
    let n: f64 = plain.parse().ok()?;
    Some(if negative { -n } else { n })
}

/// The integer part `body[..end]` is digits grouped by `sep` in threes (`1,234,567`).
fn grouped(body: &str, sep: char, end: usize) -> bool {
    let int = &body[..end];
    let mut groups = int.split(sep);
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// A leading `-` (`Some(true)`) or `+` (`Some(false)`), and what follows it.
fn split_sign(s: &str) -> (Option<bool>, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (Some(true), &s[1..]),
        Some(b'+') => (Some(false), &s[1..]),
        _ => (None, s),
    }
}

fn strip_currency(cell: &str) -> &str {
    const SIGNS: [char; 4] = ['$', '€', '£', '¥'];
    let s = cell.strip_prefix(SIGNS).unwrap_or(cell);
    let s = s.strip_suffix(SIGNS).unwrap_or(s);
    s.trim()
}

/// ISO 8601: `2026-11-27`, optionally followed by a time (`T14:22:00Z`, ` 14:22`).
/// The date is taken as written; a time zone offset does not move it. A time must be a
/// possible clock (`T25:00` makes the cell no date); what follows its seconds (a fraction,
/// a zone) is not read.
pub fn parse_iso_date(cell: &str) -> Option<Date> {
    let b = cell.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() > 10 && !(matches!(b[10], b'T' | b't' | b' ') && is_clock(&b[11..])) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = &b[r];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Date::new(y as i16, m as i8, d as i8).ok()
}

/// Whether `t` starts with a time of day: an hour of one or two digits up to 23, then
/// optionally `:MM` up to 59, then optionally `:SS` up to 60 (a leap second); or `24`, `24:00`
/// or `24:00:00`.
fn is_clock(t: &[u8]) -> bool {
    let digits = t.iter().take(2).take_while(|c| c.is_ascii_digit()).count();
    let number = |p: &[u8]| p.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let hour = number(&t[..digits]);
    if digits == 0 || hour > 24 {
        return false;
    }
    // `:MM`, then `:SS`: two digits each, when the colon is there. `24:00` (ISO 8601's end
    // of the day) is a time; `24:01` is not.
    let mut rest = &t[digits..];
    for most in [59, 60] {
        match rest {
            [b':', a, b, tail @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                let n = number(&[*a, *b]);
                if n > most || (hour == 24 && n > 0) {
                    return false;
                }
                rest = tail;
            }
            [b':', ..] => return false,
            _ => break,
        }
    }
    // `24:00:00.5` is past the day's end; `24:00:00.000` is not.
    if let [b'.' | b',', fraction @ ..] = rest {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if hour == 24 && fraction[..digits].iter().any(|&c| c != b'0') {
            return false;
        }
        rest = &fraction[digits..];
    }
    possible_offset(rest)
}

/// Whether what follows a time, when it is a numeric UTC offset (`+01:00`, `-0530`, `+02`),
/// is a possible one: hours up to 23, minutes up to 59. Anything else after the time (`Z`,
/// ` UTC`) is left as it is: the date is taken as written.
fn possible_offset(rest: &[u8]) -> bool {
    // `14:22:00 +0100` as some databases write it.
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let [b'+' | b'-', a, b, tail @ ..] = rest else {
        return true;
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit()) {
        return true;
    }
    let two = |x: u8, y: u8| u32::from(x - b'0') * 10 + u32::from(y - b'0');
    let minutes = match tail {
        [b':', c, d, ..] | [c, d, ..] if c.is_ascii_digit() && d.is_ascii_digit() => two(*c, *d),
        _ => 0,
    };
    two(*a, *b) <= 23 && minutes <= 59
}

/// ISO 8601 first, then each of `formats` (strftime-style, e.g. `%m/%d/%Y`). A year read
/// through a format must have four digits: `%Y` would otherwise take `1/2/26` as the year 26.
pub fn parse_date(cell: &str, formats: &[String]) -> Option<Date> {
    parse_iso_date(cell).or_else(|| {
        formats.iter().find_map(|f| {
            let tm = jiff::fmt::strtime::parse(f, cell).ok()?;
            // `%s` (seconds since 1970) is a moment, not a civil date: its UTC day.
            tm.to_date()
                .ok()
                .or_else(|| {
                    let days = tm.to_timestamp().ok()?.as_second().div_euclid(86_400);
                    let epoch = jiff::civil::date(1970, 1, 1);
                    epoch
                        .checked_add(jiff::Span::new().try_days(days).ok()?)
                        .ok()
                })
                .filter(|d| d.year() >= 1000)
        })
    })
}

/// Whether `format` can read dates through `parse_date`: it writes a date that it reads back
/// as that date. `Err`: why not (an unknown directive, no year, month or day).
pub fn check_date_format(format: &str) -> Result<(), String> {
    if format.contains("%Z") {
        return Err(
            "`%Z` (a time zone's abbreviation) can be written but not read: use `%z` (an offset \
             such as +0100) or `%Q` (a zone name such as Europe/Paris)"
                .to_string(),
        );
    }
    let day = jiff::civil::date(2026, 11, 27);
    // A moment of that day with a time and a zone, for the formats that also read those.
    let mut moment = jiff::fmt::strtime::BrokenDownTime::from(day.at(14, 30, 15, 0));
    moment.set_offset(Some(jiff::tz::Offset::UTC));
    moment.set_iana_time_zone(Some("UTC".to_string()));
    let text = moment.to_string(format).map_err(|e| e.to_string())?;
    match parse_date(&text, &[format.to_string()]) {
        Some(back) if back == day => Ok(()),
        _ => Err("it does not name a whole date (a year, a month and a day)".to_string()),
    }
}

/// Days since 1970-01-01: day arithmetic on plain integers.
pub fn day_number(date: Date) -> i32 {
    // Howard Hinnant's days_from_civil.
    let (y, m, d) = (
        i32::from(date.year()),
        i32::from(date.month()),
        i32::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "Yes", "y", "Y", "1", "x", "X"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "NO", "n", "0", ""] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["maybe", "2", "yess", "t", "-", "truthy", "jaja", "neinn"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
        // European exports: German, French, Spanish, Portuguese, Dutch, Nordic, Polish.
        for t in [
            "Ja", "WAHR", "oui", "VRAI", "Sí", "SÍ", "sim", "waar", "Kyllä", "tak",
        ] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in [
            "NEIN", "Falsch", "non", "faux", "não", "NÃO", "nee", "nej", "nie", "Fałsz",
        ] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
    }

    #[test]
    fn numbers() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1200", Some(1200.0)),
            ("-3", Some(-3.0)),
            ("+7", Some(7.0)),
            ("1200.5", Some(1200.5)),
            (".5", Some(0.5)),
            ("1,200", Some(1200.0)),
            ("12,345,678", Some(12_345_678.0)),
            ("1,200.50", Some(1200.5)),
            ("1.200,50", Some(1200.5)),
            ("1.234.567,8", Some(1_234_567.8)),
            ("$1,200", Some(1200.0)),
            ("1200 €", Some(1200.0)),
            ("-$5", Some(-5.0)),
            ("$-5", Some(-5.0)),
            ("+$5", Some(5.0)),
            ("-5 €", Some(-5.0)),
            ("-€1.200,50", Some(-1200.5)),
            ("-$-5", None),
            ("- 5", None),
            ("-\t5", None),
            ("+ 5", None),
            ("--5", None),
            ("-+5", None),
            ("$", None),
            ("-$", None),
            ("1,5", None),
            ("1,20", None),
            ("12,34,567", None),
            ("1.2.3", None),
            ("1.200", None),
            ("8.000", None),
            ("€8.000", None),
            ("999.999", None),
            ("1.200.000", Some(1_200_000.0)),
            ("0.125", Some(0.125)),
            ("1.2000", Some(1.2)),
            ("1234.567", Some(1234.567)),
            ("12.5", Some(12.5)),
            ("N/A", None),
            ("12 employees", None),
            ("1e3", None),
            ("-", None),
            (".", None),
            ("", None),
            ("inf", None),
            ("NaN", None),
        ];
        for (cell, want) in cases {
            assert_eq!(parse_number(cell), *want, "{cell:?}");
        }
    }

    #[test]
    fn iso_dates() {
        let d = |y, m, dd| Some(Date::new(y, m, dd).unwrap());
        assert_eq!(parse_iso_date("2026-11-27"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2026-11-27T23:59:00Z"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2026-11-27 08:00"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2024-02-29"), d(2024, 2, 29));
        assert_eq!(parse_iso_date("2026-02-29"), None);
        assert_eq!(parse_iso_date("2026-13-01"), None);
        assert_eq!(parse_iso_date("2026-11-27x"), None);
        // The time must be a possible clock, and a numeric offset after it a possible one;
        // other text after it is not read.
        assert_eq!(parse_iso_date("2026-11-27 9:05"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2026-11-27T14"), d(2026, 11, 27));
        assert_eq!(
            parse_iso_date("2026-11-27T23:59:60.5+02:00"),
            d(2026, 11, 27)
        );
        assert_eq!(parse_iso_date("2026-11-27 14:22:00 UTC"), d(2026, 11, 27));
        for offset in [
            " +0100",
            "+23:59",
            "-05:30",
            "+0530",
            "-03",
            "+14:00",
            ".123456-08:00",
        ] {
            let cell = format!("2026-11-27T14:22:00{offset}");
            assert_eq!(parse_iso_date(&cell), d(2026, 11, 27), "{cell}");
        }
        assert_eq!(parse_iso_date("2026-11-27T24:00:00Z"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2026-11-27 24:00"), d(2026, 11, 27));
        assert_eq!(parse_iso_date("2026-11-27T24:00:00.000Z"), d(2026, 11, 27));
        for bad in [
            "T25:00:00",
            "T24:01",
            "T24:00:30",
            "T24:00:00.9",
            "T24:00:00,5",
            "T14:60",
            "T14:22:61",
            "T14:",
            "T14:2",
            "Tx",
            "T",
            "T14:22:00+99:00",
            "T14:22:00-24:00",
            "T14:22+05:60",
            "T14:22:00.5+2400",
            " 14:22:00 +99:00",
        ] {
            assert_eq!(parse_iso_date(&format!("2026-11-27{bad}")), None, "{bad}");
        }
        assert_eq!(parse_iso_date("27/11/2026"), None);
        assert_eq!(parse_iso_date(""), None);
    }

    #[test]
    fn a_decimal_point_reads_three_decimals() {
        for (cell, want) in [
            ("12.345", Some(12.345)),
            ("1.500", Some(1.5)),
            ("1,500", Some(1500.0)),
            ("1,500.25", Some(1500.25)),
            ("-0.125", Some(-0.125)),
            ("$1.250", Some(1.25)),
            ("N/A", None),
        ] {
            assert_eq!(parse_number_point(cell), want, "{cell}");
        }
    }

    #[test]
    fn a_decimal_comma_swaps_the_marks() {
        for (cell, want) in [
            ("12,50", Some(12.5)),
            ("3.400", Some(3400.0)),
            ("1.250,00 €", Some(1250.0)),
            ("12,500", Some(12.5)),
            ("0,00", Some(0.0)),
            ("-4,5", Some(-4.5)),
            ("1200", Some(1200.0)),
            ("1,200.50", Some(1200.5)), // both marks: the last is the decimal one, as always
            ("N/A", None),
        ] {
            assert_eq!(parse_number_comma(cell), want, "{cell}");
        }
    }

    /// `%s`: seconds since 1970, as API exports write dates; the day is UTC's.
    #[test]
    fn unix_seconds_read_as_their_utc_day() {
        let formats = vec!["%s".to_string()];
        // 2023-11-14T22:13:20Z
        assert_eq!(
            parse_date("1700000000", &formats),
            Some(Date::new(2023, 11, 14).unwrap())
        );
        assert_eq!(
            parse_date("-86400", &formats),
            Some(Date::new(1969, 12, 31).unwrap())
        );
        assert_eq!(parse_date("soon", &formats), None);
        assert_eq!(check_date_format("%s"), Ok(()));
    }

    #[test]
    fn listed_formats_after_iso() {
        let formats = vec!["%m/%d/%Y".to_string(), "%d.%m.%Y".to_string()];
        let want = Some(Date::new(2026, 3, 4).unwrap());
        assert_eq!(parse_date("03/04/2026", &formats), want);
        assert_eq!(parse_date("04.03.2026", &formats), want);
        assert_eq!(parse_date("2026-03-04", &formats), want);
        assert_eq!(parse_date("03/04/2026", &[]), None);
        assert_eq!(parse_date("13/45/2026", &formats), None);
        assert_eq!(
            parse_date("1/2/26", &formats),
            None,
            "two-digit year through %Y"
        );
        let short = vec!["%m/%d/%y".to_string()];
        assert_eq!(
            parse_date("03/04/26", &short),
            want,
            "%y is for two-digit years"
        );
    }

    #[test]
    fn day_numbers_match_the_calendar() {
        assert_eq!(day_number(Date::new(1970, 1, 1).unwrap()), 0);
        assert_eq!(day_number(Date::new(2026, 11, 27).unwrap()), 20_784);
        let a = Date::new(2024, 2, 28).unwrap();
        let b = Date::new(2024, 3, 1).unwrap();
        assert_eq!(day_number(b) - day_number(a), 2);
        assert_eq!(day_number(Date::new(1969, 12, 31).unwrap()), -1);
    }
}
