//! Trace reader tests: small inline fixtures written to temporary files.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

/// A temporary file removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(name: &str, content: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sim-trace-tests-{}-{}",
            std::process::id(),
            name.replace('/', "_")
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write fixture");
        Tmp(path)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if let Some(d) = self.0.parent() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn read_all(name: &str, content: &[u8]) -> (Vec<Record>, Option<TraceError>) {
    let tmp = Tmp::new(name, content);
    let mut recs = Vec::new();
    let reader = match open_trace(&tmp.0) {
        Ok(r) => r,
        Err(e) => return (recs, Some(e)),
    };
    for r in reader {
        match r {
            Ok(r) => recs.push(r),
            Err(e) => return (recs, Some(e)),
        }
    }
    (recs, None)
}

fn err_of(name: &str, content: &[u8]) -> TraceError {
    let (_, e) = read_all(name, content);
    e.expect("an error")
}

const HEADER: &str = r#"{"trace":"alarm-button","version":1,"source":"test","rate":100}"#;

#[test]
fn jsonl_reads_all_record_kinds() {
    let text = format!(
        "{HEADER}\n{{\"t_ms\":0,\"acc_g\":[0,-1,0.5]}}\n\n{{\"t_ms\":10.5,\"button\":\"down\"}}\r\n{{\"t_ms\":20,\"button\":\"up\"}}\n{{\"t_ms\":20,\"battery_mv\":3000}}\n"
    );
    let tmp = Tmp::new("a.jsonl", text.as_bytes());
    let reader = open_trace(&tmp.0).expect("open");
    assert_eq!(reader.format(), TraceFormat::Jsonl);
    assert_eq!(reader.rate_hint(), Some(100.0));
    assert_eq!(reader.header().fields["source"], "test");
    let recs: Vec<Record> = reader.map(|r| r.expect("record")).collect();
    assert_eq!(
        recs,
        vec![
            Record {
                t_us: 0,
                kind: RecordKind::Accel([0.0, -1.0, 0.5])
            },
            Record {
                t_us: 10_500,
                kind: RecordKind::Button { down: true }
            },
            Record {
                t_us: 20_000,
                kind: RecordKind::Button { down: false }
            },
            Record {
                t_us: 20_000,
                kind: RecordKind::BatteryMv(3000)
            },
        ]
    );
}

#[test]
fn jsonl_errors_name_line_and_column() {
    let e = err_of("e.jsonl", b"");
    assert_eq!((e.line, e.column), (1, 1));
    assert_eq!(e.found, "end of file");

    let e = err_of("h.jsonl", b"{\"trace\":\"other\",\"version\":1}\n");
    assert_eq!((e.line, e.column), (1, 2));
    assert!(
        e.to_string()
            .contains("h.jsonl:1:2: expected \"trace\":\"alarm-button\", found `\"other\"`"),
        "{e}"
    );

    let e = err_of("v.jsonl", b"{\"trace\":\"alarm-button\",\"version\":2}\n");
    assert_eq!(e.line, 1);
    assert!(e.expected.contains("version"));

    let e = err_of("m.jsonl", b"{\"t_ms\":0,\"acc_g\":[0,0,1]}\n");
    assert!(e.found.contains("without `trace`"), "{e}");

    let cases: Vec<(&str, usize, &str)> = vec![
        ("{\"t_ms\":0,\"acc_g\":[0,0,", 23, "truncated"),
        (
            "{\"t_ms\":0,\"acc_g\":[0,0,1],\"x\":1}",
            27,
            "unknown field",
        ),
        ("{\"t_ms\":0,\"acc_g\":[0,0,1e400]}", 0, "JSON"),
        ("{\"t_ms\":0,\"acc_g\":[0,0,500]}", 11, "500"),
        ("{\"t_ms\":-1,\"button\":\"down\"}", 2, "-1"),
        ("{\"t_ms\":0,\"button\":\"sideways\"}", 11, "sideways"),
        ("{\"t_ms\":0,\"battery_mv\":-5}", 11, "-5"),
        (
            "{\"t_ms\":0,\"button\":\"up\",\"battery_mv\":5}",
            25,
            "battery_mv",
        ),
        ("{\"t_ms\":0}", 1, "without a payload"),
        ("{\"button\":\"up\"}", 1, "without `t_ms`"),
        ("[1,2]", 1, "[1,2]"),
    ];
    for (line, col, found) in cases {
        let text = format!("{HEADER}\n{line}\n");
        let e = err_of("c.jsonl", text.as_bytes());
        assert_eq!(e.line, 2, "{line}: {e}");
        if col > 0 {
            assert_eq!(e.column, col, "{line}: {e}");
        }
        assert!(e.found.contains(found), "{line}: {e}");
    }

    // Time going backwards: the earlier records are kept.
    let text =
        format!("{HEADER}\n{{\"t_ms\":10,\"acc_g\":[0,0,1]}}\n{{\"t_ms\":5,\"acc_g\":[0,0,1]}}\n");
    let (recs, e) = read_all("b.jsonl", text.as_bytes());
    assert_eq!(recs.len(), 1);
    let e = e.expect("error");
    assert_eq!((e.line, e.column), (3, 2));
    assert!(e.expected.contains("not before"), "{e}");
}

