//! Identity and contact numbers of generated participants: NIK, mobile
//! number, e-mail address and KPJ.
//!
//! Uniqueness is built in rather than checked against a set of numbers
//! already given out, so a population of millions needs no memory of its
//! members: NIK serials are counted per kecamatan and birth date (as the
//! civil registry does), and phone and KPJ numbers are a keyed permutation of
//! the participant's running index.

use chrono::{Datelike, NaiveDate};

use crate::domain::{EmailAddress, KelurahanCode, Kpj, Nik, PhoneNumber};

use super::SeedError;
use super::names::Sex;
use super::random::{Permutation, SeedRng};

/// Gives out NIKs: the kecamatan's region code, the birth date as `DDMMYY`
/// (day + 40 for women) and a serial `0001`-`9999` counted per kecamatan and
/// birth date (the layout is described in `domain::nik`).
///
/// Kelurahan must be visited grouped by kecamatan (sorted by code), since
/// only the current kecamatan's serials are remembered.
pub struct NikAllocator {
    /// The undotted code of the kecamatan being counted, `187201`.
    kecamatan: String,
    /// The earliest birth year that can be asked for.
    first_year: i32,
    /// How many birth years, from `first_year`, can be asked for.
    years: usize,
    /// Serials given out so far per sex, birth year and day of the year.
    serials: Vec<u16>,
}

/// The highest NIK serial.
const MAX_SERIAL: u16 = 9_999;

impl NikAllocator {
    /// An allocator for birth years `first_year..=last_year` (the two-digit
    /// year must not repeat, so the span stays under a century).
    pub fn new(first_year: i32, last_year: i32) -> Self {
        let years = (last_year - first_year + 1).clamp(1, 99) as usize;
        Self {
            kecamatan: String::new(),
            first_year,
            years,
            serials: vec![0; 2 * years * 366],
        }
    }

    /// The NIK of a person of `sex` born on `birth` (clamped to the
    /// allocator's years) and registered in `kelurahan`'s kecamatan, and the
    /// birth date it carries: when a date has used all its serials, the
    /// person is moved to the next date that has one left.
    pub fn allocate(
        &mut self,
        kelurahan: &KelurahanCode,
        sex: Sex,
        birth: NaiveDate,
    ) -> Result<(Nik, NaiveDate), SeedError> {
        let kecamatan: String = kelurahan.kecamatan_code().chars().filter(|c| *c != '.').collect();
        if kecamatan != self.kecamatan {
            self.kecamatan = kecamatan;
            self.serials.fill(0);
        }
        let mut date = self.clamp(birth);
        for _ in 0..self.years * 366 {
            let slot = self.slot(sex, date);
            if self.serials[slot] < MAX_SERIAL {
                self.serials[slot] += 1;
                let nik = self.format(sex, date, self.serials[slot]);
                let nik = Nik::parse(&nik).map_err(|e| SeedError::generated("NIK", e))?;
                return Ok((nik, date));
            }
            // Past the last year, clamping wraps to the first day of the first.
            date = self.clamp(date.succ_opt().unwrap_or(date));
        }
        Err(SeedError::SerialsExhausted(kelurahan.kecamatan_code().to_string()))
    }

    fn last_year(&self) -> i32 {
        self.first_year + self.years as i32 - 1
    }

    fn first_day(&self) -> NaiveDate {
        NaiveDate::from_yo_opt(self.first_year, 1).unwrap_or(NaiveDate::MIN)
    }

    fn clamp(&self, date: NaiveDate) -> NaiveDate {
        if date.year() < self.first_year || date.year() > self.last_year() {
            self.first_day()
        } else {
            date
        }
    }

    fn slot(&self, sex: Sex, date: NaiveDate) -> usize {
        let sex = usize::from(sex == Sex::Female);
        let year = (date.year() - self.first_year) as usize;
        (sex * self.years + year) * 366 + date.ordinal0() as usize
    }

    fn format(&self, sex: Sex, date: NaiveDate, serial: u16) -> String {
        let day = date.day() + if sex == Sex::Female { 40 } else { 0 };
        format!(
            "{}{:02}{:02}{:02}{:04}",
            self.kecamatan,
            day,
            date.month(),
            date.year().rem_euclid(100),
            serial
        )
    }
}

/// Mobile prefixes (the three digits after the leading 0) per operator, with
/// rough market shares (per mille) so that Telkomsel numbers dominate as they
/// do outside Java. All fit the mobile pattern `8[1-35-9]` followed by 7-10
/// digits (the national numbering plan's mobile ranges).
const OPERATORS: [(&[&str], u64); 5] = [
    // Telkomsel (including by.U and the former Kartu As)
    (&["811", "812", "813", "821", "822", "823", "851", "852", "853"], 450),
    // Indosat Ooredoo
    (&["814", "815", "816", "855", "856", "857", "858"], 220),
    // XL Axiata (including Axis)
    (&["817", "818", "819", "859", "877", "878"], 180),
    // Tri
    (&["895", "896", "897", "898", "899"], 100),
    // Smartfren
    (&["881", "882", "883", "884", "885", "886", "887", "888", "889"], 50),
];

