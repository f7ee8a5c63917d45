//! Property tests of the citizen-number parser.

use chrono::{Datelike, NaiveDate};
use hocvuso::domain::cccd::{CitizenId, is_known_prefix, known_prefixes};
use hocvuso::domain::person::Sex;
use proptest::prelude::*;

fn valid() -> impl Strategy<Value = (String, NaiveDate, Sex)> {
    let prefixes = known_prefixes();
    (proptest::sample::select(prefixes), 1900i32..2199, 1u32..=365, any::<bool>(), 0u32..1_000_000).prop_map(
        |(prefix, year, day, female, serial)| {
            let date = NaiveDate::from_yo_opt(year, day).unwrap();
            let sex = if female { Sex::Female } else { Sex::Male };
            let code = (year - 1900) / 100 * 2 + i32::from(female);
            (format!("{prefix:03}{code}{:02}{serial:06}", year % 100), date, sex)
        },
    )
}

proptest! {
    #[test]
    fn every_valid_number_round_trips((text, birth, sex) in valid()) {
        let id = CitizenId::parse_for(&text, birth, sex).unwrap();
        prop_assert_eq!(id.expose(), text.as_str());
        let again = CitizenId::compose(text[..3].parse().unwrap(), birth.year(), sex, text[6..].parse().unwrap()).unwrap();
        prop_assert_eq!(again, id);
    }

    #[test]
    fn digits_7_to_12_are_free((text, birth, sex) in valid(), serial in 0u32..1_000_000) {
        let changed = format!("{}{serial:06}", &text[..6]);
        prop_assert!(CitizenId::parse_for(&changed, birth, sex).is_ok());
    }

    #[test]
    fn breaking_the_province_prefix_is_rejected((text, birth, sex) in valid(), prefix in 0u16..1000) {
        prop_assume!(!is_known_prefix(prefix));
        let changed = format!("{prefix:03}{}", &text[3..]);
        prop_assert!(CitizenId::parse_for(&changed, birth, sex).is_err());
    }

    #[test]
    fn any_other_century_sex_digit_is_rejected((text, birth, sex) in valid(), digit in 0u8..10) {
        prop_assume!(char::from(b'0' + digit) != text.as_bytes()[3] as char);
        let changed = format!("{}{digit}{}", &text[..3], &text[4..]);
        prop_assert!(CitizenId::parse_for(&changed, birth, sex).is_err());
    }

    #[test]
    fn any_other_year_digits_are_rejected((text, birth, sex) in valid(), year in 0u32..100) {
        prop_assume!(format!("{year:02}") != text[4..6]);
        let changed = format!("{}{year:02}{}", &text[..4], &text[6..]);
        prop_assert!(CitizenId::parse_for(&changed, birth, sex).is_err());
    }

    #[test]
    fn anything_but_twelve_digits_is_rejected(text in "[0-9]{0,11}|[0-9]{13,16}|[0-9]{5}[a-z ][0-9]{6}") {
        prop_assert!(CitizenId::parse(&text).is_err());
    }

    #[test]
    fn the_parser_never_panics(text in "\\PC{0,20}") {
        let _ = CitizenId::parse(&text);
    }
}