#[test]
fn invalid_utf8_is_reported_with_column() {
    let mut bytes = format!("{HEADER}\n{{\"t_ms\":0,").into_bytes();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b"}\n");
    let e = err_of("u.jsonl", &bytes);
    assert_eq!((e.line, e.column), (2, 11));
    assert_eq!(e.found, "invalid UTF-8");
}

#[test]
fn csv_reads_and_checks() {
    let (recs, e) = read_all(
        "a.csv",
        b"t_ms,ax_g,ay_g,az_g\r\n0,0,-1,0\r\n10, 0.5 ,-1,0\r\n\r\n",
    );
    assert!(e.is_none(), "{e:?}");
    assert_eq!(recs.len(), 2);
    assert_eq!(
        recs[1],
        Record {
            t_us: 10_000,
            kind: RecordKind::Accel([0.5, -1.0, 0.0])
        }
    );

    let e = err_of("h.csv", b"time,x,y,z\n0,0,0,1\n");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.expected.contains("t_ms,ax_g,ay_g,az_g"));
    let e = err_of("n.csv", b"t_ms,ax_g,ay_g,az_g\n0,0,abc,1\n");
    assert_eq!((e.line, e.column), (2, 5));
    let e = err_of("i.csv", b"t_ms,ax_g,ay_g,az_g\n0,0,inf,1\n");
    assert_eq!((e.line, e.column), (2, 5));
    let e = err_of("s.csv", b"t_ms,ax_g,ay_g,az_g\n0,0,1\n");
    assert!(e.found.contains("3 column"), "{e}");
    let e = err_of("l.csv", b"t_ms,ax_g,ay_g,az_g\n0,0,1,1,1\n");
    assert_eq!((e.line, e.column), (2, 9));
    let e = err_of("t.csv", b"t_ms,ax_g,ay_g,az_g\n5,0,1,1\n4,0,1,1\n");
    assert_eq!((e.line, e.column), (3, 1));
    let e = err_of("e.csv", b"");
    assert_eq!((e.line, e.column), (1, 1));
}

#[test]
fn sisfall_reads_crlf_padding_and_trailing_blank_lines() {
    let text = b"  -9,-257,  -25,   84,  247,   27, -120, -987,   63;\r\n   -3,-263,  -23,   99,  258,   35, -110,-1016,   68;\r\n     \r\n";
    let (recs, e) = read_all("F05_SA01_R02.txt", text);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].t_us, 5_000);
    match recs[0].kind {
        RecordKind::Accel(g) => {
            assert!((g[1] - (-257.0 * 32.0 / 8192.0)).abs() < 1e-12);
        }
        _ => panic!("not accel"),
    }
}

#[test]
fn sisfall_errors() {
    let e = err_of("D01_SA01_R01.txt", b"1,2,3,4,5,6,7,8,9\r\n");
    assert_eq!((e.line, e.column), (1, 18));
    assert!(e.expected.contains(';'));
    let e = err_of(
        "D01_SA01_R01.txt",
        b"1,2,3,4,5,6,7,8,9;\r\n1,2,x,4,5,6,7,8,9;\r\n",
    );
    assert_eq!((e.line, e.column), (2, 5));
    let e = err_of("D01_SA01_R01.txt", b"1,2,3,4,5,6,7,8;\r\n");
    assert!(e.found.contains("8 column"), "{e}");
    let e = err_of("D01_SA01_R01.txt", b"1,2,99999,4,5,6,7,8,9;\r\n");
    assert_eq!((e.line, e.column), (1, 5));
    let e = err_of("D01_SA01_R01.txt", b"  \r\n\r\n");
    assert_eq!(e.found, "end of file");
    let e = err_of("D01_SA01_R01.txt", b"");
    assert_eq!((e.line, e.column), (1, 1));
}

