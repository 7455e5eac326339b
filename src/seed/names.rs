//! Indonesian names for generated participants.
//!
//! BRIEF §5: synthetic populations must look real. Names come from the
//! naming traditions that live side by side in Lampung and elsewhere:
//! Javanese (Kota Metro began as a Javanese settlement and most of Lampung's
//! people are of Javanese descent), Sundanese, Lampung, Malay (with the
//! Mandailing names of Sumatra), pan-Indonesian Muslim names of Arabic
//! origin, Christian names (with Batak, Minahasa, Moluccan and Karo family
//! names) and Chinese-Indonesian names. Given names are kept separate by sex,
//! so the +40 the NIK adds to a woman's birth day always matches her name.
//! Everything is plain ASCII, so a name never pushes an SMS into UCS-2.

use crate::domain::KelurahanCode;

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

/// The name lists of one group and how its names are put together.
pub struct GroupNames {
    /// Given names of men.
    pub male: &'static [&'static str],
    /// Given names of women.
    pub female: &'static [&'static str],
    /// Second or family names men carry.
    pub male_family: &'static [&'static str],
    /// Second or family names women carry.
    pub female_family: &'static [&'static str],
    /// Honorific titles (adok) some men carry before their name.
    pub male_titles: &'static [&'static str],
    /// Per mille of people of middle age known by a single name (common
    /// among older Javanese, rarer among the young).
    pub single: u64,
    /// Per mille of people with a second given name.
    pub middle: u64,
    /// Per mille of men who carry a title.
    pub title: u64,
}

const JAVANESE: GroupNames = GroupNames {
    male: &[
        "Agus",
        "Bambang",
        "Budi",
        "Joko",
        "Slamet",
        "Sugeng",
        "Suparman",
        "Sutrisno",
        "Wahyu",
        "Hadi",
        "Heru",
        "Teguh",
        "Bagus",
        "Yanto",
        "Sugiyanto",
        "Suyono",
        "Sumarno",
        "Supriyadi",
        "Widodo",
        "Purwanto",
        "Mulyono",
        "Triyono",
        "Sukirno",
        "Darmaji",
        "Suwarno",
        "Haryanto",
        "Sukardi",
        "Paijo",
        "Tukiman",
        "Gatot",
        "Wagiman",
        "Sarwono",
    ],
    female: &[
        "Sri", "Siti", "Endang", "Sumarni", "Suparmi", "Sulastri", "Wartini", "Ratna", "Dewi", "Sumiati", "Painem",
        "Tukiyem", "Ngatini", "Suwarni", "Kartini", "Murni", "Partini", "Sukarti", "Indah", "Retno", "Puspita", "Ayu",
        "Dyah", "Wulan", "Rini", "Yuni", "Sumini", "Warsini", "Tumini", "Katmini",
    ],
    male_family: &[
        "Santoso",
        "Wibowo",
        "Susanto",
        "Prasetyo",
        "Purnomo",
        "Setiawan",
        "Nugroho",
        "Saputra",
        "Hartono",
        "Kurniawan",
        "Hidayat",
        "Utomo",
        "Wijayanto",
        "Raharjo",
        "Sulistyo",
        "Pranoto",
        "Kuncoro",
        "Waluyo",
        "Darmawan",
        "Cahyono",
        "Sasongko",
        "Wicaksono",
        "Prakoso",
        "Nugraha",
    ],
    female_family: &[
        "Lestari",
        "Wahyuni",
        "Rahayu",
        "Susanti",
        "Handayani",
        "Wulandari",
        "Astuti",
        "Rahmawati",
        "Kurniasih",
        "Purwanti",
        "Setyowati",
        "Widayanti",
        "Pratiwi",
        "Nurhayati",
        "Sulistyowati",
        "Ningsih",
        "Sari",
        "Utami",
        "Anggraini",
        "Puspitasari",
    ],
    male_titles: &[],
    single: 350,
    middle: 60,
    title: 0,
};

