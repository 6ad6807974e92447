//! Fuzzes hash-list imports (`guardrail_hashindex::formats::import_list`) in every format
//! (detected, hex, CSV, python-threatexchange files, HMA data files) for both bank kinds:
//! any text either imports or is refused with errors whose line numbers lie inside the
//! text; what imports is exported as our CSV and reads back to the same entries, and as
//! hex to the same hashes. The query-list reader (`read_hash_lines`) gets the same text.
//!
//! Must never: write files.
#![no_main]

use guardrail_hashindex::BankKind;
use guardrail_hashindex::formats::{
    ExportFormat, ImportOptions, ListFormat, export, import_list, read_hash_lines,
};
use libfuzzer_sys::fuzz_target;

const FORMATS: [ListFormat; 5] = [
    ListFormat::Auto,
    ListFormat::Hex,
    ListFormat::Csv,
    ListFormat::PytxFile,
    ListFormat::HmaDatafile,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    for format in FORMATS {
        for kind in [BankKind::Positive, BankKind::Negative] {
            let options = ImportOptions {
                format,
                default_source: "fuzz-list",
                kind,
            };
            let imported = match import_list(text, &options) {
                Ok(imported) => imported,
                Err(errors) => {
                    assert!(!errors.is_empty(), "refused without a reason");
                    for error in &errors {
                        assert!(
                            error.line >= 1 && error.line <= lines,
                            "error on line {} of a {lines}-line text: {error}",
                            error.line
                        );
                    }
                    continue;
                }
            };
            let csv = export(imported.entries.iter().cloned(), ExportFormat::Csv, kind);
            let again = import_list(
                &csv,
                &ImportOptions {
                    format: ListFormat::Csv,
                    default_source: "other",
                    kind,
                },
            )
            .unwrap_or_else(|e| panic!("our CSV export does not import: {e:?}\n{csv}"));
            assert_eq!(imported.entries, again.entries, "CSV round trip:\n{csv}");
            let hex = export(imported.entries.iter().cloned(), ExportFormat::Hex, kind);
            let hashes = import_list(
                &hex,
                &ImportOptions {
                    format: ListFormat::Hex,
                    default_source: "other",
                    kind,
                },
            )
            .unwrap_or_else(|e| panic!("our hex export does not import: {e:?}\n{hex}"));
            assert!(
                imported
                    .entries
                    .iter()
                    .map(|e| e.hash)
                    .eq(hashes.entries.iter().map(|e| e.hash)),
                "hex round trip"
            );
            for other in [ExportFormat::PytxDataset, ExportFormat::HmaDatafile] {
                let written = export(imported.entries.iter().cloned(), other, kind);
                let read = import_list(
                    &written,
                    &ImportOptions {
                        format: ListFormat::Auto,
                        default_source: "other",
                        kind,
                    },
                )
                .unwrap_or_else(|e| {
                    panic!("our {other:?} export does not import: {e:?}\n{written}")
                });
                assert!(
                    imported
                        .entries
                        .iter()
                        .map(|e| e.hash)
                        .eq(read.entries.iter().map(|e| e.hash)),
                    "{other:?} round trip lost or changed hashes:\n{written}"
                );
            }
        }
    }
    let _ = read_hash_lines(text.as_bytes(), "fuzz.txt");
});