#[test]
fn sisfall_names() {
    let p = Path::new("/data/SA01/F05_SA01_R02.txt");
    assert_eq!(sisfall_code(p).as_deref(), Some("F05"));
    assert_eq!(sisfall_subject(p).as_deref(), Some("SA01"));
    // A mistyped subject in the file name: the folder wins.
    let p = Path::new("/data/SE06/D05_SA06_R01.txt");
    assert_eq!(sisfall_subject(p).as_deref(), Some("SE06"));
    let p = Path::new("flat/D19_SA03_R05.txt");
    assert_eq!(sisfall_subject(p).as_deref(), Some("SA03"));
    assert_eq!(sisfall_code(Path::new("Readme.txt")), None);
}

#[test]
fn fallalld_reads_samples_at_238_hz() {
    let (recs, e) = read_all(
        "S01_D3_A101_T01_A.dat",
        b"4062,-1428,-45\n4190,-1422,-24\n\n32764,-32768,0\n",
    );
    assert!(e.is_none(), "{e:?}");
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1].t_us, 4_202);
    assert_eq!(recs[2].t_us, 8_403);
    match recs[0].kind {
        RecordKind::Accel(g) => assert!((g[0] - 4062.0 * 0.000244).abs() < 1e-12),
        _ => panic!("not accel"),
    }
    // Without an extension, a line of integers without `;` is FallAllD.
    let (recs, e) = read_all("trace", b"4062,-1428,-45\n");
    assert!(e.is_none(), "{e:?}");
    assert_eq!(recs.len(), 1);
}

#[test]
fn fallalld_errors() {
    let e = err_of("S01_D3_A013_T01_A.dat", b"1,2,3\n1,x,3\n");
    assert_eq!((e.line, e.column), (2, 3));
    let e = err_of("S01_D3_A013_T01_A.dat", b"1,2\n");
    assert!(e.found.contains("2 column"), "{e}");
    let e = err_of("S01_D3_A013_T01_A.dat", b"1,2,3,4\n");
    assert_eq!((e.line, e.column), (1, 6));
    let e = err_of("S01_D3_A013_T01_A.dat", b"1,2,40000\n");
    assert_eq!((e.line, e.column), (1, 5));
    let e = err_of("S01_D3_A013_T01_A.dat", b"");
    assert_eq!(e.found, "end of file");
}

#[test]
fn fallalld_names() {
    let n = fallalld_trace(Path::new("/d/S03_D3_A127_T04_A.dat")).expect("name");
    assert_eq!((n.subject.as_str(), n.activity, n.trial), ("S03", 127, 4));
    assert!(fallalld_is_fall(n.activity));
    assert!(!fallalld_is_fall(13));
    assert!(fallalld_trace(Path::new("S03_D1_A127_T04_A.dat")).is_none());
    assert!(fallalld_trace(Path::new("S03_D3_A127_T04_G.dat")).is_none());
    assert!(fallalld_trace(Path::new("S03_D3_A127_T04_A.txt")).is_none());
    assert!(fallalld_trace(Path::new("S03_D3_Ax_T04_A.dat")).is_none());
}

#[test]
fn sniffing_without_extension() {
    let (recs, e) = read_all(
        "trace",
        format!("{HEADER}\n{{\"t_ms\":0,\"acc_g\":[0,0,1]}}\n").as_bytes(),
    );
    assert!(e.is_none());
    assert_eq!(recs.len(), 1);
    let (recs, e) = read_all("csvtrace", b"t_ms,ax_g,ay_g,az_g\n0,0,0,1\n");
    assert!(e.is_none());
    assert_eq!(recs.len(), 1);
    let e = err_of("blob", b"\x00\x01");
    assert_eq!((e.line, e.column), (1, 1));
    let e = open_trace(Path::new("/nonexistent/x.jsonl")).expect_err("missing");
    assert!(e
        .to_string()
        .starts_with("/nonexistent/x.jsonl:0:0: expected"));
}