const SUNDANESE: GroupNames = GroupNames {
    male: &[
        "Asep", "Ujang", "Cecep", "Dadang", "Deden", "Encep", "Jajang", "Iwan", "Aep", "Yayan", "Acep", "Dadan",
        "Rudi", "Wawan", "Entis", "Oman", "Maman", "Nanang", "Didin", "Hendi", "Engkos", "Dudung", "Ganjar", "Kusnadi",
    ],
    female: &[
        "Euis", "Neneng", "Imas", "Iis", "Enok", "Nining", "Titin", "Yati", "Entin", "Ela", "Lilis", "Nenden", "Rina",
        "Popon", "Enung", "Cicih", "Eti", "Teti", "Nunung", "Tati", "Elis", "Yeni", "Nyai", "Iceu",
    ],
    male_family: &[
        "Saepudin",
        "Suryana",
        "Kurniawan",
        "Sobari",
        "Ruhiyat",
        "Permana",
        "Sopyan",
        "Hidayat",
        "Gunawan",
        "Sutisna",
        "Rahmat",
        "Sukmana",
        "Mulyana",
        "Suhendar",
        "Somantri",
        "Supriatna",
        "Hermawan",
        "Nugraha",
        "Wiguna",
        "Firmansyah",
        "Setiadi",
        "Ramdani",
    ],
    female_family: &[
        "Rohaeti",
        "Nurhayati",
        "Suryani",
        "Kurniasih",
        "Rosita",
        "Komariah",
        "Rahmawati",
        "Mulyani",
        "Sumiati",
        "Nurjanah",
        "Hasanah",
        "Marlina",
        "Hendrayani",
        "Kartika",
        "Herawati",
        "Rukmini",
        "Sukaesih",
        "Fitriani",
        "Julaeha",
        "Maryati",
    ],
    male_titles: &[],
    single: 200,
    middle: 60,
    title: 0,
};

const LAMPUNG: GroupNames = GroupNames {
    male: &[
        "Syahrial",
        "Zulkarnain",
        "Hermansyah",
        "Rizal",
        "Firdaus",
        "Iskandar",
        "Arifin",
        "Mukhlis",
        "Ridwan",
        "Zulkifli",
        "Azhari",
        "Fauzi",
        "Khairul",
        "Syamsul",
        "Mansyur",
        "Herman",
        "Rusli",
        "Yunus",
        "Tamrin",
        "Ansori",
        "Syafei",
        "Hasbullah",
        "Heriyadi",
        "Ismet",
        "Dendi",
        "Parosil",
    ],
    female: &[
        "Yulia",
        "Rosmiati",
        "Nurbaiti",
        "Herlina",
        "Zuraida",
        "Rosnani",
        "Mardiana",
        "Yusnaini",
        "Fatmawati",
        "Rohana",
        "Zubaidah",
        "Asnawati",
        "Erna",
        "Leni",
        "Desmawati",
        "Helmiyati",
        "Yusniar",
        "Rusmini",
        "Maimunah",
        "Winarti",
        "Chusnunia",
        "Eva",
    ],
    male_family: &[
        "Djunaidi",
        "Thabrani",
        "Ibrahim",
        "Effendi",
        "Ramadhona",
        "Basri",
        "Sanusi",
        "Hakim",
        "Yasin",
        "Mabsus",
        "Ermanto",
        "Hasan",
        "Zen",
        "Rasyid",
        "Syarif",
        "Dahlan",
    ],
    female_family: &[
        "Djunaidi", "Thabrani", "Ibrahim", "Effendi", "Basri", "Sanusi", "Hakim", "Yasin", "Hasan", "Zen", "Rasyid",
        "Syarif", "Dahlan",
    ],
    male_titles: &["Radin", "Minak", "Kimas", "Batin"],
    single: 80,
    middle: 100,
    title: 60,
};

