//! The participant generator: a pure, deterministic iterator over a
//! population, one kelurahan after the other in code order. It holds one
//! participant at a time, so the caller decides how many to keep in memory.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::domain::{
    ContributionMonth, DueDateRules, KelurahanCode, NewParticipant, ParticipantName, RegionTimeZone, Segment,
};
use crate::store::Kelurahan;

use super::identity::{KpjNumbers, NikAllocator, PhoneNumbers, email_from_name};
use super::names::{NameGroup, PersonName, Sex, group_mix, person_name};
use super::population::{self, Share};
use super::random::SeedRng;
use super::{SeedError, SeedPlan};

/// The oldest and youngest age (in years at the reference year) generated;
/// everyone is 18 to 65 years old throughout that year.
const OLDEST: i32 = 65;
const YOUNGEST: i32 = 19;

/// One kelurahan of the population and what it still has to receive.
struct Place {
    /// The kelurahan.
    code: KelurahanCode,
    /// The latest month whose due date has passed at `now` in its time zone.
    last_past_due: ContributionMonth,
    /// Its participants by segment.
    share: Share,
}

/// A generated participant with the facts the record does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The participant as it is written to the store.
    pub participant: NewParticipant,
    /// The person's sex (which the NIK's birth day encodes).
    pub sex: Sex,
    /// The first given name (which belongs to the sex's list).
    pub given_name: &'static str,
    /// The naming tradition the name was drawn from.
    pub name_group: NameGroup,
    /// The birth date the NIK carries.
    pub birth_date: NaiveDate,
}

/// Generates the participants of a [`SeedPlan`].
pub struct Generator {
    rng: SeedRng,
    /// The kelurahan, sorted by code, with their shares.
    places: Vec<Place>,
    /// The kelurahan being filled.
    current: usize,
    /// BPU still to generate in the current kelurahan.
    left_bpu: u64,
    /// PU still to generate in the current kelurahan.
    left_pu: u64,
    /// The running index of the next participant, across the population.
    index: u64,
    /// The year ages are counted at: the year of `now` in WIB.
    year: i32,
    niks: NikAllocator,
    phones: PhoneNumbers,
    kpjs: KpjNumbers,
}

impl Generator {
    /// A generator for `plan` from `seed`; `now` fixes the ages and the
    /// standing mix (relative to the contribution months past due at `now`),
    /// so a population is the same for the whole year (NIKs, names, phones)
    /// and month (paid-through months) it is generated in.
    pub fn new(plan: &SeedPlan, seed: u64, now: DateTime<Utc>) -> Result<Self, SeedError> {
        let mut kelurahan: Vec<&Kelurahan> = plan.kelurahan.iter().collect();
        // Code order keeps the population independent of how the list was
        // read, and groups each kecamatan for the NIK serials.
        kelurahan.sort_by(|a, b| a.code.cmp(&b.code));
        kelurahan.dedup_by(|a, b| a.code == b.code);
        let total = plan.bpu.saturating_add(plan.pu);
        let mut rng = SeedRng::new(seed);
        let phones = PhoneNumbers::new(total, &mut rng)?;
        let kpjs = KpjNumbers::new(&mut rng);
        let urban: Vec<bool> = kelurahan.iter().map(|k| is_urban(&k.code)).collect();
        let shares = population::spread(&mut rng, &urban, plan.bpu, plan.pu, plan.min_bpu_per_kelurahan);
        let rules = DueDateRules::default();
        let last_past_due = |zone: RegionTimeZone| rules.last_month_past_due(now, zone.tz());
        let places: Vec<Place> = kelurahan
            .iter()
            .zip(shares)
            .map(|(k, share)| Place {
                code: k.code.clone(),
                last_past_due: last_past_due(k.time_zone),
                share,
            })
            .collect();
        let year = now.with_timezone(&RegionTimeZone::Wib.tz()).year();
        let first = places.first().map(|p| p.share).unwrap_or_default();
        Ok(Self {
            rng,
            places,
            current: 0,
            left_bpu: first.bpu,
            left_pu: first.pu,
            index: 0,
            year,
            niks: NikAllocator::new(year - OLDEST, year - YOUNGEST),
            phones,
            kpjs,
        })
    }

    /// How many kelurahan receive at least one participant.
    pub fn kelurahan_with_participants(&self) -> usize {
        self.places.iter().filter(|p| p.share.bpu + p.share.pu > 0).count()
    }

    /// The next person, with the facts behind the record.
    pub fn next_person(&mut self) -> Option<Result<Person, SeedError>> {
        while self.left_bpu + self.left_pu == 0 {
            self.current += 1;
            let share = self.places.get(self.current)?.share;
            (self.left_bpu, self.left_pu) = (share.bpu, share.pu);
        }
        // Interleave the segments at random while keeping the exact counts.
        let segment = if self.rng.below(self.left_bpu + self.left_pu) < self.left_bpu {
            self.left_bpu -= 1;
            Segment::Bpu
        } else {
            self.left_pu -= 1;
            Segment::Pu
        };
        let person = self.person(segment);
        self.index += 1;
        Some(person)
    }

    fn person(&mut self, segment: Segment) -> Result<Person, SeedError> {
        let place = &self.places[self.current];
        let rng = &mut self.rng;
        let sex = if rng.per_mille(520) { Sex::Male } else { Sex::Female };
        let name_group = rng.weighted(group_mix(&place.code));
        let age = population::age(rng);
        let PersonName { given, full } = person_name(rng, name_group, sex, age);
        let birth_year = self.year - age;
        let days = if NaiveDate::from_ymd_opt(birth_year, 2, 29).is_some() {
            366
        } else {
            365
        };
        let day = rng.between(1, days) as u32;
        let birth = NaiveDate::from_yo_opt(birth_year, day).unwrap_or_default();
        let (nik, birth_date) = self.niks.allocate(&place.code, sex, birth)?;
        let phone = self.phones.number(self.index, rng)?;
        let email = if rng.per_mille(population::email_per_mille(age)) {
            Some(email_from_name(rng, &full, birth_year)?)
        } else {
            None
        };
        let last = place.last_past_due;
        let adult_months = (last.year() - (birth_date.year() + 18)) * 12 + last.month() as i32 - 1;
        let months = population::months(rng, segment, last, adult_months.max(0) as u64);
        let funding = population::funding(rng, segment);
        let monthly_amount = population::monthly_amount(rng, segment)?;
        let kpj = if rng.per_mille(population::kpj_per_mille(segment)) {
            Some(self.kpjs.number(self.index, months.start_month.year())?)
        } else {
            None
        };
        let preferred_channel = population::preferred_channel(rng, email.is_some());
        let opted_out = rng.per_mille(population::OPTED_OUT_PER_MILLE);
        let name = ParticipantName::parse(&full).map_err(|e| SeedError::generated("name", e))?;
        Ok(Person {
            participant: NewParticipant {
                nik,
                kpj,
                name,
                phone: Some(phone),
                email,
                kelurahan: place.code.clone(),
                segment,
                funding,
                monthly_amount,
                start_month: months.start_month,
                paid_through: months.paid_through,
                preferred_channel,
                opted_out,
            },
            sex,
            given_name: given,
            name_group,
            birth_date,
        })
    }
}

impl Iterator for Generator {
    type Item = Result<NewParticipant, SeedError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_person().map(|p| p.map(|p| p.participant))
    }
}

/// Whether a code is a kelurahan (urban, fourth part 1xxx) rather than a
/// desa (2xxx), per the Kemendagri list's convention.
fn is_urban(code: &KelurahanCode) -> bool {
    code.as_str().as_bytes().get(9) == Some(&b'1')
}