#[test]
fn overlong_line_is_an_error() {
    let mut text = b"t_ms,ax_g,ay_g,az_g\n".to_vec();
    text.extend(std::iter::repeat_n(b'1', MAX_LINE_BYTES + 10));
    let e = err_of("long.csv", &text);
    assert_eq!(e.line, 2);
    assert!(e.expected.contains("at most"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), fmt in 0..4usize) {
        let format = [TraceFormat::Jsonl, TraceFormat::Csv, TraceFormat::SisFall, TraceFormat::FallAllD][fmt];
        if let Ok(reader) = TraceReader::from_reader(Path::new("fuzz"), format, Box::new(Cursor::new(bytes))) {
            for r in reader.take(1000) {
                if r.is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn mutated_valid_traces_never_panic(cut in 0usize..200, byte in any::<u8>(), fmt in 0..4usize) {
        let valid: &[u8] = match fmt {
            0 => b"{\"trace\":\"alarm-button\",\"version\":1}\n{\"t_ms\":0,\"acc_g\":[0,0,1]}\n{\"t_ms\":1,\"button\":\"down\"}\n",
            1 => b"t_ms,ax_g,ay_g,az_g\n0,0,0,1\n1,0.5,0,1\n",
            3 => b"4062,-1428,-45\n4190,-1422,-24\n32764,-32768,0\n",
            _ => b" -9,-257, -25, 84, 247, 27, -120, -987, 63;\r\n -3,-263, -23, 99, 258, 35, -110,-1016, 68;\r\n",
        };
        let mut bytes = valid.to_vec();
        let i = cut % bytes.len();
        bytes[i] = byte;
        let format = [TraceFormat::Jsonl, TraceFormat::Csv, TraceFormat::SisFall, TraceFormat::FallAllD][fmt];
        if let Ok(reader) = TraceReader::from_reader(Path::new("fuzz"), format, Box::new(Cursor::new(bytes))) {
            for r in reader {
                if r.is_err() {
                    break;
                }
            }
        }
    }
}

/// Found by `random_bytes_never_panic`: a multi-byte character where `;` was expected.
#[test]
fn sisfall_line_ending_in_a_multibyte_character_is_an_error() {
    let r = TraceReader::from_reader(
        Path::new("D01_SA01_R01.txt"),
        TraceFormat::SisFall,
        Box::new(std::io::Cursor::new(vec![194u8, 128])),
    )
    .and_then(|mut r| {
        r.next().unwrap_or(Ok(Record {
            t_us: 0,
            kind: RecordKind::BatteryMv(0),
        }))
    });
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn jsonl_refuses_numbers_outside_the_json_grammar() {
    let head = "{\"trace\":\"alarm-button\",\"version\":1}\n";
    for bad in ["01", "1.", "-.5"] {
        for line in [
            format!("{{\"t_ms\":0,\"acc_g\":[{bad},0,1]}}\n"),
            format!("{{\"t_ms\":{bad},\"acc_g\":[0,0,1]}}\n"),
        ] {
            let e = err_of("n.jsonl", format!("{head}{line}").as_bytes());
            assert_eq!(e.line, 2, "{bad}: {e}");
        }
    }
}

/// Issue 14: the JSONL reader accepts exactly JSON numbers, in every field and on
/// both paths (the compact record's fast path and the full parser): `01`, `1.`, `-.5`
/// and friends are refused with the file, line and column.
#[test]
fn jsonl_accepts_exactly_json_numbers() {
    for bad in [
        "01", "1.", "-.5", ".5", "+1", "1e", "-01.5", "00", "1.e3", "0x1",
    ] {
        for line in [
            format!("{{\"t_ms\":0,\"acc_g\":[0,0,{bad}]}}"),
            format!("{{\"t_ms\":0,\"acc_g\":[{bad},0,1]}}"),
            format!("{{\"t_ms\":{bad},\"acc_g\":[0,0,1]}}"),
            format!("{{ \"t_ms\":0, \"acc_g\":[0, {bad}, 1] }}"),
        ] {
            let text = format!("{HEADER}\n{line}\n");
            let (recs, e) = read_all("n.jsonl", text.as_bytes());
            assert!(recs.is_empty(), "{line} was read");
            let e = e.unwrap_or_else(|| panic!("{line}: no error"));
            assert_eq!(e.line, 2, "{line}: {e}");
            assert!(e.column >= 1, "{line}: {e}");
            assert!(e.to_string().contains("n.jsonl:2:"), "{e}");
        }
    }
    for good in ["0", "-0", "0.5", "1e-3", "-2.5E+1", "10"] {
        let text = format!("{HEADER}\n{{\"t_ms\":0,\"acc_g\":[0,0,{good}]}}\n");
        let (recs, e) = read_all("g.jsonl", text.as_bytes());
        assert!(e.is_none() && recs.len() == 1, "{good}: {e:?}");
    }
}