/// The largest population whose phone numbers can all differ.
pub const MAX_POPULATION: u64 = 100_000_000;

/// Gives out unique mobile numbers. The subscriber part starts with the
/// permuted running index, zero-padded to a fixed width, so two people
/// never share a number whatever prefix and extra digits they draw.
pub struct PhoneNumbers {
    /// The permutation of running indexes into subscriber digits.
    core: Permutation,
    /// How many digits the permuted index is written with (7 or 8).
    core_digits: usize,
}

impl PhoneNumbers {
    /// Numbers for a population of `population` people.
    pub fn new(population: u64, rng: &mut SeedRng) -> Result<Self, SeedError> {
        let core_digits = match population {
            0..=10_000_000 => 7,
            10_000_001..=MAX_POPULATION => 8,
            _ => return Err(SeedError::TooMany(population)),
        };
        Ok(Self {
            core: Permutation::new(10u64.pow(core_digits as u32), rng),
            core_digits,
        })
    }

    /// The number of the person with running index `index`, in E.164.
    /// Domestic lengths are 11 to 13 digits (`08xx` + 7 to 9 digits).
    pub fn number(&self, index: u64, rng: &mut SeedRng) -> Result<PhoneNumber, SeedError> {
        let prefixes = rng.weighted(&OPERATORS);
        let prefix = rng.pick(prefixes);
        let extra = match self.core_digits {
            7 => rng.weighted(&[(0u32, 250), (1, 550), (2, 200)]),
            _ => rng.weighted(&[(0u32, 600), (1, 400)]),
        };
        let core = self.core.apply(index);
        let tail = rng.below(10u64.pow(extra));
        let mut domestic = format!("0{prefix}{core:0width$}", width = self.core_digits);
        if extra > 0 {
            domestic.push_str(&format!("{tail:0width$}", width = extra as usize));
        }
        PhoneNumber::parse(&domestic).map_err(|e| SeedError::generated("phone number", e))
    }
}

/// Mail providers Indonesians use, with rough shares (per mille).
const MAIL_DOMAINS: [(&str, u64); 7] = [
    ("gmail.com", 720),
    ("yahoo.co.id", 90),
    ("yahoo.com", 80),
    ("outlook.com", 40),
    ("hotmail.com", 30),
    ("ymail.com", 20),
    ("icloud.com", 20),
];

/// How an address is built from a name.
#[derive(Clone, Copy)]
enum LocalPart {
    /// `budi.santoso`
    Dotted,
    /// `budisantoso`
    Joined,
    /// `budi_santoso`
    Underscored,
    /// `budi87`: the given name and the two-digit birth year.
    GivenYear,
    /// `budisantoso87`
    JoinedYear,
    /// `budi.santoso123`
    DottedNumber,
    /// `budi2451`
    GivenNumber,
}

/// An e-mail address built from `name` (as people make their own, with a
/// birth year or a number to get one that is still free).
pub fn email_from_name(rng: &mut SeedRng, name: &str, birth_year: i32) -> Result<EmailAddress, SeedError> {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|w| w.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let first = words.first().map_or("peserta", String::as_str);
    let last = if words.len() > 1 {
        words.last().map(String::as_str)
    } else {
        None
    };
    let year = birth_year.rem_euclid(100);
    let style = rng.weighted(&[
        (LocalPart::Dotted, 250),
        (LocalPart::Joined, 200),
        (LocalPart::Underscored, 80),
        (LocalPart::GivenYear, 150),
        (LocalPart::JoinedYear, 120),
        (LocalPart::DottedNumber, 100),
        (LocalPart::GivenNumber, 100),
    ]);
    let local = match (style, last) {
        (LocalPart::Dotted, Some(last)) => format!("{first}.{last}"),
        (LocalPart::Joined, Some(last)) => format!("{first}{last}"),
        (LocalPart::Underscored, Some(last)) => format!("{first}_{last}"),
        (LocalPart::JoinedYear, Some(last)) => format!("{first}{last}{year:02}"),
        (LocalPart::DottedNumber, Some(last)) => format!("{first}.{last}{}", rng.between(1, 999)),
        (LocalPart::GivenNumber, _) => format!("{first}{}", rng.between(1, 9_999)),
        _ => format!("{first}{year:02}"),
    };
    let domain = rng.weighted(&MAIL_DOMAINS);
    EmailAddress::parse(&format!("{local}@{domain}")).map_err(|e| SeedError::generated("e-mail address", e))
}