const MALAY: GroupNames = GroupNames {
    male: &[
        "Syafrudin",
        "Zainal",
        "Hamzah",
        "Rusdi",
        "Junaidi",
        "Azwar",
        "Syahrul",
        "Amran",
        "Darwis",
        "Jamaluddin",
        "Kamaruddin",
        "Hasnul",
        "Mahyudin",
        "Nasrul",
        "Safri",
        "Syamsuddin",
        "Yusri",
        "Zulfikar",
        "Burhanuddin",
        "Aidil",
        "Fadli",
        "Herianto",
        "Rahmad",
        "Amri",
    ],
    female: &[
        "Rosmawati",
        "Zuraidah",
        "Fauziah",
        "Rohani",
        "Salmah",
        "Hasnah",
        "Rohaya",
        "Juliana",
        "Yusnidar",
        "Nurlela",
        "Mardiah",
        "Asmah",
        "Zaleha",
        "Syarifah",
        "Rosida",
        "Yanti",
        "Erlina",
        "Irawati",
        "Nurbaya",
        "Masitah",
    ],
    male_family: &[
        "Abidin",
        "Hamid",
        "Saleh",
        "Syahputra",
        "Lubis",
        "Nasution",
        "Daulay",
        "Rangkuti",
        "Harahap",
        "Hasibuan",
        "Ismail",
        "Rahim",
        "Aziz",
        "Bakar",
        "Latif",
        "Majid",
        "Karim",
        "Manaf",
    ],
    female_family: &[
        "Nasution",
        "Lubis",
        "Harahap",
        "Daulay",
        "Rangkuti",
        "Hasibuan",
        "Syahputri",
        "Ismail",
        "Aziz",
        "Hamid",
        "Saleh",
        "Rahim",
    ],
    male_titles: &[],
    single: 100,
    middle: 150,
    title: 0,
};

const MUSLIM: GroupNames = GroupNames {
    male: &[
        "Muhammad", "Ahmad", "Abdul", "Ali", "Umar", "Hasan", "Husein", "Ibrahim", "Ismail", "Yusuf", "Rizki", "Fajar",
        "Ilham", "Arif", "Fikri", "Hafiz", "Faisal", "Hamdan", "Irfan", "Ridho", "Ikhsan", "Syaiful", "Taufik", "Zaki",
        "Luthfi", "Anwar", "Rahmat", "Aditya",
    ],
    female: &[
        "Nur", "Fatimah", "Aisyah", "Khadijah", "Zahra", "Aminah", "Nurul", "Annisa", "Fitri", "Laila", "Halimah",
        "Zainab", "Maryam", "Salma", "Hafsah", "Rukayah", "Syifa", "Nabila", "Aulia", "Azizah", "Latifah", "Ulfa",
        "Hanifah", "Ainun",
    ],
    male_family: &[
        "Hidayat",
        "Ramadhan",
        "Maulana",
        "Hakim",
        "Firmansyah",
        "Syahputra",
        "Rahman",
        "Hidayatullah",
        "Nurdin",
        "Fauzan",
        "Akbar",
        "Pratama",
        "Alfarizi",
        "Habibi",
        "Kurniawan",
        "Hamzah",
        "Saputra",
        "Anshori",
        "Mubarok",
    ],
    female_family: &[
        "Fitriani",
        "Nuraini",
        "Rahmawati",
        "Khairunnisa",
        "Azzahra",
        "Hasanah",
        "Nurjanah",
        "Maulida",
        "Rahmah",
        "Hidayati",
        "Zakiyah",
        "Fadilah",
        "Mardiyah",
        "Safitri",
        "Ramadhani",
        "Sholihah",
        "Munawaroh",
        "Mufidah",
    ],
    male_titles: &[],
    single: 60,
    middle: 300,
    title: 0,
};

