//! The name lists behind [`super::names`], kept apart from the logic so
//! both stay readable. Plain ASCII throughout.

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

#[rustfmt::skip]
pub(super) const JAVANESE: GroupNames = GroupNames {
    male: &[
        "Agus", "Bambang", "Budi", "Joko", "Slamet", "Sugeng", "Suparman", "Sutrisno", "Wahyu", "Hadi", "Heru",
        "Teguh", "Bagus", "Yanto", "Sugiyanto", "Suyono", "Sumarno", "Supriyadi", "Widodo", "Purwanto", "Mulyono",
        "Triyono", "Sukirno", "Darmaji", "Suwarno", "Haryanto", "Sukardi", "Paijo", "Tukiman", "Gatot", "Wagiman",
        "Sarwono",
    ],
    female: &[
        "Sri", "Siti", "Endang", "Sumarni", "Suparmi", "Sulastri", "Wartini", "Ratna", "Dewi", "Sumiati", "Painem",
        "Tukiyem", "Ngatini", "Suwarni", "Kartini", "Murni", "Partini", "Sukarti", "Indah", "Retno", "Puspita", "Ayu",
        "Dyah", "Wulan", "Rini", "Yuni", "Sumini", "Warsini", "Tumini", "Katmini",
    ],
    male_family: &[
        "Santoso", "Wibowo", "Susanto", "Prasetyo", "Purnomo", "Setiawan", "Nugroho", "Saputra", "Hartono",
        "Kurniawan", "Hidayat", "Utomo", "Wijayanto", "Raharjo", "Sulistyo", "Pranoto", "Kuncoro", "Waluyo",
        "Darmawan", "Cahyono", "Sasongko", "Wicaksono", "Prakoso", "Nugraha",
    ],
    female_family: &[
        "Lestari", "Wahyuni", "Rahayu", "Susanti", "Handayani", "Wulandari", "Astuti", "Rahmawati", "Kurniasih",
        "Purwanti", "Setyowati", "Widayanti", "Pratiwi", "Nurhayati", "Sulistyowati", "Ningsih", "Sari", "Utami",
        "Anggraini", "Puspitasari",
    ],
    male_titles: &[],
    single: 350,
    middle: 60,
    title: 0,
};

#[rustfmt::skip]
pub(super) const SUNDANESE: GroupNames = GroupNames {
    male: &[
        "Asep", "Ujang", "Cecep", "Dadang", "Deden", "Encep", "Jajang", "Iwan", "Aep", "Yayan", "Acep", "Dadan",
        "Rudi", "Wawan", "Entis", "Oman", "Maman", "Nanang", "Didin", "Hendi", "Engkos", "Dudung", "Ganjar",
        "Kusnadi",
    ],
    female: &[
        "Euis", "Neneng", "Imas", "Iis", "Enok", "Nining", "Titin", "Yati", "Entin", "Ela", "Lilis", "Nenden", "Rina",
        "Popon", "Enung", "Cicih", "Eti", "Teti", "Nunung", "Tati", "Elis", "Yeni", "Nyai", "Iceu",
    ],
    male_family: &[
        "Saepudin", "Suryana", "Kurniawan", "Sobari", "Ruhiyat", "Permana", "Sopyan", "Hidayat", "Gunawan", "Sutisna",
        "Rahmat", "Sukmana", "Mulyana", "Suhendar", "Somantri", "Supriatna", "Hermawan", "Nugraha", "Wiguna",
        "Firmansyah", "Setiadi", "Ramdani",
    ],
    female_family: &[
        "Rohaeti", "Nurhayati", "Suryani", "Kurniasih", "Rosita", "Komariah", "Rahmawati", "Mulyani", "Sumiati",
        "Nurjanah", "Hasanah", "Marlina", "Hendrayani", "Kartika", "Herawati", "Rukmini", "Sukaesih", "Fitriani",
        "Julaeha", "Maryati",
    ],
    male_titles: &[],
    single: 200,
    middle: 60,
    title: 0,
};