/// Gives out unique 11-digit KPJ numbers: the two-digit year of
/// registration, then the permuted running index in nine digits.
pub struct KpjNumbers {
    /// The permutation of running indexes into the last nine digits.
    serial: Permutation,
}

impl KpjNumbers {
    pub fn new(rng: &mut SeedRng) -> Self {
        Self {
            serial: Permutation::new(1_000_000_000, rng),
        }
    }

    /// The KPJ of the person with running index `index`, registered in `year`.
    pub fn number(&self, index: u64, year: i32) -> Result<Kpj, SeedError> {
        let kpj = format!("{:02}{:09}", year.rem_euclid(100), self.serial.apply(index));
        Kpj::parse(&kpj).map_err(|e| SeedError::generated("KPJ", e))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn code(s: &str) -> KelurahanCode {
        KelurahanCode::parse(s).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn niks_carry_region_birth_date_and_sex() {
        let mut niks = NikAllocator::new(1960, 2007);
        let (man, _) = niks
            .allocate(&code("18.72.01.1001"), Sex::Male, date(1985, 7, 9))
            .unwrap();
        assert_eq!(man.as_str(), "1872010907850001");
        let (woman, _) = niks
            .allocate(&code("18.72.01.1002"), Sex::Female, date(1985, 7, 9))
            .unwrap();
        assert_eq!(woman.as_str(), "1872014907850001");
        let (second, _) = niks
            .allocate(&code("18.72.01.1003"), Sex::Male, date(1985, 7, 9))
            .unwrap();
        assert_eq!(second.as_str(), "1872010907850002");
        // A new kecamatan counts from 0001 again.
        let (other, _) = niks
            .allocate(&code("18.72.02.1001"), Sex::Male, date(1985, 7, 9))
            .unwrap();
        assert_eq!(other.as_str(), "1872020907850001");
        assert_eq!(other.region_code(), "18.72.02");
    }

    #[test]
    fn a_full_birth_date_moves_to_the_next_day() {
        let mut niks = NikAllocator::new(2000, 2001);
        let kelurahan = code("18.72.01.1001");
        let mut seen = HashSet::new();
        for _ in 0..MAX_SERIAL {
            let (nik, _) = niks.allocate(&kelurahan, Sex::Female, date(2001, 12, 31)).unwrap();
            assert!(seen.insert(nik));
        }
        let (nik, moved) = niks.allocate(&kelurahan, Sex::Female, date(2001, 12, 31)).unwrap();
        assert_eq!(moved, date(2000, 1, 1), "wraps to the first year");
        assert_eq!(nik.as_str(), "1872014101000001");
        assert!(seen.insert(nik));
    }

    #[test]
    fn phone_numbers_are_valid_and_unique() {
        let mut rng = SeedRng::new(9);
        let phones = PhoneNumbers::new(200_000, &mut rng).unwrap();
        let mut seen = HashSet::new();
        for i in 0..200_000 {
            let phone = phones.number(i, &mut rng).unwrap();
            let national = &phone.as_str()[3..];
            assert!((10..=12).contains(&national.len()), "{phone}");
            let prefix = &national[..3];
            assert!(OPERATORS.iter().any(|(p, _)| p.contains(&prefix)), "{phone}");
            assert!(seen.insert(phone));
        }
        assert!(matches!(
            PhoneNumbers::new(MAX_POPULATION + 1, &mut rng),
            Err(SeedError::TooMany(_))
        ));
        let big = PhoneNumbers::new(MAX_POPULATION, &mut rng).unwrap();
        assert!(PhoneNumber::parse(big.number(MAX_POPULATION - 1, &mut rng).unwrap().as_str()).is_ok());
    }

    #[test]
    fn emails_are_built_from_the_name() {
        let mut rng = SeedRng::new(3);
        for name in ["Budi Santoso", "Sumarni", "Radin Syahrial Effendi", "Siti Nur Aisyah"] {
            for _ in 0..50 {
                let email = email_from_name(&mut rng, name, 1987).unwrap();
                let first = name.split(' ').next().unwrap().to_ascii_lowercase();
                assert!(email.as_str().starts_with(&first), "{email}");
                assert!(EmailAddress::parse(email.as_str()).is_ok());
            }
        }
    }

    #[test]
    fn kpj_numbers_are_eleven_unique_digits() {
        let mut rng = SeedRng::new(4);
        let kpjs = KpjNumbers::new(&mut rng);
        let mut seen = HashSet::new();
        for i in 0..10_000 {
            let kpj = kpjs.number(i, 2008).unwrap();
            assert_eq!(kpj.as_str().len(), 11);
            assert!(kpj.as_str().starts_with("08"));
            assert!(seen.insert(kpj));
        }
    }
}
