//! The levels of the Kemendagri code, `PP.KK.CC.DDDD`: province,
//! kabupaten/kota, kecamatan, kelurahan/desa. A region is named by the
//! prefix of the code at its level, and regions are always matched on that
//! code, never on a name (names repeat across Indonesia).

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::kelurahan::dotted_prefix;
use crate::store::Kelurahan;

/// One level of the hierarchy, from the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `18`.
    Provinsi,
    /// `18.72`.
    Kabupaten,
    /// `18.72.01`.
    Kecamatan,
    /// `18.72.01.1001`.
    Kelurahan,
}

impl Level {
    /// Every level, widest first.
    pub const ALL: [Level; 4] = [Level::Provinsi, Level::Kabupaten, Level::Kecamatan, Level::Kelurahan];

    /// Characters of the dotted code of a region at this level.
    pub fn code_len(self) -> usize {
        match self {
            Level::Provinsi => 2,
            Level::Kabupaten => 5,
            Level::Kecamatan => 8,
            Level::Kelurahan => 13,
        }
    }

    /// Whether this is the kelurahan level.
    pub fn is_kelurahan(&self) -> bool {
        *self == Level::Kelurahan
    }

    /// The level of a dotted region code, by its length.
    pub fn of_code(code: &str) -> Option<Level> {
        Self::ALL.into_iter().find(|l| l.code_len() == code.len())
    }

    /// The next level down; none below a kelurahan.
    pub fn child(self) -> Option<Level> {
        match self {
            Level::Provinsi => Some(Level::Kabupaten),
            Level::Kabupaten => Some(Level::Kecamatan),
            Level::Kecamatan => Some(Level::Kelurahan),
            Level::Kelurahan => None,
        }
    }

    /// The level's name as a label (Bahasa Indonesia).
    pub fn label(self) -> &'static str {
        match self {
            Level::Provinsi => "Provinsi",
            Level::Kabupaten => "Kabupaten/Kota",
            Level::Kecamatan => "Kecamatan",
            Level::Kelurahan => "Kelurahan/Desa",
        }
    }

    /// The level's name as a machine word: `provinsi`, `kabupaten`, `kecamatan`, `kelurahan`.
    pub fn key(self) -> &'static str {
        match self {
            Level::Provinsi => "provinsi",
            Level::Kabupaten => "kabupaten",
            Level::Kecamatan => "kecamatan",
            Level::Kelurahan => "kelurahan",
        }
    }
}

/// The code of the region at `level` that the dotted kelurahan `code` lies
/// in (`18.72.01.1001` → `18.72` for a kabupaten/kota); a code shorter
/// than the level is returned whole.
pub fn region_code(code: &str, level: Level) -> &str {
    code.get(..level.code_len()).unwrap_or(code)
}

/// The regions of a kelurahan list at every level, by code.
#[derive(Debug, Clone, Default)]
pub struct Regions {
    names: HashMap<String, String>,
}

/// A region found by [`Regions::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionMatch {
    /// Its dotted code.
    pub code: String,
    /// Its level.
    pub level: Level,
    /// Its name.
    pub name: String,
}

impl Regions {
    /// The regions of `kelurahan`: each kelurahan's province, kabupaten/kota
    /// and kecamatan take the names written on it (the first kelurahan of a
    /// region names it).
    pub fn of(kelurahan: &[Kelurahan]) -> Self {
        let mut names = HashMap::new();
        for k in kelurahan {
            let code = k.code.as_str();
            for (level, name) in [
                (Level::Provinsi, &k.provinsi),
                (Level::Kabupaten, &k.kabupaten_kota),
                (Level::Kecamatan, &k.kecamatan),
                (Level::Kelurahan, &k.name),
            ] {
                names
                    .entry(region_code(code, level).to_string())
                    .or_insert_with(|| name.clone());
            }
        }
        Self { names }
    }