#[rustfmt::skip]
pub(super) const LAMPUNG: GroupNames = GroupNames {
    male: &[
        "Syahrial", "Zulkarnain", "Hermansyah", "Rizal", "Firdaus", "Iskandar", "Arifin", "Mukhlis", "Ridwan",
        "Zulkifli", "Azhari", "Fauzi", "Khairul", "Syamsul", "Mansyur", "Herman", "Rusli", "Yunus", "Tamrin",
        "Ansori", "Syafei", "Hasbullah", "Heriyadi", "Ismet", "Dendi", "Parosil",
    ],
    female: &[
        "Yulia", "Rosmiati", "Nurbaiti", "Herlina", "Zuraida", "Rosnani", "Mardiana", "Yusnaini", "Fatmawati",
        "Rohana", "Zubaidah", "Asnawati", "Erna", "Leni", "Desmawati", "Helmiyati", "Yusniar", "Rusmini", "Maimunah",
        "Winarti", "Chusnunia", "Eva",
    ],
    male_family: &[
        "Djunaidi", "Thabrani", "Ibrahim", "Effendi", "Ramadhona", "Basri", "Sanusi", "Hakim", "Yasin", "Mabsus",
        "Ermanto", "Hasan", "Zen", "Rasyid", "Syarif", "Dahlan",
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

#[rustfmt::skip]
pub(super) const MALAY: GroupNames = GroupNames {
    male: &[
        "Syafrudin", "Zainal", "Hamzah", "Rusdi", "Junaidi", "Azwar", "Syahrul", "Amran", "Darwis", "Jamaluddin",
        "Kamaruddin", "Hasnul", "Mahyudin", "Nasrul", "Safri", "Syamsuddin", "Yusri", "Zulfikar", "Burhanuddin",
        "Aidil", "Fadli", "Herianto", "Rahmad", "Amri",
    ],
    female: &[
        "Rosmawati", "Zuraidah", "Fauziah", "Rohani", "Salmah", "Hasnah", "Rohaya", "Juliana", "Yusnidar", "Nurlela",
        "Mardiah", "Asmah", "Zaleha", "Syarifah", "Rosida", "Yanti", "Erlina", "Irawati", "Nurbaya", "Masitah",
    ],
    male_family: &[
        "Abidin", "Hamid", "Saleh", "Syahputra", "Lubis", "Nasution", "Daulay", "Rangkuti", "Harahap", "Hasibuan",
        "Ismail", "Rahim", "Aziz", "Bakar", "Latif", "Majid", "Karim", "Manaf",
    ],
    female_family: &[
        "Nasution", "Lubis", "Harahap", "Daulay", "Rangkuti", "Hasibuan", "Syahputri", "Ismail", "Aziz", "Hamid",
        "Saleh", "Rahim",
    ],
    male_titles: &[],
    single: 100,
    middle: 150,
    title: 0,
};

#[rustfmt::skip]
pub(super) const MUSLIM: GroupNames = GroupNames {
    male: &[
        "Muhammad", "Ahmad", "Abdul", "Ali", "Umar", "Hasan", "Husein", "Ibrahim", "Ismail", "Yusuf", "Rizki",
        "Fajar", "Ilham", "Arif", "Fikri", "Hafiz", "Faisal", "Hamdan", "Irfan", "Ridho", "Ikhsan", "Syaiful",
        "Taufik", "Zaki", "Luthfi", "Anwar", "Rahmat", "Aditya",
    ],
    female: &[
        "Nur", "Fatimah", "Aisyah", "Khadijah", "Zahra", "Aminah", "Nurul", "Annisa", "Fitri", "Laila", "Halimah",
        "Zainab", "Maryam", "Salma", "Hafsah", "Rukayah", "Syifa", "Nabila", "Aulia", "Azizah", "Latifah", "Ulfa",
        "Hanifah", "Ainun",
    ],
    male_family: &[
        "Hidayat", "Ramadhan", "Maulana", "Hakim", "Firmansyah", "Syahputra", "Rahman", "Hidayatullah", "Nurdin",
        "Fauzan", "Akbar", "Pratama", "Alfarizi", "Habibi", "Kurniawan", "Hamzah", "Saputra", "Anshori", "Mubarok",
    ],
    female_family: &[
        "Fitriani", "Nuraini", "Rahmawati", "Khairunnisa", "Azzahra", "Hasanah", "Nurjanah", "Maulida", "Rahmah",
        "Hidayati", "Zakiyah", "Fadilah", "Mardiyah", "Safitri", "Ramadhani", "Sholihah", "Munawaroh", "Mufidah",
    ],
    male_titles: &[],
    single: 60,
    middle: 300,
    title: 0,
};

#[rustfmt::skip]
pub(super) const CHRISTIAN: GroupNames = GroupNames {
    male: &[
        "Yohanes", "Paulus", "Petrus", "Markus", "Yosef", "Stefanus", "Daniel", "Samuel", "Fransiskus", "Agustinus",
        "Robert", "Hendrik", "Albertus", "Antonius", "Benediktus", "Dominikus", "Gregorius", "Ignatius", "Kristian",
        "Lukas", "Matius", "Nikolaus", "Simon", "Timotius", "Yakobus", "Yonathan", "Andreas",
    ],
    female: &[
        "Maria", "Yohana", "Elisabeth", "Magdalena", "Ester", "Debora", "Kristina", "Agnes", "Veronika", "Theresia",
        "Margaretha", "Lusiana", "Ruth", "Ribka", "Anastasia", "Angelina", "Bernadeta", "Katarina", "Monika",
        "Rosalina", "Sisilia", "Yuliana", "Fransiska", "Natalia", "Priskila",
    ],
    male_family: CHRISTIAN_FAMILY,
    female_family: CHRISTIAN_FAMILY,
    male_titles: &[],
    single: 0,
    middle: 250,
    title: 0,
};

#[rustfmt::skip]
const CHRISTIAN_FAMILY: &[&str] = &[
    "Siregar", "Simanjuntak", "Nainggolan", "Sitompul", "Hutapea", "Pardede", "Sinaga", "Situmorang", "Manurung",
    "Panjaitan", "Tambunan", "Sihombing", "Simatupang", "Hutagalung", "Lumentut", "Wenas", "Rondonuwu", "Sondakh",
    "Mandagi", "Pattinasarany", "Latuheru", "Tuhumury", "Fernandez", "Manek", "Pelupessy", "Sembiring", "Ginting",
    "Tarigan",
];

#[rustfmt::skip]
pub(super) const CHINESE: GroupNames = GroupNames {
    male: &[
        "Hendra", "Kevin", "Michael", "Steven", "Rudy", "Johan", "Tommy", "William", "Ferry", "Edwin", "Felix",
        "Jimmy", "Kelvin", "Leonardo", "Ricky", "Richard", "Stanley", "Vincent", "Wilson", "Erwin", "Yudi",
        "Sugiharto",
    ],
    female: &[
        "Lily", "Melinda", "Jessica", "Fenny", "Lanny", "Linda", "Meiliana", "Yenny", "Vivian", "Cindy", "Grace",
        "Stephanie", "Shirley", "Lina", "Elsa", "Evelyn", "Monica", "Natalie", "Irene", "Angela", "Cecilia",
        "Felicia", "Sherly", "Wendy",
    ],
    male_family: CHINESE_FAMILY,
    female_family: CHINESE_FAMILY,
    male_titles: &[],
    single: 0,
    middle: 0,
    title: 0,
};

#[rustfmt::skip]
const CHINESE_FAMILY: &[&str] = &[
    "Wijaya", "Gunawan", "Tanoto", "Halim", "Santoso", "Salim", "Kusuma", "Setiawan", "Hartono", "Tanuwidjaja",
    "Susanto", "Sugianto", "Lim", "Tan", "Liem", "Tjandra", "Wibisono", "Sutanto", "Chandra", "Hartanto", "Limanto",
    "Tanudjaja", "Kurniadi", "Widjaja", "Sanjaya", "Winata", "Tedja",
];