const CHRISTIAN: GroupNames = GroupNames {
    male: &[
        "Yohanes",
        "Paulus",
        "Petrus",
        "Markus",
        "Yosef",
        "Stefanus",
        "Daniel",
        "Samuel",
        "Fransiskus",
        "Agustinus",
        "Robert",
        "Hendrik",
        "Albertus",
        "Antonius",
        "Benediktus",
        "Dominikus",
        "Gregorius",
        "Ignatius",
        "Kristian",
        "Lukas",
        "Matius",
        "Nikolaus",
        "Simon",
        "Timotius",
        "Yakobus",
        "Yonathan",
        "Andreas",
    ],
    female: &[
        "Maria",
        "Yohana",
        "Elisabeth",
        "Magdalena",
        "Ester",
        "Debora",
        "Kristina",
        "Agnes",
        "Veronika",
        "Theresia",
        "Margaretha",
        "Lusiana",
        "Ruth",
        "Ribka",
        "Anastasia",
        "Angelina",
        "Bernadeta",
        "Katarina",
        "Monika",
        "Rosalina",
        "Sisilia",
        "Yuliana",
        "Fransiska",
        "Natalia",
        "Priskila",
    ],
    male_family: CHRISTIAN_FAMILY,
    female_family: CHRISTIAN_FAMILY,
    male_titles: &[],
    single: 0,
    middle: 250,
    title: 0,
};

const CHRISTIAN_FAMILY: &[&str] = &[
    "Siregar",
    "Simanjuntak",
    "Nainggolan",
    "Sitompul",
    "Hutapea",
    "Pardede",
    "Sinaga",
    "Situmorang",
    "Manurung",
    "Panjaitan",
    "Tambunan",
    "Sihombing",
    "Simatupang",
    "Hutagalung",
    "Lumentut",
    "Wenas",
    "Rondonuwu",
    "Sondakh",
    "Mandagi",
    "Pattinasarany",
    "Latuheru",
    "Tuhumury",
    "Fernandez",
    "Manek",
    "Pelupessy",
    "Sembiring",
    "Ginting",
    "Tarigan",
];

const CHINESE: GroupNames = GroupNames {
    male: &[
        "Hendra",
        "Kevin",
        "Michael",
        "Steven",
        "Rudy",
        "Johan",
        "Tommy",
        "William",
        "Ferry",
        "Edwin",
        "Felix",
        "Jimmy",
        "Kelvin",
        "Leonardo",
        "Ricky",
        "Richard",
        "Stanley",
        "Vincent",
        "Wilson",
        "Erwin",
        "Yudi",
        "Sugiharto",
    ],
    female: &[
        "Lily",
        "Melinda",
        "Jessica",
        "Fenny",
        "Lanny",
        "Linda",
        "Meiliana",
        "Yenny",
        "Vivian",
        "Cindy",
        "Grace",
        "Stephanie",
        "Shirley",
        "Lina",
        "Elsa",
        "Evelyn",
        "Monica",
        "Natalie",
        "Irene",
        "Angela",
        "Cecilia",
        "Felicia",
        "Sherly",
        "Wendy",
    ],
    male_family: CHINESE_FAMILY,
    female_family: CHINESE_FAMILY,
    male_titles: &[],
    single: 0,
    middle: 0,
    title: 0,
};

const CHINESE_FAMILY: &[&str] = &[
    "Wijaya",
    "Gunawan",
    "Tanoto",
    "Halim",
    "Santoso",
    "Salim",
    "Kusuma",
    "Setiawan",
    "Hartono",
    "Tanuwidjaja",
    "Susanto",
    "Sugianto",
    "Lim",
    "Tan",
    "Liem",
    "Tjandra",
    "Wibisono",
    "Sutanto",
    "Chandra",
    "Hartanto",
    "Limanto",
    "Tanudjaja",
    "Kurniadi",
    "Widjaja",
    "Sanjaya",
    "Winata",
    "Tedja",
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