    /// The name of the region with this dotted code, if it is known.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    /// The regions whose name contains `query` (case ignored) or, for a
    /// query of digits and dots, whose code starts with it; ordered by code.
    pub fn search(&self, query: &str) -> Vec<RegionMatch> {
        let query = query.trim();
        if query.is_empty() {
            return Vec::new();
        }
        let is_code = query.chars().all(|c| c.is_ascii_digit() || c == '.');
        let code_prefix = dotted_prefix(query);
        let needle = query.to_lowercase();
        let mut out: Vec<RegionMatch> = self
            .names
            .iter()
            .filter(|(code, name)| {
                if is_code {
                    code.starts_with(&code_prefix)
                } else {
                    name.to_lowercase().contains(&needle)
                }
            })
            .filter_map(|(code, name)| {
                Level::of_code(code).map(|level| RegionMatch {
                    code: code.clone(),
                    level,
                    name: name.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// The regions above `code` and the region itself, widest first, as
    /// (code, name); a level without a known name is left out.
    pub fn path(&self, code: &str) -> Vec<(String, String)> {
        Level::ALL
            .into_iter()
            .filter(|l| l.code_len() <= code.len())
            .filter_map(|l| {
                let c = region_code(code, l);
                self.name(c).map(|n| (c.to_string(), n.to_string()))
            })
            .collect()
    }
}

/// Three Lampung kelurahan in two kabupaten/kota, for the unit tests of
/// the modules that group by region.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::Regions;
    use crate::domain::KelurahanCode;
    use crate::store::Kelurahan;

    /// A Lampung kelurahan.
    pub(crate) fn kel(code: &str, name: &str, kecamatan: &str, kabupaten: &str) -> Kelurahan {
        let code = KelurahanCode::parse(code).unwrap();
        Kelurahan {
            time_zone: code.time_zone(),
            code,
            name: name.into(),
            kecamatan: kecamatan.into(),
            kabupaten_kota: kabupaten.into(),
            provinsi: "Lampung".into(),
        }
    }

    /// Metro (Metro Pusat) and Hadimulyo Barat (Metro Barat) in Kota Metro,
    /// Kupang Kota in Kota Bandar Lampung.
    pub(crate) fn lampung() -> Regions {
        Regions::of(&[
            kel("18.72.01.1001", "Metro", "Metro Pusat", "Kota Metro"),
            kel("18.72.02.1001", "Hadimulyo Barat", "Metro Barat", "Kota Metro"),
            kel(
                "18.71.01.1001",
                "Kupang Kota",
                "Teluk Betung Utara",
                "Kota Bandar Lampung",
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wilayah::region::fixtures::lampung;

    #[test]
    fn a_code_names_its_region_at_every_level() {
        assert_eq!(region_code("18.72.01.1001", Level::Provinsi), "18");
        assert_eq!(region_code("18.72.01.1001", Level::Kabupaten), "18.72");
        assert_eq!(region_code("18.72.01.1001", Level::Kecamatan), "18.72.01");
        assert_eq!(region_code("18.72.01.1001", Level::Kelurahan), "18.72.01.1001");
        assert_eq!(region_code("18", Level::Kecamatan), "18");
        for level in Level::ALL {
            assert_eq!(Level::of_code(region_code("18.72.01.1001", level)), Some(level));
        }
        assert_eq!(Level::of_code("18.7"), None);
        assert_eq!(Level::Kecamatan.child(), Some(Level::Kelurahan));
        assert_eq!(Level::Kelurahan.child(), None);
    }

    #[test]
    fn regions_are_named_from_their_kelurahan() {
        let r = lampung();
        assert_eq!(r.name("18"), Some("Lampung"));
        assert_eq!(r.name("18.71"), Some("Kota Bandar Lampung"));
        assert_eq!(r.name("18.72.02"), Some("Metro Barat"));
        assert_eq!(r.name("18.72.02.1001"), Some("Hadimulyo Barat"));
        assert_eq!(r.name("19"), None);
        let path: Vec<String> = r.path("18.72.02").into_iter().map(|(c, _)| c).collect();
        assert_eq!(path, ["18", "18.72", "18.72.02"]);
    }

    #[test]
    fn search_by_name_or_code() {
        let r = lampung();
        let codes = |q: &str| -> Vec<String> { r.search(q).into_iter().map(|m| m.code).collect() };
        assert_eq!(codes("metro"), ["18.72", "18.72.01", "18.72.01.1001", "18.72.02"]);
        assert_eq!(
            codes("18.72.0"),
            ["18.72.01", "18.72.01.1001", "18.72.02", "18.72.02.1001"]
        );
        assert_eq!(codes("1871"), ["18.71", "18.71.01", "18.71.01.1001"]);
        assert_eq!(codes("BARAT"), ["18.72.02", "18.72.02.1001"]);
        assert!(codes("  ").is_empty() && codes("Papua").is_empty());
        assert_eq!(r.search("kupang")[0].level, Level::Kelurahan);
    }
}
