//! Indonesian names for generated participants.
//!
//! Synthetic populations must look real. Names come from the
//! naming traditions that live side by side in Lampung and elsewhere:
//! Javanese (Kota Metro began as a Javanese settlement and most of Lampung's
//! people are of Javanese descent), Sundanese, Lampung, Malay (with the
//! Mandailing names of Sumatra), pan-Indonesian Muslim names of Arabic
//! origin, Christian names (with Batak, Minahasa, Moluccan and Karo family
//! names) and Chinese-Indonesian names. Given names are kept separate by sex,
//! so the +40 the NIK adds to a woman's birth day always matches her name.
//! Everything is plain ASCII, so a name never pushes an SMS into UCS-2.

use crate::domain::KelurahanCode;

use super::name_lists::{CHINESE, CHRISTIAN, GroupNames, JAVANESE, LAMPUNG, MALAY, MUSLIM, SUNDANESE};
use super::random::SeedRng;

/// A person's sex, as the NIK encodes it (women's birth day + 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// A naming tradition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameGroup {
    Javanese,
    Sundanese,
    Lampung,
    Malay,
    Muslim,
    Christian,
    Chinese,
}

/// Every group, for tests and documentation.
pub const ALL_GROUPS: [NameGroup; 7] = [
    NameGroup::Javanese,
    NameGroup::Sundanese,
    NameGroup::Lampung,
    NameGroup::Malay,
    NameGroup::Muslim,
    NameGroup::Christian,
    NameGroup::Chinese,
];

impl NameGroup {
    /// The lists of this group.
    pub fn names(self) -> &'static GroupNames {
        match self {
            Self::Javanese => &JAVANESE,
            Self::Sundanese => &SUNDANESE,
            Self::Lampung => &LAMPUNG,
            Self::Malay => &MALAY,
            Self::Muslim => &MUSLIM,
            Self::Christian => &CHRISTIAN,
            Self::Chinese => &CHINESE,
        }
    }
}

/// How the naming traditions mix in a kelurahan's province (per mille), from
/// the broad ethnic make-up of each region: Kota Metro mostly Javanese,
/// Lampung Javanese with Lampung, Sundanese and Malay minorities, West Java
/// and Banten Sundanese, Central and East Java Javanese, North Sumatra and
/// the east of the country largely Christian.
pub fn group_mix(kelurahan: &KelurahanCode) -> &'static [(NameGroup, u64)] {
    use NameGroup::*;
    if kelurahan.has_prefix("18.72") {
        return &[
            (Javanese, 700),
            (Sundanese, 60),
            (Lampung, 80),
            (Malay, 40),
            (Muslim, 80),
            (Christian, 20),
            (Chinese, 20),
        ];
    }
    match kelurahan.province() {
        18 => &[
            (Javanese, 550),
            (Lampung, 140),
            (Sundanese, 100),
            (Malay, 70),
            (Muslim, 80),
            (Christian, 30),
            (Chinese, 30),
        ],
        32 | 36 => &[
            (Sundanese, 650),
            (Javanese, 150),
            (Muslim, 120),
            (Chinese, 40),
            (Christian, 40),
        ],
        31 => &[
            (Javanese, 350),
            (Sundanese, 150),
            (Muslim, 250),
            (Chinese, 100),
            (Christian, 100),
            (Malay, 50),
        ],
        33..=35 => &[(Javanese, 800), (Muslim, 120), (Chinese, 40), (Christian, 40)],
        12 => &[
            (Christian, 400),
            (Malay, 250),
            (Muslim, 150),
            (Javanese, 150),
            (Chinese, 50),
        ],
        11..=19 | 21 | 61..=65 => &[
            (Malay, 400),
            (Muslim, 300),
            (Javanese, 150),
            (Christian, 80),
            (Chinese, 70),
        ],
        52 | 73..=76 => &[(Muslim, 750), (Javanese, 100), (Christian, 100), (Chinese, 50)],
        _ => &[(Christian, 450), (Muslim, 400), (Javanese, 100), (Chinese, 50)],
    }
}

/// A generated name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    /// The first given name (after any title), from the list of the person's sex.
    pub given: &'static str,
    /// The whole name as written on the identity card.
    pub full: String,
}

/// A name of `group` for a person of `sex` aged `age`: single names are
/// mostly carried by the older generation.
pub fn person_name(rng: &mut SeedRng, group: NameGroup, sex: Sex, age: i32) -> PersonName {
    let names = group.names();
    let (given_list, family_list) = match sex {
        Sex::Male => (names.male, names.male_family),
        Sex::Female => (names.female, names.female_family),
    };
    let mut words: Vec<&str> = Vec::with_capacity(4);
    if sex == Sex::Male && !names.male_titles.is_empty() && rng.per_mille(names.title) {
        words.push(*rng.pick(names.male_titles));
    }
    let given = *rng.pick(given_list);
    words.push(given);
    if rng.per_mille(names.middle) {
        let middle = *rng.pick(given_list);
        if middle != given {
            words.push(middle);
        }
    }
    let single_per_mille = match age {
        ..30 => names.single / 3,
        30..45 => names.single * 2 / 3,
        _ => names.single * 4 / 3,
    };
    let single = words.len() == 1 && rng.per_mille(single_per_mille);
    if !single {
        words.push(*rng.pick(family_list));
    }
    PersonName {
        given,
        full: words.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_given_name_belongs_to_both_sexes() {
        let male: Vec<&str> = ALL_GROUPS.iter().flat_map(|g| g.names().male.iter().copied()).collect();
        for group in ALL_GROUPS {
            for name in group.names().female {
                assert!(!male.contains(name), "{name} is both a male and a female given name");
            }
        }
    }

    #[test]
    fn names_are_plain_ascii_words() {
        for group in ALL_GROUPS {
            let n = group.names();
            for list in [n.male, n.female, n.male_family, n.female_family, n.male_titles] {
                for name in list {
                    assert!(
                        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()),
                        "{name:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_mix_is_valid() {
        for code in [
            "18.72.01.1001",
            "18.01.01.2001",
            "32.73.01.1001",
            "12.71.01.1001",
            "91.71.01.1001",
        ] {
            let mix = group_mix(&KelurahanCode::parse(code).unwrap());
            assert!(mix.iter().map(|(_, w)| w).sum::<u64>() >= 1000, "{code}");
        }
    }

    #[test]
    fn names_follow_the_sex_and_look_indonesian() {
        let mut rng = SeedRng::new(5);
        for group in ALL_GROUPS {
            for _ in 0..200 {
                let woman = person_name(&mut rng, group, Sex::Female, 50);
                assert!(group.names().female.contains(&woman.given));
                assert!(woman.full.contains(woman.given));
                let man = person_name(&mut rng, group, Sex::Male, 25);
                assert!(group.names().male.contains(&man.given));
                assert!((1..=4).contains(&man.full.split(' ').count()), "{}", man.full);
            }
        }
    }
}
