//! A chain's data, as the console and dashboard tests use it: 40 stores
//! and their items with accented, CJK and long names.

/// A store name 60 characters long, as real chains have.
pub const LONG_STORE: &str = "Filiale Mönchengladbach-Rheydt Hauptbahnhof Einkaufszentrum";

/// Forty store names: accents, CJK, a long one, and a run of generated ones.
pub fn store_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "São Paulo Paulista",
        "東京 渋谷",
        "Zürich HB",
        "Kraków Główny",
        "Shanghai Pudong",
        "México Reforma",
        "Ålesund",
        "Berlin Mitte",
        LONG_STORE,
        "Sapporo",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.extend((names.len()..40).map(|i| format!("Tienda {i:02} Ñandú")));
    names
}

/// Item `i` of a store: Spanish, Japanese, or a long product name.
pub fn item_name(i: usize) -> String {
    match i % 3 {
        0 => format!("Artículo {i:03}"),
        1 => format!("商品 {i:03}"),
        _ => format!("Echo Dot (5th generation) smart speaker with clock, glacier {i:03}"),
    }
}
