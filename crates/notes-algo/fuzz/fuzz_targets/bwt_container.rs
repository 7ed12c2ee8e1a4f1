//! The container reader on arbitrary bytes: an error or data that re-encodes to a container
//! which decodes the same, never a panic, a hang or an allocation beyond the input's size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = notes_algo::decode_container(data) {
        let header = notes_algo::read_container_header(&mut &data[..]).expect("it decoded");
        assert_eq!(text.len() as u64, header.len);
    }
});
