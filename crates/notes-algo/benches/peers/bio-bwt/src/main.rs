//! `bio-bwt bwt FILE` times rust-bio's `suffix_array` + `bwt` on FILE (a 0 byte appended as
//! the sentinel) and writes the BWT to FILE.bio.bwt; `bio-bwt inverse FILE` times
//! `invert_bwt` on that. Each prints `seconds peak-KiB` (the process's `VmHWM`).

use std::time::Instant;

use bio::data_structures::bwt::{bwt, invert_bwt};
use bio::data_structures::suffix_array::suffix_array;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, file) = match args.as_slice() {
        [_, mode, file] => (mode.as_str(), file.as_str()),
        _ => {
            eprintln!("usage: bio-bwt bwt|inverse FILE");
            std::process::exit(2);
        }
    };
    let out = format!("{file}.bio.bwt");
    let secs = match mode {
        "bwt" => {
            let mut text = std::fs::read(file).expect("cannot read the input");
            if text.contains(&0) {
                eprintln!("{file} holds a 0 byte, which bio needs as the sentinel");
                std::process::exit(1);
            }
            text.push(0);
            let start = Instant::now();
            let sa = suffix_array(&text);
            let last = bwt(&text, &sa);
            let secs = start.elapsed().as_secs_f64();
            drop(sa);
            std::fs::write(&out, &last).expect("cannot write the BWT");
            secs
        }
        "inverse" => {
            let last = std::fs::read(&out).expect("cannot read the BWT");
            let start = Instant::now();
            let text = invert_bwt(&last);
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(text.len(), last.len());
            assert_eq!(text.last(), Some(&0));
            secs
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    println!("{secs} {peak}");
}
